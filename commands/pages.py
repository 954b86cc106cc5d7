"""Pages one at a time: `proposals parse`, `import`, `reparse`."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from .common import DbOption, RecordFormat, fail, open_db, print_record, print_summary, stderr, ticking

MaxSize = Annotated[str | None, typer.Option(
    "--max-size", envvar="PROPOSALS_MAX_SIZE", show_envvar=True, metavar="SIZE",
    help="Refuse page files larger than this: bytes, or a number with KB, MB or GB. "
         "Default: 16MB, the crawl's download limit.")]


def _max_size(value: str | None) -> int:
    from archive.files import parse_size

    try:
        return parse_size(value)
    except ValueError as error:
        raise fail(f"--max-size: {error}", 2) from None


def parse_command(
    file: Path = typer.Argument(..., help="A saved detail page (HTML)."),
    url: str = typer.Option(None, "--url", help="The page's address; default: the URL the page declares "
                                               "(<meta name=\"Url\">), else the file's file:// URI."),
    encoding: str = typer.Option(None, "--encoding", help="The page's charset, as an HTTP header would give it "
                                                         "(default: <meta charset>, then detection)."),
    output: RecordFormat = typer.Option(RecordFormat.json, "--format", "-f", help="json: the RECORD.md keys; "
                                                                              "table: a readable summary."),
    max_size: MaxSize = None,
) -> None:
    """Parse one saved detail page and print its record.

    A missing or unreadable file, one that is not a regular file (a FIFO, a device) or is over
    the size limit, and a page that is not a proposal page: one line on stderr, exit 1.

    Example: proposals parse page.html --url https://www.shengsi.gov.cn/art/2022/8/18/art_1229123456_12345678.html
    """
    from archive.files import PageRefused, read_page
    from crawler.parsers import NotAProposalPage, declared_url, parse_detail
    from crawler.parsers.encoding import normalize_encoding

    limit = _max_size(max_size)
    if encoding is not None and normalize_encoding(encoding) is None:
        raise fail(f"unknown encoding: {encoding}")
    try:
        body = read_page(file, limit)
    except PageRefused as error:
        raise fail(str(error)) from None
    page_url = url or declared_url(body[:16384].decode("latin-1")) or file.resolve().as_uri()
    try:
        record = parse_detail(body, page_url, encoding=encoding)
    except NotAProposalPage as error:
        raise fail(f"{file}: not a proposal page: {error}") from None
    if output is RecordFormat.json:
        sys.stdout.write(json.dumps(record.to_dict(), ensure_ascii=False, indent=2) + "\n")
    else:
        print_record(record.to_dict())


def import_command(
    paths: list[Path] = typer.Argument(..., help="Saved pages: files, or directories walked recursively."),
    url: str = typer.Option(None, "--url", help="The page's URL (one file), or the base URL of a directory's "
                                               "pages (--url https://www.haidao.example/ for a mirror of the site)."),
    site: str = typer.Option(None, "--site", help="The site slug the pages belong to (default: the registered "
                                                 "site of the URL's host, else the archived one, else the host)."),
    max_size: MaxSize = None,
    db: DbOption = None,
) -> None:
    """Import saved pages into the archive, with a progress bar and a summary.

    Pages already archived (the same bytes at the same URL) are not parsed again; the same bytes
    archived under another URL are counted as duplicates. A bad file in a directory (unreadable,
    not a regular file, over the size limit, not a proposal page) or a record the archive refuses
    is reported and skipped; the exit code is 1 if any failed. A named path that is missing, not a
    regular file or over the limit stops the import before it starts (exit 1).

    Example: proposals import mirror/www.haidao.example --url https://www.haidao.example/
    """
    from archive.files import PageRefused, check_page, page_files
    from crawler.sites import SitesError, registry

    limit = _max_size(max_size)
    if url is not None and "://" not in url:
        raise fail(f"--url needs an absolute URL, not {url}", 2)
    for path in paths:
        if not path.is_dir():
            try:
                check_page(path, limit)
            except PageRefused as error:
                message = f"no such file or directory: {path}" if error.reason == "no such file" else str(error)
                raise fail(message) from None
    try:
        sites = registry()
    except SitesError as error:
        raise fail(str(error), 2) from None
    files = list(page_files(paths, url))
    engine = open_db(db)
    summary = _run("importing", len(files), "the pages imported so far are kept",
                   lambda tick: _import(engine, files, site, sites, limit, tick))
    _report(summary, f"imported {summary.total} pages")


def _import(engine, files, site, sites, limit, tick):
    from archive.importer import import_pages

    return import_pages(engine, files, site=site, sites=sites, max_size=limit, on_page=tick)


def reparse_command(
    site: str = typer.Option(None, "--site", help="Only this site's captures."),
    db: DbOption = None,
) -> None:
    """Re-run the current parser over the stored captures and record what changes.

    Each change a better parser makes is written as revisions, like a change on the site. An
    unknown --site is an error (exit 2).

    Example: proposals reparse --site haidao
    """
    from archive.importer import UnknownSite, reparse, reparse_count

    engine = open_db(db)
    try:
        total = reparse_count(engine, site)
    except UnknownSite as error:
        raise fail(str(error), 2) from None
    summary = _run("reparsing", total, "the captures reparsed so far are kept",
                   lambda tick: reparse(engine, site, on_page=tick))
    _report(summary, f"reparsed {summary.total} captures")


def _run(description: str, total: int, kept: str, work):
    """`work(tick)` under a progress bar; an interruption or a failing archive is one line, exit 1."""
    from sqlalchemy.exc import SQLAlchemyError

    from archive.db import first_line

    with ticking(description, total) as tick:
        try:
            return work(tick)
        except KeyboardInterrupt:
            raise fail(f"interrupted: {kept}") from None
        except SQLAlchemyError as error:
            raise fail(f"the archive failed: {first_line(error)} ({kept})") from None


def _report(summary, title: str) -> None:
    """Each failure and duplicate on a line, then the counts; exit 1 if anything failed."""
    for what, why in summary.failures:
        stderr.print(f"failed: {what}: {why}", markup=False)
    for what, note in summary.notes:
        stderr.print(f"{what}: {note}", markup=False)
    print_summary(title, summary.counts, ("new", "changed", "unchanged", "failed"))
    if summary.counts["failed"]:
        raise typer.Exit(1)
