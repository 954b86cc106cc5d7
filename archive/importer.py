"""Saved pages into the archive (`proposals import`) and stored captures read again (`proposals reparse`).

Pages go in batches, one transaction each: an import killed halfway loses at most the batch in
flight, never part of a record, and running it again completes it (pages already archived are
recognised by their bytes and not parsed again).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urljoin, urlsplit

from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from crawler.parsers import PARSER_VERSION, NotAProposalPage, ProposalRecord, declared_url, parse_detail
from crawler.parsers.encoding import content_type_charset

from .db import session_factory, transaction
from .ingest import CaptureIn, capture_body, ingest_batch, known_captures, site_for_url, touch
from .models import Capture, Proposal, Site

PAGE_SUFFIXES = {".html", ".htm", ".shtml", ".xhtml", ".jhtml", ".jsp", ""}
BATCH = 200


@dataclass
class Summary:
    """What a run did, by outcome (new, changed, unchanged, failed …), and why pages failed."""

    counts: Counter = field(default_factory=Counter)
    failures: list[tuple[str, str]] = field(default_factory=list)

    def add(self, outcome: str, count: int = 1) -> None:
        self.counts[outcome] += count

    def fail(self, what: str, why: str) -> None:
        self.counts["failed"] += 1
        self.failures.append((what, why))

    @property
    def total(self) -> int:
        return sum(self.counts.values())


@dataclass(frozen=True)
class PageFile:
    path: Path
    url: str | None  # from --url; None: the URL the page declares, else its file:// URI


def page_files(paths: Iterable[Path], url: str | None = None) -> Iterator[PageFile]:
    """The files to import: files as given, directories walked recursively for saved pages.

    With `url`, a single file gets that URL and a directory's files get it as their base
    (`--url https://www.haidao.example/` + `art/2023/9/8/x.html`).
    """
    for path in paths:
        if path.is_dir():
            base = url.rstrip("/") + "/" if url else None
            for file in sorted(p for p in path.rglob("*") if p.is_file()):
                relative = file.relative_to(path)
                if any(part.startswith(".") for part in relative.parts) or file.suffix.lower() not in PAGE_SUFFIXES:
                    continue
                yield PageFile(file, urljoin(base, relative.as_posix()) if base else None)
        else:
            yield PageFile(path, url)


def import_pages(engine: Engine, files: Iterable[PageFile], *, site: str | None = None,
                 on_page: Callable[[str], None] | None = None) -> Summary:
    """Import saved pages; a bad file is reported in the summary and skipped."""
    summary = Summary()
    batch: list[tuple[PageFile, bytes]] = []
    for page in files:
        try:
            batch.append((page, page.path.read_bytes()))
        except OSError as error:
            summary.fail(str(page.path), error.strerror or str(error))
            _tick(on_page, "failed")
        if len(batch) >= BATCH:
            _import_batch(engine, batch, site, summary, on_page)
            batch = []
    if batch:
        _import_batch(engine, batch, site, summary, on_page)
    return summary


def _import_batch(engine: Engine, batch: list[tuple[PageFile, bytes]], site: str | None, summary: Summary,
                  on_page: Callable[[str], None] | None) -> None:
    now = dt.datetime.now(dt.UTC)
    with transaction(engine) as session:
        captures: list[tuple[PageFile, CaptureIn]] = []
        sites: dict[str, int] = {}
        for page, body in batch:
            url = page.url or declared_url(body[:16384].decode("latin-1")) or page.path.resolve().as_uri()
            host_key = site or urlsplit(url).netloc or "local"
            if host_key not in sites:
                sites[host_key] = site_for_url(session, url, site).id
            captures.append((page, CaptureIn(sites[host_key], url, body, now, source="import")))
        known = known_captures(session, (capture.key for _, capture in captures))
        if known:
            touch(session, sorted(known), now)
        items: list[tuple[ProposalRecord, CaptureIn]] = []
        for page, capture in captures:
            if capture.key in known:
                summary.add("unchanged")
                _tick(on_page, "unchanged")
                continue
            try:
                items.append((parse_detail(capture.body, capture.url), capture))
            except NotAProposalPage as error:
                summary.fail(str(page.path), f"not a proposal page: {error}")
                _tick(on_page, "failed")
        for outcome in ingest_batch(session, items):
            summary.add(outcome)
            _tick(on_page, outcome)


def _tick(on_page: Callable[[str], None] | None, outcome: str) -> None:
    if on_page is not None:
        on_page(outcome)


# --- reparse ---------------------------------------------------------------------------------------


def reparse_count(engine: Engine, site: str | None = None) -> int:
    with session_factory(engine)() as session:
        return session.scalar(select(func.count()).select_from(_latest_captures(session, site).subquery())) or 0


def _latest_captures(session: Session, site: str | None):
    """The newest capture of every page (by URL), whatever the parser made of it before."""
    newest = (select(Capture.site_id, Capture.url, func.max(Capture.id).label("id"))
              .group_by(Capture.site_id, Capture.url))
    if site:
        newest = newest.join(Site, Site.id == Capture.site_id).where(Site.slug == site)
    return newest


def reparse(engine: Engine, site: str | None = None, on_page: Callable[[str], None] | None = None) -> Summary:
    """Run the current parser over the stored captures again and record what changes."""
    summary = Summary()
    with session_factory(engine)() as session:
        ids = [row.id for row in session.execute(_latest_captures(session, site).order_by("id"))]
    for start in range(0, len(ids), BATCH):
        now = dt.datetime.now(dt.UTC)
        with transaction(engine) as session:
            items = []
            for capture in session.scalars(select(Capture).where(Capture.id.in_(ids[start:start + BATCH]))):
                body = capture_body(capture)
                fresh = CaptureIn(capture.site_id, capture.url, body, capture.fetched_at, source=capture.source,
                                  http_status=capture.http_status, etag=capture.etag,
                                  last_modified=capture.last_modified, content_type=capture.content_type,
                                  crawl_run_id=capture.crawl_run_id)
                charset = content_type_charset(capture.content_type)
                try:
                    items.append((parse_detail(body, capture.url, encoding=charset), fresh))
                except NotAProposalPage as error:
                    capture.parser_version, capture.outcome, capture.error = PARSER_VERSION, error.reason, str(error)
                    had_record = session.scalar(select(Proposal.id).where(Proposal.capture_id == capture.id))
                    summary.add("no record" if not had_record else "failed")
                    if had_record:
                        summary.failures.append((capture.url, str(error)))
                    _tick(on_page, "failed")
            for outcome in ingest_batch(session, items, observed_at=now):
                summary.add(outcome)
                _tick(on_page, outcome)
    return summary
