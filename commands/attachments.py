"""`proposals attachments fetch|list`: the records' attached files (reply letters as PDF, DOCX, DOC, WPS)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import typer

from .common import DbOption, RecordFormat, fail, stdout
from .crawling import SitesOption, _crawl, _overrides
from .filters import filtered

app = typer.Typer(help="The records' attached files: fetch them, list them.", no_args_is_help=True)


@app.command("fetch")
@filtered
def fetch_command(
    filters,
    again: bool = typer.Option(False, "--again", help="Ask for the files read before too (conditionally: "
                                                      "an unchanged file is not downloaded again)."),
    sites_file: SitesOption = None,
    settings: list[str] = typer.Option(None, "--set", metavar="NAME=VALUE",
                                       help="Override a crawler setting (DOWNLOAD_DELAY=0 …)."),
    log: Path | None = typer.Option(None, "--log", metavar="FILE", help="Where Scrapy's log goes (appended)."),
    db: DbOption = None,
) -> None:
    """Fetch the attached files of archived records that are not read yet, and read them.

    The records are those the filters choose (all without filters). Files never fetched, or
    whose last fetch failed, was blocked or was over the size limit, are asked for, politely
    and on the site's own hosts (and its allowed_hosts) as a crawl asks; --again asks for the
    others too, conditionally. Where a record's page gives no reply letter, the letter read from
    its attachment becomes the reply (reply.source "attachment"). Exit 1 if a file could not be
    fetched.

    Example: proposals attachments fetch --site haidao --year 2023
    """
    from dataclasses import replace

    from sqlalchemy import select

    from archive.models import Proposal, Site
    from archive.query import iter_ids
    from crawler.sites import SiteConfig, SitesError, registry
    from crawler.state import FileChoice

    from .analysis import _session

    overrides = _overrides(settings)
    with _session(db, filters, orm=True) as session:
        ids = frozenset(i for chunk in iter_ids(session, filters) for i in chunk)
        sites = session.execute(select(Site.slug, Site.name, Site.base_url).where(
            Site.id.in_(select(Proposal.site_id).where(Proposal.id.in_(sorted(ids)))))).all() if ids else []
    if not ids:
        raise fail("no records match: no attachments to fetch", 1)
    try:
        known = registry(sites_file)
    except SitesError as error:
        raise fail(str(error), 2) from None
    chosen = []
    for slug, name, base in sorted(sites):
        config = known.get(slug) or SiteConfig(slug, name, (), base_url=base)
        if not config.base_url and not config.columns:
            continue
        chosen.append(replace(config, columns=(), base_url=config.base_url or config.origin))
    _crawl(chosen, overrides, db, False, log, files=FileChoice(ids, unread=True, again=again), pages=False)


@app.command("list")
def list_command(
    record_id: int = typer.Argument(..., metavar="ID", help="The record's id (from query)."),
    output: RecordFormat = typer.Option(RecordFormat.table, "--format", "-f", help="table or json."),
    db: DbOption = None,
) -> None:
    """Show a record's attached files and what became of each.

    For each: name, status (read, scanned, not-read, unreadable, too-large, failed, blocked, not
    fetched), format, size, when fetched, URL, and why it is not read (json adds sha256 …).

    Example: proposals attachments list 12
    """
    from archive.attachments import files_of
    from archive.models import Proposal

    from .analysis import _record_id, _session

    with _session(db, orm=True) as session:
        record_id = _record_id(record_id)
        if session.get(Proposal, record_id) is None:
            raise fail(f"no record with id {record_id}", 1)
        files = files_of(session, record_id)
    if output is RecordFormat.json:
        sys.stdout.write(json.dumps(files, ensure_ascii=False, indent=2) + "\n")
        return
    if not files:
        stdout.print("no attachments", markup=False)
        return
    for file in files:
        size = f"{file['size']} bytes" if file["size"] is not None else "-"
        fields = [file["name"], file["status"], file["format"] or "-", size, file["fetched_at"] or "-", file["url"]]
        if file["detail"]:
            fields.append(file["detail"])
        stdout.print("\t".join(fields), markup=False, soft_wrap=True)
