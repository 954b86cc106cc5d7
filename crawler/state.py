"""One crawl's state: the sites, what the archive already knows of them, and the running counts.

Made when the spider is made (before any request), shared by the spider (what to fetch), the
pipeline (where to write) and the command line (what to show).
"""

from __future__ import annotations

import datetime as dt
import threading
from collections import Counter
from dataclasses import dataclass, field, replace

from sqlalchemy import Engine

from archive.crawls import KnownPage, finish_run, known_pages, start_run
from archive.db import open_archive, transaction
from archive.ingest import ensure_site, site_for_url

from .sites import SiteConfig


@dataclass
class SiteState:
    config: SiteConfig
    site_id: int
    run_id: int
    known: dict[str, KnownPage]
    counts: Counter = field(default_factory=Counter)


@dataclass
class CrawlState:
    engine: Engine
    sites: dict[str, SiteState]
    full: bool
    revalidate_days: int
    started_at: dt.datetime
    lock: threading.Lock = field(default_factory=threading.Lock)

    @classmethod
    def open(cls, db: str | None, sites: list[SiteConfig], *, full: bool, revalidate_days: int) -> CrawlState:
        engine = open_archive(db)
        now = dt.datetime.now(dt.UTC)
        states: dict[str, SiteState] = {}
        with transaction(engine) as session:
            for config in sites:
                site = site_for_url(session, config.origin) if config.adhoc else ensure_site(
                    session, config.slug, name=config.name, base_url=config.origin, platform=config.platform)
                if site.slug in states:  # a column URL of a site already in this crawl joins it
                    known = states[site.slug]
                    columns = tuple(dict.fromkeys(known.config.columns + config.columns))
                    known.config = replace(known.config, columns=columns)
                    continue
                config = replace(config, slug=site.slug, adhoc=False)
                states[site.slug] = SiteState(config, site.id, start_run(session, site.id, full=full, started_at=now),
                                              known_pages(session, site.id))
        return cls(engine, states, full, revalidate_days, now)

    @classmethod
    def from_settings(cls, settings, sites: list[SiteConfig], *, full: bool) -> CrawlState:
        """The state for a crawl with these Scrapy settings (PROPOSALS_DB, PROPOSALS_REVALIDATE_DAYS)."""
        return cls.open(settings.get("PROPOSALS_DB"), sites, full=full,
                        revalidate_days=settings.getint("PROPOSALS_REVALIDATE_DAYS"))

    def count(self, slug: str, name: str, amount: int = 1) -> None:
        with self.lock:
            self.sites[slug].counts[name] += amount

    def totals(self) -> Counter:
        with self.lock:
            total: Counter = Counter()
            for site in self.sites.values():
                total.update(site.counts)
            return total

    def to_revalidate(self, slug: str) -> list[KnownPage]:
        """Known records of a site that are not final and young enough to be asked again."""
        today = dt.date.today()
        return [page for page in self.sites[slug].known.values() if page.revalidate(today, self.revalidate_days)]

    def close(self, reason: str) -> None:
        """Write each site's crawl_run: ok, incomplete (pages failed or blocked), interrupted or error."""
        now = dt.datetime.now(dt.UTC)
        with transaction(self.engine) as session:
            for site in self.sites.values():
                if reason != "finished":
                    status = "interrupted" if reason in ("shutdown", "interrupted") else "error"
                else:
                    status = "incomplete" if site.counts["failed"] or site.counts["blocked"] else "ok"
                finish_run(session, site.run_id, site.counts, status=status, finished_at=now)
        self.engine.dispose()
