"""Pages one at a time: `proposals parse`, `import`, `reparse`."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import typer

from .common import DbOption, RecordFormat, fail, open_db, print_record, print_summary, stderr, ticking


def parse_command(
    file: Path = typer.Argument(..., help="A saved detail page (HTML)."),
    url: str = typer.Option(None, "--url", help="The page's address; default: the URL the page declares "
                                               "(<meta name=\"Url\">), else the file's file:// URI."),
    encoding: str = typer.Option(None, "--encoding", help="The page's charset, as an HTTP header would give it "
                                                         "(default: <meta charset>, then detection)."),
    output: RecordFormat = typer.Option(RecordFormat.json, "--format", "-f", help="json: the RECORD.md keys; "
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
    if output is RecordFormat.json:
        sys.stdout.write(json.dumps(record.to_dict(), ensure_ascii=False, indent=2) + "\n")
    else:
        print_record(record.to_dict())


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
    with ticking("importing", len(files)) as tick:
        try:
            summary = import_pages(engine, files, site=site, on_page=tick)
        except KeyboardInterrupt:
            raise fail("interrupted: the pages imported so far are kept") from None
    _report(summary, f"imported {summary.total} pages")


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
    with ticking("reparsing", reparse_count(engine, site)) as tick:
        try:
            summary = reparse(engine, site, on_page=tick)
        except KeyboardInterrupt:
            raise fail("interrupted: the captures reparsed so far are kept") from None
    _report(summary, f"reparsed {summary.total} captures")


def _report(summary, title: str) -> None:
    """Each failure on a line, then the counts; exit 1 if anything failed."""
    for what, why in summary.failures:
        stderr.print(f"failed: {what}: {why}", markup=False)
    print_summary(title, summary.counts, ("new", "changed", "unchanged", "failed"))
    if summary.counts["failed"]:
        raise typer.Exit(1)
