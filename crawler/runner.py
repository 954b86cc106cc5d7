"""Run a crawl in this process (Scrapy's CrawlerProcess): the sites, the archive, the settings, the log."""

from __future__ import annotations

import os
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from scrapy.crawler import CrawlerProcess
from scrapy.settings import Settings

from archive.db import resolve_url, sqlite_path

from .sites import SiteConfig
from .spiders.proposals import ProposalsSpider
from .state import CrawlState


@dataclass
class CrawlResult:
    counts: Counter
    finish_reason: str
    per_site: dict[str, Counter]
    problems: dict[str, Counter] = field(default_factory=dict)  # failing host: causes and how often
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return self.finish_reason == "finished" and not self.counts["failed"] and not self.counts["blocked"]


def crawl_settings(overrides: dict[str, str] | None = None, *, db: str | None = None) -> Settings:
    """The crawler's settings (crawler/settings.py) with the caller's overrides on top."""
    settings = Settings()
    settings.setmodule("crawler.settings", priority="project")
    if db:
        settings.set("PROPOSALS_DB", db, priority="cmdline")
    elif os.environ.get("PROPOSALS_DB"):
        settings.set("PROPOSALS_DB", os.environ["PROPOSALS_DB"], priority="cmdline")
    for name, value in (overrides or {}).items():
        settings.set(name, value, priority="cmdline")
    return settings


def default_log(db: str | None) -> Path:
    """Where a crawl's log goes by default: beside the archive (proposals.db -> proposals.crawl.log), or
    ./proposals-crawl.log for an archive that is not a file."""
    path = sqlite_path(resolve_url(db)[0])
    return path.with_name(path.stem + ".crawl.log") if path is not None else Path("proposals-crawl.log")


def open_state(sites: list[SiteConfig], settings: Settings, *, full: bool, files=None,
               runs: bool = True) -> CrawlState:
    """The crawl's state: opens (and checks) the archive before Scrapy starts (`files`: a
    state.FileChoice of the attached files to fetch besides those of the pages fetched; `runs=False`:
    seeding a shared crawl, no crawl_run)."""
    return CrawlState.from_settings(settings, sites, full=full, files=files, runs=runs)


def run_crawl(state: CrawlState, settings: Settings) -> CrawlResult:
    """Crawl until done (or Ctrl-C: Scrapy stops cleanly and what was fetched is archived)."""
    started = time.monotonic()
    slots = dict(settings.getdict("DOWNLOAD_SLOTS"))
    for site in state.sites.values():  # a site's own delay, on each of its hosts
        if site.config.delay is not None:
            for host in site.config.hosts:
                slots.setdefault(host, {})["delay"] = site.config.delay
    settings.set("DOWNLOAD_SLOTS", slots, priority="cmdline")
    process = CrawlerProcess(settings)
    crawler = process.create_crawler(ProposalsSpider)
    process.crawl(crawler, sites=[site.config for site in state.sites.values()], full=state.full, state=state)
    process.start()
    reason = crawler.stats.get_value("finish_reason") if crawler.stats else None
    return CrawlResult(state.totals(), reason or "finished",
                       {slug: Counter(site.counts) for slug, site in state.sites.items()}, state.problems(),
                       time.monotonic() - started)


# --- crawls shared by workers in one Redis (crawler/shared.py) --------------------------------------


def shared_sites(frontier, chosen: list[SiteConfig], wait: float) -> list[SiteConfig]:
    """The sites of a shared crawl: those named here and those other workers seeded (waited for up to
    `wait` seconds when none is named and none is seeded yet)."""
    deadline = time.monotonic() + wait
    while True:
        seeded = frontier.sites()
        if chosen or seeded or time.monotonic() >= deadline:
            break
        time.sleep(0.25)
    named = {site.slug for site in chosen}
    return list(chosen) + [site for site in seeded if site.slug not in named]


def join_shared(state: CrawlState, frontier, idle: float):
    """This worker joins the shared crawl and claims the seeding of the sites nobody seeded yet."""
    from .shared import SharedCrawl

    shared = SharedCrawl(frontier, idle=idle)
    state.shared = shared
    for slug, site in state.sites.items():
        if frontier.claim_site(site.config):
            shared.seed_slugs.add(slug)
    frontier.join(shared.worker)
    if shared.seed_slugs:
        frontier.seeding(shared.worker, True)
    return shared


def seed_shared(state: CrawlState, settings: Settings) -> int:
    """Queue the column pages (and pages to revalidate) of the sites this process claimed, without
    crawling; how many requests were queued."""
    import asyncio

    shared = state.shared
    spider = ProposalsSpider(sites=[site.config for site in state.sites.values()], full=state.full, state=state)
    spider.settings = settings

    async def requests():
        return [request async for request in spider.start()]

    from scrapy_redis import picklecompat

    queued = 0
    for request in asyncio.run(requests()):
        queued += shared.push(request, picklecompat.dumps(request.to_dict(spider=spider)))
    shared.frontier.seeding(shared.worker, False)
    shared.frontier.leave(shared.worker)
    shared.frontier.server.incr(shared.frontier.k("left"))
    state.engine.dispose()
    return queued
