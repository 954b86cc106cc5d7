"""`proposals`: crawl, import and query the archive of county proposals and suggestions.

A thin shell: each command parses its options and calls one function of crawler/ or archive/;
the commands live in commands/, one module per group. Errors are one line on stderr; exit codes
are 0 (all well), 1 (the work failed in part or in whole), 2 (bad usage).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator, Mapping, MutableMapping
from importlib import import_module

import typer
from typer.core import TyperGroup

from commands import coercion
from commands.common import stderr, stdout

coercion.install()  # Typer's per-parameter Pydantic validators only where a value needs them

# (name, module, attribute), in the order --help lists them: a command is a function, a group a
# Typer app. Each is imported and turned into a Click command only when it is run or listed, so
# `proposals --version` and `proposals query` pay for no other command's imports and parameters.
COMMANDS: tuple[tuple[str, str, str], ...] = (
    ("crawl", "commands.crawling", "crawl_command"),
    ("import", "commands.pages", "import_command"),
    ("reparse", "commands.pages", "reparse_command"),
    ("parse", "commands.pages", "parse_command"),
    *((name, "commands.analysis", f"{name.replace('-', '_')}_command")
      for name in ("query", "show", "history", "stats", "sponsors", "units", "export", "datasette-metadata")),
    ("attachments", "commands.attachments", "app"),
    ("sites", "commands.crawling", "sites_app"),
    ("demo", "commands.demo", "demo_command"),
    ("db", "commands.schema", "app"),
)
_WHERE = {name: (module, attribute) for name, module, attribute in COMMANDS}


class _LazyCommands(MutableMapping):
    """The root group's commands by name, each built on first access (Click asks by name)."""

    def __init__(self, built: Mapping, build) -> None:
        self._built = dict(built)
        self._build = build

    def __getitem__(self, name: str):
        if name not in self._built:
            self._built[name] = self._build(name)
        return self._built[name]

    def __setitem__(self, name: str, command) -> None:
        self._built[name] = command

    def __delitem__(self, name: str) -> None:
        del self._built[name]

    def __iter__(self) -> Iterator[str]:
        yield from dict.fromkeys([*self._built, *_WHERE])

    def __len__(self) -> int:
        return sum(1 for _ in self)


class _LazyGroup(TyperGroup):
    def __init__(self, **attrs) -> None:
        super().__init__(**attrs)
        self.commands = _LazyCommands(self.commands, _build_command)


def _build_command(name: str):
    from typer.main import get_command_from_info, get_group_from_info
    from typer.models import CommandInfo, TyperInfo

    module, attribute = _WHERE[name]  # a KeyError for a name that is no command, as a dict says
    target = getattr(import_module(module), attribute)
    # what app.command(name) and app.add_typer(target, name=name) would have built, with the app's settings
    settings = {"pretty_exceptions_short": app.pretty_exceptions_short, "rich_markup_mode": app.rich_markup_mode}
    if isinstance(target, typer.Typer):
        return get_group_from_info(TyperInfo(target, name=name), suggest_commands=app.suggest_commands, **settings)
    return get_command_from_info(CommandInfo(name=name, callback=target), **settings)


app = typer.Typer(
    name="proposals",
    cls=_LazyGroup,
    help="Crawl, import and query the archive of CPPCC proposals (政协委员提案) and NPC suggestions "
         "(人大代表建议) that Chinese county governments publish.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        from importlib.metadata import version

        sys.stdout.write(f"proposals {version('proposal-archive')}\n")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True,
                                 help="Print the version and exit."),
) -> None:
    """Example: proposals crawl --all, then proposals query --sponsor 魏巍"""


# Start-up makes only objects that live as long as the process (modules, classes, the command's
# statements), which the cyclic garbage collector would scan again and again in vain: a tenth of a
# query's CPU. It is paused for this long, then runs as usual, those objects frozen out of its scans.
START_UP_SECONDS = 0.5


def _pause_collector(seconds: float = START_UP_SECONDS) -> None:
    import gc
    import threading

    def resume() -> None:
        gc.freeze()
        gc.enable()

    gc.disable()
    timer = threading.Timer(seconds, resume)
    timer.daemon = True
    timer.start()


def main() -> None:
    """Entry point: usage errors and unexpected errors become one line on stderr (exit 2 and 1);
    a closed stdout (`proposals query | head -1`) ends the command quietly (exit 1)."""
    _pause_collector()
    try:  # Typer vendors Click from 0.2x on; older ones use Click itself
        from typer._click.exceptions import ClickException, NoArgsIsHelpError, UsageError
    except ImportError:  # pragma: no cover
        from click.exceptions import ClickException, NoArgsIsHelpError, UsageError

    try:
        # without standalone mode, an Exit raised by a command comes back as its code
        code = app(standalone_mode=False, prog_name="proposals")
        sys.stdout.flush()  # a reader gone away shows here, not in the interpreter's last flush
    except BrokenPipeError:
        _stdout_closed()
    except NoArgsIsHelpError as error:
        stdout.print(error.ctx.get_help(), markup=False)
        sys.exit(2)
    except UsageError as error:
        hint = f" (see {error.ctx.command_path} --help)" if error.ctx is not None else ""
        _error(f"{error.format_message()}{hint}", 2)
    except ClickException as error:
        _error(error.format_message(), error.exit_code)
    except typer.Exit as error:
        _flush_or_quit()
        sys.exit(error.exit_code)
    except (typer.Abort, KeyboardInterrupt):
        stderr.print("interrupted", markup=False)
        sys.exit(1)
    except Exception as error:
        from archive.db import ArchiveUsageError, first_line

        if isinstance(error, ArchiveUsageError):  # a --db URL or a setting the archive cannot use
            _error(str(error), 2)
        if os.environ.get("PROPOSALS_DEBUG"):
            raise
        # a bug: one line unless asked for the whole story
        _error(f"unexpected {type(error).__name__}: {first_line(error)} (set PROPOSALS_DEBUG=1 for the traceback)", 1)
    sys.exit(code if isinstance(code, int) else 0)


def _error(message: str, code: int) -> None:
    stderr.print(f"error: {message}", markup=False, style="red")
    sys.exit(code)


def _flush_or_quit() -> None:
    try:
        sys.stdout.flush()
    except BrokenPipeError:
        _stdout_closed()


def _stdout_closed() -> None:
    """The reader of stdout went away: stop without a word, as the Python docs advise (SIGPIPE)."""
    # Python flushes stdout once more on the way out: point it at /dev/null so that flush is quiet
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    sys.exit(1)


if __name__ == "__main__":
    main()
