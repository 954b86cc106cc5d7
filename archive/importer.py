"""Saved pages into the archive (`proposals import`) and stored captures read again (`proposals reparse`).

Pages are read one at a time and go in batches (at most BATCH pages and BATCH_BYTES of page
bytes, so memory does not grow with the number of pages), one transaction each: an import
killed halfway loses at most the batch in flight, never part of a record, and running it again
completes it (pages already archived are recognised by their bytes and not parsed again).
Pages are parsed between two short transactions, never while holding the archive's write lock,
so that another import or a crawl writes in the meantime.

An imported page belongs to the registered site of its host (the site a crawl of that host
uses), else the archived site of its host, else a new site named after the host. Bytes that are
archived as a record under another URL are the same page saved twice: counted as `duplicate`,
not archived again.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from sqlalchemy import Engine, func, select, update

from crawler.parsers import PARSER_VERSION, NotAProposalPage, declared_url, parse_detail
from crawler.parsers.encoding import content_type_charset

from .attachments import ATTACHMENT, reread_files
from .db import ArchiveError, session_factory, transaction
from .files import MAX_PAGE_SIZE, PageFile, PageRefused, page_files, read_page
from .ingest import (
    CaptureIn,
    Failed,
    ensure_site,
    ingest_batch,
    known_captures,
    records_elsewhere,
    site_for_url,
    touch,
)
from .models import Capture, Proposal, Site

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from crawler.sites import SiteConfig

__all__ = ["BATCH", "BATCH_BYTES", "PageFile", "Summary", "UnknownSite", "import_pages", "page_files", "reparse",
           "reparse_count"]

BATCH = 200
BATCH_BYTES = 16 * 1024 * 1024


class UnknownSite(ArchiveError):
    """A --site the archive has no captures for."""


@dataclass
class Summary:
    """What a run did, by outcome (new, changed, unchanged, duplicate, failed …), why pages failed,
    and what the duplicates duplicate."""

    counts: Counter = field(default_factory=Counter)
    failures: list[tuple[str, str]] = field(default_factory=list)
    notes: list[tuple[str, str]] = field(default_factory=list)

    def add(self, outcome: str, count: int = 1) -> None:
        self.counts[outcome] += count

    def fail(self, what: str, why: str) -> None:
        self.counts["failed"] += 1
        self.failures.append((what, why))

    def duplicate(self, what: str, of: str) -> None:
        self.counts["duplicate"] += 1
        self.notes.append((what, f"duplicate of {of}: the same bytes are archived there"))

    @property
    def total(self) -> int:
        return sum(self.counts.values())


@dataclass(frozen=True, slots=True)
class _Page:
    path: Path
    url: str
    body: bytes
    sha256: str


class _Sites:
    """Which site an imported page goes to (see the module's doc), resolved once per host."""

    def __init__(self, slug: str | None, registered: Mapping[str, SiteConfig]) -> None:
        self.slug = slug
        self.registered = registered
        self.by_host: dict[str, SiteConfig] = {}
        for config in registered.values():
            for url in (config.base_url, *config.columns):
                host = urlsplit(url or "").netloc.lower()
                if host:
                    self.by_host.setdefault(host, config)
        self.ids: dict[str, int] = {}

    def site_id(self, session: Session, url: str) -> int:
        key = self.slug or urlsplit(url).netloc.lower()
        if key not in self.ids:
            config = self.registered.get(self.slug) if self.slug else self.by_host.get(key)
            if config is not None:
                site = ensure_site(session, config.slug, name=config.name, base_url=config.origin,
                                   platform=config.platform)
            else:
                site = site_for_url(session, url, self.slug)
            self.ids[key] = site.id
        return self.ids[key]


def import_pages(engine: Engine, files: Iterable[PageFile], *, site: str | None = None,
                 sites: Mapping[str, SiteConfig] | None = None, max_size: int = MAX_PAGE_SIZE,
                 on_page: Callable[[str], None] | None = None) -> Summary:
    """Import saved pages; a bad file is reported in the summary and skipped.

    `site`: the slug every page goes to; `sites`: the registry whose hosts decide the site
    otherwise (crawler.sites.registry()); `max_size`: the largest page file read."""
    summary = Summary()
    resolver = _Sites(site, sites or {})
    batch: list[_Page] = []
    size = 0
    for page in files:
        try:
            body = read_page(page.path, max_size)
        except PageRefused as error:
            summary.fail(str(page.path), error.reason)
            _tick(on_page, "failed")
            continue
        if batch and (len(batch) >= BATCH or size + len(body) > BATCH_BYTES):
            _import_batch(engine, batch, resolver, summary, on_page)
            batch, size = [], 0
        url = page.url or declared_url(body[:16384].decode("latin-1")) or page.path.resolve().as_uri()
        batch.append(_Page(page.path, url, body, hashlib.sha256(body).hexdigest()))
        size += len(body)
    if batch:
        _import_batch(engine, batch, resolver, summary, on_page)
    return summary


def _import_batch(engine: Engine, batch: list[_Page], resolver: _Sites, summary: Summary,
                  on_page: Callable[[str], None] | None) -> None:
    now = dt.datetime.now(dt.UTC)
    with transaction(engine) as session:  # short: which sites, which bytes the archive has
        keys = [(resolver.site_id(session, page.url), page.url, page.sha256) for page in batch]
        known = known_captures(session, keys)
        if known:
            touch(session, sorted(known), now)
        elsewhere = records_elsewhere(session, (key[2] for key in keys if key not in known))
        slugs = dict(session.execute(select(Site.id, Site.slug)).all()) if elsewhere else {}
    items: list[tuple[_Page, CaptureIn]] = []
    records = []
    parsed: dict[str, tuple[int, str]] = {}  # sha256 -> the (site, url) this batch parsed it for
    for page, key in zip(batch, keys, strict=True):
        if key in known:
            summary.add("unchanged")
            _tick(on_page, "unchanged")
            continue
        others = [where for where in elsewhere.get(page.sha256, ()) if where != key[:2]]
        if not others and parsed.get(page.sha256, key[:2]) != key[:2]:
            others = [parsed[page.sha256]]
        if others:
            site_id, url = others[0]
            summary.duplicate(str(page.path), url if site_id == key[0] else f"{url} (site {slugs.get(site_id)})")
            _tick(on_page, "duplicate")
            continue
        try:
            records.append(parse_detail(page.body, page.url))
        except NotAProposalPage as error:
            summary.fail(str(page.path), f"not a proposal page: {error}")
            _tick(on_page, "failed")
            continue
        parsed.setdefault(page.sha256, key[:2])
        items.append((page, CaptureIn(key[0], page.url, page.body, now, source="import")))
    if not items:
        return
    with transaction(engine) as session:
        outcomes = ingest_batch(session, list(zip(records, (capture for _, capture in items), strict=True)))
    for (page, capture), outcome in zip(items, outcomes, strict=True):
        _count(summary, str(page.path), capture.url, outcome, on_page)


def _count(summary: Summary, what: str, url: str, outcome: str, on_page: Callable[[str], None] | None) -> None:
    if isinstance(outcome, Failed):
        summary.fail(what, f"the archive refused the record of {url}: {outcome.reason}")
    else:
        summary.add(outcome)
    _tick(on_page, str(outcome))


def _tick(on_page: Callable[[str], None] | None, outcome: str) -> None:
    if on_page is not None:
        on_page(outcome)


# --- reparse ---------------------------------------------------------------------------------------


def reparse_count(engine: Engine, site: str | None = None) -> int:
    """How many captures `reparse` reads; UnknownSite for a slug the archive does not have."""
    with session_factory(engine)() as session:
        if site and session.scalar(select(Site.id).where(Site.slug == site)) is None:
            archived = sorted(session.scalars(select(Site.slug)))
            raise UnknownSite(f"unknown site: {site} (archived: {', '.join(archived) or 'none'})")
        return session.scalar(select(func.count()).select_from(_latest_captures(site).subquery())) or 0


def _latest_captures(site: str | None):
    """The newest capture of every page (by URL), whatever the parser made of it before."""
    newest = (select(Capture.site_id, Capture.url, func.max(Capture.id).label("id"))
              .where(Capture.outcome != ATTACHMENT).group_by(Capture.site_id, Capture.url))
    if site:
        newest = newest.join(Site, Site.id == Capture.site_id).where(Site.slug == site)
    return newest


_REPARSED = (Capture.id, Capture.site_id, Capture.url, Capture.body, Capture.fetched_at, Capture.source,
             Capture.http_status, Capture.etag, Capture.last_modified, Capture.content_type, Capture.crawl_run_id)


def reparse(engine: Engine, site: str | None = None, on_page: Callable[[str], None] | None = None) -> Summary:
    """Run the current parser over the stored captures again and record what changes.

    Captures are read in one short transaction, parsed outside any, written in another."""
    import zlib

    summary = Summary()
    reread_files(engine, site)  # the attached files read again from their kept bytes; the records below use them
    with session_factory(engine)() as session:
        ids = [row.id for row in session.execute(_latest_captures(site).order_by("id"))]
    for start in range(0, len(ids), BATCH):
        now = dt.datetime.now(dt.UTC)
        with session_factory(engine)() as session:
            rows = session.execute(select(*_REPARSED).where(Capture.id.in_(ids[start:start + BATCH]))).all()
        items, refused = [], []
        for row in rows:
            body = zlib.decompress(row.body)
            try:
                record = parse_detail(body, row.url, encoding=content_type_charset(row.content_type))
            except NotAProposalPage as error:
                refused.append((row.id, row.url, error))
                continue
            items.append((record, CaptureIn(row.site_id, row.url, body, row.fetched_at, source=row.source,
                                            http_status=row.http_status, etag=row.etag,
                                            last_modified=row.last_modified, content_type=row.content_type,
                                            crawl_run_id=row.crawl_run_id)))
        with transaction(engine) as session:
            for capture_id, url, error in refused:
                session.execute(update(Capture).where(Capture.id == capture_id).values(
                    parser_version=PARSER_VERSION, outcome=error.reason, error=str(error)))
                if session.scalar(select(Proposal.id).where(Proposal.capture_id == capture_id)) is None:
                    summary.add("no record")
                else:  # a page that gave a record once no longer does
                    summary.fail(url, str(error))
                _tick(on_page, "failed")
            outcomes = ingest_batch(session, items, observed_at=now)
        for (_, capture), outcome in zip(items, outcomes, strict=True):
            _count(summary, capture.url, capture.url, outcome, on_page)
    return summary
