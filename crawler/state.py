"""One crawl's state: the sites, what the archive already knows of them, the walks, hosts and counts.

Made when the spider is made (before any request), shared by the spider (what to fetch), the
middlewares (hosts given up), the pipeline (where to write) and the command line (what to show).
Time comes from one clock (`PROPOSALS_NOW` sets the instant a crawl believes it starts at), so
that every age the crawl judges can be tested with the shipped limits.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections import Counter
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import Engine

from archive.crawls import (
    KnownPage,
    begin_walks,
    close_dead_runs,
    finish_run,
    finish_walks,
    known_pages,
    start_run,
    to_revalidate,
)
from archive.db import open_archive, transaction
from archive.ingest import ensure_site, site_for_url

from .sites import SiteConfig


class Clock:
    """The crawl's time: the real clock, or one that starts at a given instant and runs from there."""

    def __init__(self, start: dt.datetime | None = None) -> None:
        self.start = start
        self._origin = time.monotonic()

    @classmethod
    def from_setting(cls, value: str | None) -> Clock:
        """`PROPOSALS_NOW`: an ISO instant (UTC unless it says otherwise); empty for the real clock."""
        if not value:
            return cls()
        start = dt.datetime.fromisoformat(str(value))
        return cls(start if start.tzinfo else start.replace(tzinfo=dt.UTC))

    def now(self) -> dt.datetime:
        if self.start is None:
            return dt.datetime.now(dt.UTC)
        return self.start + dt.timedelta(seconds=time.monotonic() - self._origin)


@dataclass(eq=False)
class Walk:
    """One column's list walk: its platform and column, what it listed, how it ended."""

    site: str
    column_url: str
    resumable: bool = False          # the last walk left the whole list archived: archived entries end this one
    platform: Any = None
    column: Any = None
    seen: set[str] = field(default_factory=set)
    known_streak: int = 0            # archived entries met in a row
    listed: int = 0                  # entries of the pages walked
    lost_pages: int = 0              # list pages that failed or were blocked (reported as such)
    total: int | None = None         # records the list states
    last_page: int | None = None
    ended: str | None = None         # how the walk ended well: "end" of the list, or "caught-up" with the archive
    problems: list[str] = field(default_factory=list)  # why it did not cover the list (failures of its pages)

    @property
    def clean(self) -> bool:
        return self.ended is not None and not self.problems


@dataclass(frozen=True)
class FileChoice:
    """Which attached files a crawl asks for at its start, besides those of the pages it fetches:
    those never fetched (a crawl), or, for `proposals attachments fetch`, those of chosen records
    (`proposal_ids`, None: all) that are not read yet, and with `again` the read ones too."""

    proposal_ids: frozenset[int] | None = None
    unread: bool = False
    again: bool = False


def _queue_files(session, site: SiteState, choice: FileChoice) -> None:
    from archive.attachments import known_files, record_attachments

    site.files = known_files(session, site.site_id)
    settled = ("read", "scanned", "not-read", "unreadable")
    for url, name, page in record_attachments(session, site.site_id, choice.proposal_ids):
        known = site.files.get(url)
        if known is None or choice.again or (choice.unread and known.status not in settled):
            site.file_queue.append((url, name, page))


class Hosts:
    """Hosts this crawl cannot reach: given up at once (DNS, refused, robots.txt unreachable)."""

    def __init__(self) -> None:
        self.given_up: dict[str, str] = {}

    def give_up(self, netloc: str, cause: str) -> None:
        self.given_up.setdefault(netloc.lower(), cause)

    def cause(self, netloc: str) -> str | None:
        return self.given_up.get(netloc.lower())


@dataclass
class SiteState:
    config: SiteConfig
    site_id: int
    run_id: int
    known: dict[str, KnownPage]
    complete: dict[str, bool] = field(default_factory=dict)  # column URL: its last walk was complete
    counts: Counter = field(default_factory=Counter)
    requested: set[str] = field(default_factory=set)         # detail pages asked for by this crawl
    walks: dict[str, Walk] = field(default_factory=dict)
    problems: dict[str, Counter] = field(default_factory=dict)  # host: causes of its failed and blocked pages
    files: dict[str, Any] = field(default_factory=dict)        # attached files archived: URL -> KnownFile
    file_queue: list[tuple[str, str, str]] = field(default_factory=list)  # (url, name, page) to fetch at start
    files_requested: set[str] = field(default_factory=set)     # attached files asked for by this crawl
    file_problems: dict[str, Counter] = field(default_factory=dict)  # host: why its files were not kept or read


@dataclass
class CrawlState:
    engine: Engine
    sites: dict[str, SiteState]
    full: bool
    revalidate_days: int
    revalidate_cycle: int
    clock: Clock
    started_at: dt.datetime
    interrupted: int = 0             # runs of killed crawls closed as interrupted by this one
    attachments: bool = True         # fetch the attached files of the records (--no-attachments: not)
    pages: bool = True               # revalidate pages and walk lists (False: attached files only)
    hosts: Hosts = field(default_factory=Hosts)
    lock: threading.Lock = field(default_factory=threading.Lock)
    shared: Any = None               # crawler.shared.SharedCrawl: this worker's part in a crawl shared in Redis
    idle_hooks: list = field(default_factory=list)  # called when the worker has nothing to do (shared crawls)

    @classmethod
    def open(cls, db: str | None, sites: list[SiteConfig], *, full: bool, revalidate_days: int = 730,
             revalidate_cycle: int = 30, clock: Clock | None = None, attachments: bool = True,
             files: FileChoice | None = None, runs: bool = True) -> CrawlState:
        """`files`: which attached files to queue at the start (default: those never fetched);
        `runs=False` (seeding a shared crawl, fetching nothing) starts no crawl_run."""
        engine = open_archive(db)
        clock = clock or Clock()
        now = clock.now()
        merged: dict[str, tuple[SiteConfig, Any]] = {}
        interrupted = 0
        with transaction(engine) as session:
            for config in sites:
                site = site_for_url(session, config.origin) if config.adhoc else ensure_site(
                    session, config.slug, name=config.name, base_url=config.origin, platform=config.platform)
                if site.slug in merged:  # a column URL of a site already in this crawl joins it
                    known, _ = merged[site.slug]
                    config = replace(known, columns=tuple(dict.fromkeys(known.columns + config.columns)),
                                     allowed_hosts=tuple(dict.fromkeys(known.allowed_hosts + config.allowed_hosts)))
                merged[site.slug] = (replace(config, slug=site.slug, adhoc=False), site)
            states: dict[str, SiteState] = {}
            for slug, (config, site) in merged.items():
                if runs:
                    interrupted += close_dead_runs(session, site.id, now)
                run_id = start_run(session, site.id, full=full, started_at=now) if runs else 0
                states[slug] = SiteState(config, site.id, run_id,
                                         known_pages(session, site.id),
                                         complete=begin_walks(session, site.id, config.columns, now))
                if attachments:
                    _queue_files(session, states[slug], files or FileChoice())
        return cls(engine, states, full, revalidate_days, revalidate_cycle, clock, now, interrupted,
                   attachments=attachments)

    @classmethod
    def from_settings(cls, settings, sites: list[SiteConfig], *, full: bool,
                      files: FileChoice | None = None, runs: bool = True) -> CrawlState:
        """The state for a crawl with these Scrapy settings (PROPOSALS_DB, PROPOSALS_REVALIDATE_*, PROPOSALS_NOW,
        PROPOSALS_ATTACHMENTS)."""
        return cls.open(settings.get("PROPOSALS_DB"), sites, full=full,
                        revalidate_days=settings.getint("PROPOSALS_REVALIDATE_DAYS"),
                        revalidate_cycle=settings.getint("PROPOSALS_REVALIDATE_CYCLE"),
                        clock=Clock.from_setting(settings.get("PROPOSALS_NOW")),
                        attachments=settings.getbool("PROPOSALS_ATTACHMENTS"), files=files, runs=runs)

    def now(self) -> dt.datetime:
        return self.clock.now()

    # --- what to fetch -------------------------------------------------------------------------

    def walk(self, slug: str, column_url: str) -> Walk:
        """The walk of a column (one per column and crawl)."""
        site = self.sites[slug]
        if column_url not in site.walks:
            site.walks[column_url] = Walk(slug, column_url,
                                          resumable=not self.full and site.complete.get(column_url, False))
        return site.walks[column_url]

    def seeds(self) -> list[str]:
        """The sites whose columns this process queues: all of them, or in a shared crawl the ones it claimed."""
        return [slug for slug in self.sites if self.shared is None or slug in self.shared.seed_slugs]

    def claim(self, slug: str, url: str) -> bool:
        """True the first time a detail page is asked for in this crawl (a page listed twice is fetched once;
        in a shared crawl, once for all its workers)."""
        if self.shared is not None:
            return True  # claimed as it is queued (crawler.shared.SharedCrawl.push)
        requested = self.sites[slug].requested
        if url in requested:
            return False
        requested.add(url)
        return True

    def claim_file(self, slug: str, url: str) -> bool:
        """True the first time an attached file is asked for in this crawl."""
        with self.lock:
            requested = self.sites[slug].files_requested
            if url in requested:
                return False
            requested.add(url)
            return True

    def to_revalidate(self, slug: str) -> list[KnownPage]:
        """Archived pages of a site to ask again (archive.crawls explains the policy)."""
        return to_revalidate(self.sites[slug].known.values(), self.now(), max_age_days=self.revalidate_days,
                             cycle_days=self.revalidate_cycle)

    # --- what happened -------------------------------------------------------------------------

    def count(self, slug: str, name: str, amount: int = 1) -> None:
        with self.lock:
            self.sites[slug].counts[name] += amount

    def problem(self, slug: str, url: str, reason: str, column: str | None = None) -> None:
        """A page failed or was blocked: counted under its host and cause, and its walk is not complete."""
        host = urlsplit(url).netloc.lower() or url
        with self.lock:
            self.sites[slug].problems.setdefault(host, Counter())[reason] += 1
        walk = self.sites[slug].walks.get(column) if column else None
        if walk is not None:
            walk.problems.append(reason)
        if self.shared is not None and column:
            self.shared.frontier.column_problem(column)

    def ended(self, walk: Walk, how: str) -> None:
        """A walk reached the end of its list ("end") or the archived part of it ("caught-up")."""
        walk.ended = how
        if self.shared is not None:
            self.shared.frontier.walk_ended(walk.column_url, how, walk.total)

    def file_problem(self, slug: str, url: str, reason: str) -> None:
        """An attached file not fetched or not read: reported under its host; it fails no page or walk."""
        host = urlsplit(url).netloc.lower() or url
        with self.lock:
            self.sites[slug].file_problems.setdefault(host, Counter())[reason] += 1

    def file_problems(self) -> dict[str, Counter]:
        with self.lock:
            merged: dict[str, Counter] = {}
            for site in self.sites.values():
                for host, causes in site.file_problems.items():
                    merged.setdefault(host, Counter()).update(causes)
            return merged

    def totals(self) -> Counter:
        with self.lock:
            total: Counter = Counter()
            for site in self.sites.values():
                total.update(site.counts)
            return total

    def problems(self) -> dict[str, Counter]:
        """Every failing host of the crawl and the causes of its failures."""
        with self.lock:
            merged: dict[str, Counter] = {}
            for site in self.sites.values():
                for host, causes in site.problems.items():
                    merged.setdefault(host, Counter()).update(causes)
            return merged

    def close(self, reason: str) -> None:
        """Write each site's crawl_run (ok, incomplete, interrupted or error) and each column's walk."""
        now = self.now()
        finished = reason == "finished"
        shared_walks, column_problems = {}, Counter()
        if self.shared is not None:  # walks went on in any worker: what they said is in Redis
            frontier = self.shared.frontier
            frontier.add_counts({slug: site.counts for slug, site in self.sites.items()})
            shared_walks, column_problems = frontier.walks(), frontier.column_problems()
            self.shared.crawl_counts = frontier.counts()
            self.shared.finished_workers = frontier.finished_workers()
        with transaction(self.engine) as session:
            for site in self.sites.values():
                if site.run_id == 0:
                    continue  # seeded only: no run, no walk
                if not finished:
                    status = "interrupted" if reason in ("shutdown", "interrupted") else "error"
                else:
                    status = "incomplete" if site.counts["failed"] or site.counts["blocked"] else "ok"
                finish_run(session, site.run_id, site.counts, status=status, finished_at=now)
                walks = {}
                for url in site.config.columns:
                    walk = site.walks.get(url)
                    if self.shared is not None:
                        walk = Walk(site.config.slug, url, ended=(shared_walks.get(url) or {}).get("ended"),
                                    total=(shared_walks.get(url) or {}).get("total"),
                                    problems=["a page of it failed"] * column_problems[url])
                    complete = finished and walk is not None and walk.clean
                    why = (None if complete else f"the crawl stopped ({reason})" if not finished
                           else "; ".join(walk.problems[:3]) if walk is not None and walk.problems
                           else "the walk did not reach the end of the list")
                    walks[url] = (complete, walk.total if walk is not None else None, why)
                finish_walks(session, site.site_id, walks, now)
        self.engine.dispose()
        if self.shared is not None:
            self.shared.frontier.clear_if_done()
