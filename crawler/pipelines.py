"""Hands the pages to the archive in batches: records ingested, blocks kept as captures, 304s touched."""

from __future__ import annotations

import logging

from scrapy import signals

from archive.crawls import seen_unchanged
from archive.db import transaction
from archive.ingest import CaptureIn, archive_failures, ingest_batch

from .items import BLOCKED, FAILED, NOT_MODIFIED, RECORD, SKIPPED, PageItem

logger = logging.getLogger(__name__)


class ArchivePipeline:
    """Each batch is one transaction: whole records with their children, or nothing."""

    def __init__(self, crawler) -> None:
        self.crawler = crawler
        self.batch_size = crawler.settings.getint("PROPOSALS_BATCH")
        self.pending: list[PageItem] = []

    @classmethod
    def from_crawler(cls, crawler):
        pipeline = cls(crawler)
        # the close reason (finished, shutdown …) is known only when the spider has closed
        crawler.signals.connect(pipeline.spider_closed, signal=signals.spider_closed)
        return pipeline

    @property
    def state(self):
        return self.crawler.spider.state

    def process_item(self, item: PageItem) -> PageItem:
        self.pending.append(item)
        if len(self.pending) >= self.batch_size:
            self.flush()
        return item

    def close_spider(self) -> None:
        self.flush()

    def spider_closed(self, spider, reason: str) -> None:
        spider.state.close(reason)

    def flush(self) -> None:
        items, self.pending = self.pending, []
        if not items:
            return
        state = self.state
        records, failures, not_modified = [], [], {}
        for item in items:
            site = state.sites[item.site]
            if item.kind == NOT_MODIFIED:
                not_modified.setdefault(site.site_id, []).append(item.url)
                state.count(item.site, "not_modified")
                continue
            if item.kind in (BLOCKED, FAILED, SKIPPED):
                state.count(item.site, item.kind)
                log = logger.info if item.kind == SKIPPED else logger.warning
                log("%s: %s (%s)", item.kind, item.url, item.reason)
                if item.body is None:
                    continue  # nothing was fetched: nothing to keep
            else:
                state.count(item.site, "fetched")
            capture = CaptureIn(site.site_id, item.url, item.body or b"", item.fetched_at, source="crawl",
                                http_status=item.status, etag=item.etag, last_modified=item.last_modified,
                                content_type=item.content_type, crawl_run_id=site.run_id)
            if item.kind == RECORD:
                records.append((item, capture))
            else:
                failures.append((capture, item.kind, item.reason or item.kind))
        with transaction(state.engine) as session:
            outcomes = ingest_batch(session, [(item.record, capture) for item, capture in records])
            if failures:
                archive_failures(session, failures)
            for site_id, urls in not_modified.items():
                seen_unchanged(session, site_id, urls, max(i.fetched_at for i in items))
        for (item, _), outcome in zip(records, outcomes, strict=True):
            state.count(item.site, outcome)
