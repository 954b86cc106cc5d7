"""`proposals`: crawl, import and query the archive of county proposals and suggestions.

A thin shell: each command parses its options and calls one function of crawler/ or archive/.
Errors are one line on stderr; exit codes are 0 (all well), 1 (the work failed in part or in
whole), 2 (bad usage).
"""

from __future__ import annotations

import json
import os
import sys
from enum import StrEnum
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

app = typer.Typer(
    name="proposals",
    help="Crawl, import and query the archive of CPPCC proposals and NPC suggestions published by "
         "Chinese county governments.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)

stdout = Console(highlight=False, soft_wrap=True)
stderr = Console(stderr=True, highlight=False, soft_wrap=True)


class Failure(Exception):
    """An error the user can act on: printed as one line, exit code `code`."""

    def __init__(self, message: str, code: int = 1) -> None:
        super().__init__(message)
        self.code = code


def fail(message: str, code: int = 1) -> typer.Exit:
    """Print a one-line error on stderr and return the Exit to raise."""
    stderr.print(f"error: {message}", markup=False, style="red")
    return typer.Exit(code)


class ParseFormat(StrEnum):
    json = "json"
    table = "table"


def _version(value: bool) -> None:
    if value:
        from importlib.metadata import version

        stdout.print(f"proposals {version('proposal-archive')}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True,
                                 help="Print the version and exit."),
) -> None:
    """Crawl, import and query the archive of CPPCC proposals (政协委员提案) and NPC suggestions
    (人大代表建议) that Chinese county governments publish.

    Example: proposals crawl --all, then proposals query --sponsor 魏巍
    """


# --- parse ---------------------------------------------------------------------------------------


@app.command("parse")
def parse_command(
    file: Path = typer.Argument(..., help="A saved detail page (HTML)."),
    url: str = typer.Option(None, "--url", help="The page's address; default: the URL the page declares "
                                               "(<meta name=\"Url\">), else the file's file:// URI."),
    encoding: str = typer.Option(None, "--encoding", help="The page's charset, as an HTTP header would give it "
                                                         "(default: <meta charset>, then detection)."),
    output: ParseFormat = typer.Option(ParseFormat.json, "--format", "-f", help="json: the RECORD.md keys; "
                                                                              "table: a readable summary."),
) -> None:
    """Parse one saved detail page and print its record.

    Example: proposals parse page.html --url https://www.shengsi.gov.cn/art/2022/8/18/art_1229123456_12345678.html
    """
    from crawler.parsers import NotAProposalPage, declared_url, parse_detail
    from crawler.parsers.encoding import normalize_encoding

    if encoding is not None and normalize_encoding(encoding) is None:
        raise fail(f"unknown encoding: {encoding}")
    try:
        body = file.read_bytes()
    except FileNotFoundError:
        raise fail(f"no such file: {file}") from None
    except IsADirectoryError:
        raise fail(f"{file} is a directory, not a page") from None
    except OSError as error:
        raise fail(f"cannot read {file}: {error.strerror or error}") from None
    page_url = url or declared_url(body[:16384].decode("latin-1")) or file.resolve().as_uri()
    try:
        record = parse_detail(body, page_url, encoding=encoding)
    except NotAProposalPage as error:
        raise fail(f"{file}: not a proposal page: {error}") from None
    if output is ParseFormat.json:
        sys.stdout.write(json.dumps(record.to_dict(), ensure_ascii=False, indent=2) + "\n")
    else:
        print_record(record.to_dict())


def _record_rows(data: dict) -> list[tuple[str, str]]:
    rows = []
    for key, value in data.items():
        if isinstance(value, dict) and key != "extra_fields":
            rows.extend((f"{key}.{sub}", _cell(subvalue)) for sub, subvalue in value.items())
        else:
            rows.append((key, _cell(value)))
    return rows


def print_record(data: dict) -> None:
    """A record as key/value rows: a rich table on a terminal, plain `key<TAB>value` lines when piped."""
    rows = _record_rows(data)
    if stdout.is_terminal:
        table = Table(show_header=False, box=None, pad_edge=False)
        table.add_column("key", style="bold", no_wrap=True)
        table.add_column("value", overflow="fold")
        for key, value in rows:
            table.add_row(key, value)
        stdout.print(table)
    else:
        for key, value in rows:
            sys.stdout.write(f"{key}\t{value.replace(chr(10), chr(10) + chr(9))}\n")


def _cell(value: object, limit: int = 200) -> str:
    if value is None:
        return "—"
    if isinstance(value, list):
        if value and isinstance(value[0], dict):
            return "\n".join(f"{item.get('name')} <{item.get('url')}>" for item in value)
        return "、".join(map(str, value)) or "—"
    if isinstance(value, dict):
        return "\n".join(f"{k}: {'—' if v is None else v}" for k, v in value.items()) or "—"
    text = str(value)
    return text if len(text) <= limit else text[:limit] + f"… ({len(text)} characters)"


def main() -> None:
    """Entry point: run the app, turning any unexpected error into one line on stderr."""
    try:
        app()
    except Failure as error:
        stderr.print(f"error: {error}", markup=False, style="red")
        sys.exit(error.code)
    except KeyboardInterrupt:
        stderr.print("interrupted")
        sys.exit(130)
    except Exception as error:  # a bug: one line unless asked for the whole story
        if os.environ.get("PROPOSALS_DEBUG"):
            raise
        stderr.print(f"error: unexpected {type(error).__name__}: {error} (set PROPOSALS_DEBUG=1 for the traceback)",
                     markup=False, style="red")
        sys.exit(1)


if __name__ == "__main__":
    main()
