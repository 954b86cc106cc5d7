"""What every command shares: consoles, one-line errors, the --db option, progress, output forms."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from rich.progress import Progress


# what makes rich treat a stream that is no terminal as one
_FORCING = ("FORCE_COLOR", "TTY_COMPATIBLE")


def _unchanged_by_rich(text: object) -> bool:
    """Text that rich prints as it is to a stream that is no terminal: no tabs (expanded), control
    characters (dropped) or :emoji: codes (replaced)."""
    return isinstance(text, str) and text.replace("\n", "").isprintable() and text.count(":") < 2


class _LazyConsole:
    """A rich Console made on first use: a command that prints nothing rich never imports rich, and
    one whose output goes to a pipe or a file prints its plain lines without it (rich would print
    them unchanged there; importing it costs a piped query a tenth of its start-up)."""

    def __init__(self, **options) -> None:
        self._options = options
        self._console = None

    def _rich(self):
        if self._console is None:
            from rich.console import Console

            self._console = Console(highlight=False, soft_wrap=True, **self._options)
        return self._console

    def __getattr__(self, name: str):
        return getattr(self._rich(), name)

    def _stream(self):
        return sys.stderr if self._options.get("stderr") else sys.stdout

    def _plain(self) -> bool:
        if self._console is not None or any(os.environ.get(name) for name in _FORCING):
            return False
        try:
            return not self._stream().isatty()
        except (AttributeError, ValueError):  # a closed or unusual stream: let rich decide
            return False

    @property
    def is_terminal(self) -> bool:
        return False if self._plain() else self._rich().is_terminal

    def print(self, *objects, markup: bool | None = None, style: str | None = None, **options) -> None:
        if not options and markup is False and self._plain() and all(map(_unchanged_by_rich, objects)):
            self._stream().write(" ".join(objects) + "\n")
            return
        self._rich().print(*objects, markup=markup, style=style, **options)


stdout = _LazyConsole()
stderr = _LazyConsole(stderr=True)


def fail(message: str, code: int = 1) -> typer.Exit:
    """Print a one-line error on stderr and return the Exit to raise."""
    stderr.print(f"error: {message}", markup=False, style="red")
    return typer.Exit(code)


DbOption = Annotated[str | None, typer.Option(
    "--db", envvar="PROPOSALS_DB", show_envvar=True,
    help="The archive: a SQLAlchemy URL (postgresql://…, sqlite:///…) or a SQLite file. Default: ./proposals.db.")]


def open_db(db: str | None, *, create: bool = True):
    """The archive's engine, or a one-line error: exit 2 for a missing archive to read, 1 otherwise."""
    from archive.db import ArchiveError, MissingArchive, open_archive

    try:
        return open_archive(db, create=create)
    except MissingArchive as error:
        raise fail(str(error), 1 if create else 2) from None
    except ArchiveError as error:
        raise fail(str(error), 1) from None


@contextmanager
def progress_bar(description: str, total: int | None) -> Iterator[Progress]:
    """A progress bar on stderr when it is a terminal (silent otherwise)."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    progress = Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                        TextColumn("{task.fields[status]}"), TimeElapsedColumn(), console=stderr,
                        disable=not stderr.is_terminal, transient=False)
    with progress:
        progress.add_task(description, total=total, status="")
        yield progress


def print_summary(title: str, counts: dict[str, int], order: tuple[str, ...]) -> None:
    parts = [f"{counts.get(name, 0)} {name}" for name in order]
    parts += [f"{count} {name}" for name, count in counts.items() if name not in order and count]
    stderr.print(f"{title}: " + ", ".join(parts), markup=False)


@contextmanager
def ticking(description: str, total: int | None) -> Iterator:
    """A progress bar and the callback that advances it by one page, showing its outcome."""
    with progress_bar(description, total) as progress:
        def tick(outcome: str) -> None:
            progress.advance(progress.task_ids[0])
            progress.update(progress.task_ids[0], status=outcome)

        yield tick


class RecordFormat(StrEnum):
    json = "json"
    table = "table"


def record_rows(data: dict, limit: int | None = 200) -> list[tuple[str, str]]:
    rows = []
    for key, value in data.items():
        if isinstance(value, dict) and key != "extra_fields":
            rows.extend((f"{key}.{sub}", cell(subvalue, limit)) for sub, subvalue in value.items())
        else:
            rows.append((key, cell(value, limit)))
    return rows


def print_record(data: dict, limit: int | None = 200) -> None:
    """A record as key/value rows: a rich table on a terminal, plain `key<TAB>value` lines when piped.
    Long texts are cut at `limit` characters (None: printed whole)."""
    rows = record_rows(data, limit)
    if stdout.is_terminal:
        from rich.table import Table

        table = Table(show_header=False, box=None, pad_edge=False)
        table.add_column("key", style="bold", no_wrap=True)
        table.add_column("value", overflow="fold")
        for key, value in rows:
            table.add_row(key, value)
        stdout.print(table)
    else:
        for key, value in rows:
            sys.stdout.write(f"{key}\t{value.replace(chr(10), chr(10) + chr(9))}\n")


def cell(value: object, limit: int | None = 200) -> str:
    if value is None:
        return "—"
    if isinstance(value, list):
        if value and isinstance(value[0], dict):
            return "\n".join(f"{item.get('name')} <{item.get('url')}>" for item in value)
        return "、".join(map(str, value)) or "—"
    if isinstance(value, dict):
        return "\n".join(f"{k}: {'—' if v is None else v}" for k, v in value.items()) or "—"
    text = str(value)
    return text if limit is None or len(text) <= limit else text[:limit] + f"… ({len(text)} characters)"


