"""`proposals`: crawl, import and query the archive of county proposals and suggestions.

A thin shell: each command parses its options and calls one function of crawler/ or archive/.
Errors are one line on stderr; exit codes are 0 (all well), 1 (the work failed in part or in
whole), 2 (bad usage).
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
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


DbOption = Annotated[str | None, typer.Option(
    "--db", envvar="PROPOSALS_DB", show_envvar=True,
    help="The archive: a SQLAlchemy URL (postgresql://…, sqlite:///…) or a SQLite file. Default: ./proposals.db.")]


def open_db(db: str | None, *, create: bool = True):
    """The archive's engine, or a one-line error: exit 2 for a missing file to read, 1 otherwise."""
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


# --- import, reparse ------------------------------------------------------------------------------


@app.command("import")
def import_command(
    paths: list[Path] = typer.Argument(..., help="Saved pages: files, or directories walked recursively."),
    url: str = typer.Option(None, "--url", help="The page's URL (one file), or the base URL of a directory's "
                                               "pages (--url https://www.haidao.example/ for a mirror of the site)."),
    site: str = typer.Option(None, "--site", help="The site slug the pages belong to (default: by URL host)."),
    db: DbOption = None,
) -> None:
    """Import saved pages into the archive, with a progress bar and a summary.

    Pages already archived (the same bytes at the same URL) are not parsed again. A bad file is
    reported and skipped; the exit code is 1 if any failed.

    Example: proposals import mirror/www.haidao.example --url https://www.haidao.example/
    """
    from archive.importer import import_pages, page_files

    missing = [str(path) for path in paths if not path.exists()]
    if missing:
        raise fail(f"no such file or directory: {missing[0]}")
    if url is not None and "://" not in url:
        raise fail(f"--url needs an absolute URL, not {url}", 2)
    files = list(page_files(paths, url))
    engine = open_db(db)
    with progress_bar("importing", len(files)) as progress:
        def tick(outcome: str) -> None:
            progress.advance(progress.task_ids[0])
            progress.update(progress.task_ids[0], status=outcome)

        try:
            summary = import_pages(engine, files, site=site, on_page=tick)
        except KeyboardInterrupt:
            raise fail("interrupted: the pages imported so far are kept") from None
    for what, why in summary.failures:
        stderr.print(f"failed: {what}: {why}", markup=False)
    print_summary(f"imported {summary.total} pages", summary.counts, ("new", "changed", "unchanged", "failed"))
    if summary.counts["failed"]:
        raise typer.Exit(1)


@app.command("reparse")
def reparse_command(
    site: str = typer.Option(None, "--site", help="Only this site's captures."),
    db: DbOption = None,
) -> None:
    """Re-run the current parser over the stored captures and record what changes.

    Each change a better parser makes is written as revisions, like a change on the site.

    Example: proposals reparse --site haidao
    """
    from archive.importer import reparse, reparse_count

    engine = open_db(db)
    with progress_bar("reparsing", reparse_count(engine, site)) as progress:
        def tick(outcome: str) -> None:
            progress.advance(progress.task_ids[0])
            progress.update(progress.task_ids[0], status=outcome)

        try:
            summary = reparse(engine, site, on_page=tick)
        except KeyboardInterrupt:
            raise fail("interrupted: the captures reparsed so far are kept") from None
    for what, why in summary.failures:
        stderr.print(f"failed: {what}: {why}", markup=False)
    print_summary(f"reparsed {summary.total} captures", summary.counts, ("new", "changed", "unchanged", "failed"))
    if summary.counts["failed"]:
        raise typer.Exit(1)


# --- crawl, sites -----------------------------------------------------------------------------------

SitesOption = Annotated[Path | None, typer.Option(
    "--sites", envvar="PROPOSALS_SITES", show_envvar=True,
    help="Your own sites file (TOML), merged over the shipped registry.")]


def _registry(sites_file: Path | None) -> dict:
    from crawler.sites import SitesError, registry

    try:
        return registry(sites_file)
    except SitesError as error:
        raise fail(str(error), 2) from None


def _own_sites(sites_file: Path | None) -> dict:
    from crawler.sites import SitesError, builtin_sites, load_file

    path = sites_file or os.environ.get("PROPOSALS_SITES")
    try:
        return load_file(Path(path)) if path else builtin_sites()
    except SitesError as error:
        raise fail(str(error), 2) from None


def _overrides(values: list[str] | None) -> dict[str, str]:
    overrides = {}
    for value in values or []:
        name, sep, setting = value.partition("=")
        if not sep or not name.strip():
            raise fail(f"--set takes NAME=VALUE, not {value}", 2)
        overrides[name.strip()] = setting.strip()
    return overrides


@app.command("crawl")
def crawl_command(
    sites: list[str] = typer.Argument(None, help="Slugs of registered sites (see `proposals sites list`)."),
    all_sites: bool = typer.Option(False, "--all", help="Every site of your sites file if you give one, "
                                                        "else every shipped site."),
    sites_file: SitesOption = None,
    url: list[str] = typer.Option(None, "--url", help="A column URL to crawl (repeatable), registered or not."),
    full: bool = typer.Option(False, "--full", help="Walk every list and refetch every page."),
    settings: list[str] = typer.Option(None, "--set", metavar="NAME=VALUE",
                                       help="Override a crawler setting (DOWNLOAD_DELAY=0, LOG_LEVEL=INFO …)."),
    db: DbOption = None,
) -> None:
    """Crawl the proposal columns of sites into the archive, incrementally.

    Lists are walked until they reach archived records; records without a final reply or status
    are revalidated with conditional GETs. Blocked and challenge pages are reported and kept as
    captures, never archived as records. Exit 0 when all went well, 1 when a page failed or was
    blocked, 2 on bad usage. Ctrl-C stops cleanly and keeps what was archived.

    Example: proposals crawl zhoushan    or    proposals crawl --url http://127.0.0.1:8123/col/col1229511203/index.html
    """
    from crawler.sites import adhoc_site

    known = _registry(sites_file)
    unknown = [slug for slug in sites or [] if slug not in known]
    if unknown:
        raise fail(f"unknown site: {unknown[0]} (known: {', '.join(sorted(known)) or 'none'})", 2)
    chosen = [known[slug] for slug in dict.fromkeys(sites or [])]
    if all_sites:  # your own file names the sites you crawl; without one, the shipped registry does
        chosen += [site for slug, site in _own_sites(sites_file).items() if site not in chosen]
    for column in url or []:
        if "://" not in column:
            raise fail(f"--url needs an absolute column URL, not {column}", 2)
        chosen.append(adhoc_site(column))
    if not chosen:
        raise fail("nothing to crawl: name sites, or give --all or --url", 2)
    overrides = {"LOG_LEVEL": "WARNING"} | _overrides(settings)
    _crawl(chosen, overrides, db, full)


def _crawl(chosen: list, overrides: dict[str, str], db: str | None, full: bool) -> None:
    from archive.db import ArchiveError
    from crawler.runner import crawl_settings, open_state, run_crawl

    crawl_config = crawl_settings(overrides, db=db)
    try:
        state = open_state(chosen, crawl_config, full=full)
    except ArchiveError as error:
        raise fail(str(error), 1) from None
    from rich.live import Live

    with Live(get_renderable=lambda: _crawl_table(state), console=stderr, refresh_per_second=4,
              transient=False) if stderr.is_terminal else _nothing():
        result = run_crawl(state, crawl_config)
    counts = result.counts
    stderr.print(
        f"crawled {len(result.per_site)} site{'s' if len(result.per_site) != 1 else ''}: "
        f"{counts['listed']} listed, {counts['fetched']} fetched, {counts['not_modified']} not modified; "
        f"{counts['new']} new, {counts['changed']} changed, {counts['unchanged']} unchanged; "
        f"{counts['blocked']} blocked, {counts['failed']} failed"
        + ("" if result.finish_reason == "finished" else f" (stopped: {result.finish_reason})"), markup=False)
    if not result.ok:
        raise typer.Exit(1)


@contextmanager
def _nothing():
    yield


def _crawl_table(state) -> Table:
    table = Table(box=None, pad_edge=False)
    for column in ("site", "listed", "fetched", "304", "new", "changed", "unchanged", "blocked", "failed"):
        table.add_column(column, justify="left" if column == "site" else "right")
    with state.lock:
        for slug, site in state.sites.items():
            c = site.counts
            table.add_row(slug, *(str(c[k]) for k in ("listed", "fetched", "not_modified", "new", "changed",
                                                        "unchanged", "blocked", "failed")))
    return table


sites_app = typer.Typer(help="The site registry.", no_args_is_help=True)
app.add_typer(sites_app, name="sites")


@sites_app.command("list")
def sites_list(
    sites_file: SitesOption = None,
    output: ParseFormat = typer.Option(ParseFormat.table, "--format", "-f", help="table or json."),
) -> None:
    """Show the registered sites and their columns (the shipped registry plus yours).

    Example: proposals sites list --sites my-sites.toml
    """
    known = _registry(sites_file)
    if output is ParseFormat.json:
        rows = [{"slug": s.slug, "name": s.name, "platform": s.platform, "columns": list(s.columns)}
                for s in known.values()]
        sys.stdout.write(json.dumps(rows, ensure_ascii=False, indent=2) + "\n")
        return
    if stdout.is_terminal:
        table = Table("slug", "name", "platform", "columns")
        for site in known.values():
            table.add_row(site.slug, site.name, site.platform or "detected", "\n".join(site.columns))
        stdout.print(table)
    else:
        for site in known.values():
            for column in site.columns:
                sys.stdout.write(f"{site.slug}\t{site.name}\t{site.platform or 'detected'}\t{column}\n")


# --- db --------------------------------------------------------------------------------------------

db_app = typer.Typer(help="The archive's schema: upgrade, current revision, drift check.", no_args_is_help=True)
app.add_typer(db_app, name="db")


def _engine_for_schema(db: str | None):
    from archive.db import ArchiveError, make_engine, resolve_url

    try:
        return make_engine(resolve_url(db)[0])
    except ArchiveError as error:
        raise fail(str(error), 2) from None


@db_app.command("upgrade")
def db_upgrade(db: DbOption = None) -> None:
    """Create the archive or bring its schema to the newest revision.

    Example: proposals db upgrade --db postgresql://user@host/proposals
    """
    from archive.db import current_revision, head_revision, upgrade

    engine = _engine_for_schema(db)
    try:
        before = current_revision(engine)
        upgrade(engine)
    except Exception as error:
        raise fail(f"upgrade failed: {_first_line(error)}") from None
    head = head_revision()
    stdout.print(f"schema at {head}" + (" (was already)" if before == head else f" (was {before or 'empty'})"),
                 markup=False)


@db_app.command("current")
def db_current(db: DbOption = None) -> None:
    """Print the archive's schema revision and whether it is the newest.

    Example: proposals db current
    """
    from archive.db import current_revision, head_revision

    engine = _engine_for_schema(db)
    try:
        current = current_revision(engine)
    except Exception as error:
        raise fail(f"cannot read the archive: {_first_line(error)}") from None
    head = head_revision()
    stdout.print(f"{current or 'empty'}" + (" (head)" if current == head else f" (behind: head is {head})"),
                 markup=False)
    if current != head:
        raise typer.Exit(1)


@db_app.command("check")
def db_check(db: DbOption = None) -> None:
    """Check that the archive's schema matches the code (no drift); exit 1 if not.

    Example: proposals db check --db sqlite:///proposals.db
    """
    from alembic.util import AutogenerateDiffsDetected

    from archive.db import check

    engine = _engine_for_schema(db)
    try:
        check(engine)
    except AutogenerateDiffsDetected as error:
        raise fail(f"schema drift: {_first_line(error)}") from None
    except Exception as error:
        raise fail(f"cannot check the archive: {_first_line(error)}") from None
    stdout.print("no drift: the schema matches the models", markup=False)


def _first_line(error: BaseException) -> str:
    text = str(getattr(error, "orig", None) or error).strip()
    return text.splitlines()[0] if text else type(error).__name__


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
