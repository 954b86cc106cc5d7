"""Hands the pages to the archive in batches: records ingested, blocks kept as captures, 304s touched.

Each batch is one transaction: whole records with their children, or nothing. A batch the
database refuses is written again page by page, each in a transaction of its own, so that one
record the database cannot take fails alone (reported by URL) and the rest of its batch is
archived. Where `ingest_batch` reports such records itself (an outcome that is not new /
changed / unchanged, with a `reason`), they are counted as failed the same way and the
page-by-page pass is never needed.

For Scrapy's feeds (`scrapy crawl proposals -o items.jsonl`) a record item goes on as a plain
dict of its record; other pages (blocked, failed, not modified) stay out of the feed.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from scrapy import signals
from scrapy.exceptions import DropItem

from archive.attachments import FetchedFile, read, refresh_records, store_files
from archive.crawls import seen_unchanged
from archive.db import first_line, transaction
from archive.ingest import CaptureIn, archive_failures, ingest_batch

from .items import BLOCKED, FAILED, NOT_MODIFIED, RECORD, SKIPPED, FileItem, PageItem

logger = logging.getLogger(__name__)
OUTCOMES = ("new", "changed", "unchanged")


@dataclass
class _Batch:
    records: list[tuple[PageItem, CaptureIn]] = field(default_factory=list)
    failures: list[tuple[PageItem, CaptureIn, str, str]] = field(default_factory=list)
    not_modified: list[PageItem] = field(default_factory=list)

    def pieces(self) -> list[_Batch]:
        """The batch one page at a time."""
        return ([_Batch(records=[r]) for r in self.records] + [_Batch(failures=[f]) for f in self.failures]
                + [_Batch(not_modified=[n]) for n in self.not_modified])

    def items(self) -> list[PageItem]:
        return [r[0] for r in self.records] + [f[0] for f in self.failures] + self.not_modified


class ArchivePipeline:
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

    def open_spider(self) -> None:
        self.state.idle_hooks.append(self.flush)  # a shared crawl's worker waiting for work holds no batch

    @property
    def state(self):
        return self.crawler.spider.state

    def process_item(self, item: PageItem | FileItem) -> dict:
        self.pending.append(item)
        if len(self.pending) >= self.batch_size:
            self.flush()
        if isinstance(item, FileItem):
            raise DropItem(f"attachment {item.outcome}: {item.url}", log_level="DEBUG")
        if item.kind != RECORD:
            raise DropItem(f"{item.kind}: {item.url}", log_level="DEBUG")
        return item.feed()

    def close_spider(self) -> None:
        self.flush()

    def spider_closed(self, spider, reason: str) -> None:
        spider.state.close(reason)

    def flush(self) -> None:
        pending, self.pending = self.pending, []
        items = [item for item in pending if not isinstance(item, FileItem)]
        files = [item for item in pending if isinstance(item, FileItem)]
        self._flush_pages(items)
        if files:
            self._flush_files(files)

    def _flush_files(self, items: list[FileItem]) -> None:
        """Attached files: kept (bytes, text), and the records that link to them written again where
        their text changed. A file that cannot be kept is reported; it fails nothing else."""
        state = self.state
        files = []
        for item in items:
            site = state.sites[item.site]
            state.count(item.site, f"files_{item.outcome.replace('-', '_')}")
            if item.outcome not in ("fetched", "not-modified"):
                logger.warning("attachment %s: %s (%s)", item.outcome, item.url, item.reason)
                state.file_problem(item.site, item.url, item.reason or item.outcome)
            problem = None if item.outcome in ("fetched", "not-modified") else item.outcome
            files.append(read(FetchedFile(site.site_id, item.url, item.fetched_at, body=item.body,
                                          content_type=item.content_type, etag=item.etag,
                                          last_modified=item.last_modified, http_status=item.status, name=item.name,
                                          not_modified=item.outcome == "not-modified", problem=problem,
                                          reason=item.reason, crawl_run_id=site.run_id)))
        for file, item in zip(files, items, strict=True):
            document = file.document
            if document is not None:
                state.count(item.site, "files_read" if document.status == "read" else "files_not_read")
                if document.status != "read":
                    logger.warning("attachment not read: %s (%s: %s)", item.url, document.status, document.detail)
                    state.file_problem(item.site, item.url, f"{document.status}: {document.detail}")
        try:
            self._write_files(files)
            return
        except Exception as error:  # the archive refused something: find what, file by file
            if len(files) == 1:
                logger.warning("attachment not kept: %s (%s)", files[0].url, first_line(error))
                return
            logger.warning("a batch of %d attachments failed (%s); writing them one by one", len(files),
                           first_line(error))
        for file in files:
            try:
                self._write_files([file])
            except Exception as error:
                logger.warning("attachment not kept: %s (%s)", file.url, first_line(error))

    def _write_files(self, files: list[FetchedFile]) -> None:
        state = self.state
        slugs = {site.site_id: slug for slug, site in state.sites.items()}
        with transaction(state.engine) as session:
            changed = store_files(session, files)
            outcomes = refresh_records(session, changed, state.now()) if changed else []
        for site_id, outcome in outcomes:
            if outcome == "changed" and site_id in slugs:
                state.count(slugs[site_id], "files_replies")

    def _flush_pages(self, items: list[PageItem]) -> None:
        if not items:
            return
        state = self.state
        batch = _Batch()
        for item in items:
            site = state.sites[item.site]
            if item.kind == NOT_MODIFIED:
                state.count(item.site, "not_modified")
                batch.not_modified.append(item)
                continue
            if item.kind in (BLOCKED, FAILED, SKIPPED):
                state.count(item.site, item.kind)
                if item.kind == SKIPPED:
                    logger.info("skipped: %s (%s)", item.url, item.reason)
                else:
                    logger.warning("%s: %s (%s)", item.kind, item.url, item.reason)
                    state.problem(item.site, item.url, item.reason or item.kind, item.column)
                if item.body is None:
                    continue  # nothing was fetched: nothing to keep
            else:
                state.count(item.site, "fetched")
            capture = CaptureIn(site.site_id, item.url, item.body or b"", item.fetched_at, source="crawl",
                                http_status=item.status, etag=item.etag, last_modified=item.last_modified,
                                content_type=item.content_type, crawl_run_id=site.run_id)
            if item.kind == RECORD:
                batch.records.append((item, capture))
            else:
                batch.failures.append((item, capture, item.kind, item.reason or item.kind))
        try:
            self._write(batch)
        except Exception as error:  # the database refused something: find what, page by page
            logger.warning("a batch of %d pages failed (%s); writing them one by one", len(items),
                           first_line(error))
            for piece in batch.pieces():
                try:
                    self._write(piece)
                except Exception as piece_error:
                    if piece.records:  # pages already counted as failed or blocked are not counted twice
                        self._refused(piece.items()[0], f"the archive refused it: {first_line(piece_error)}")
                    else:
                        logger.warning("not kept: %s (%s)", piece.items()[0].url, first_line(piece_error))
        if state.shared is not None:  # written (or refused for good): the shared frontier may forget them
            for item in items:
                state.shared.ack(item.ack, item.site)

    def _write(self, batch: _Batch) -> None:
        state = self.state
        with transaction(state.engine) as session:
            outcomes = ingest_batch(session, [(item.record, capture) for item, capture in batch.records])
            if batch.failures:
                archive_failures(session, [(capture, kind, reason) for _, capture, kind, reason in batch.failures])
            by_site: dict[int, list[str]] = {}
            for item in batch.not_modified:
                by_site.setdefault(state.sites[item.site].site_id, []).append(item.url)
            for site_id, urls in by_site.items():
                seen_unchanged(session, site_id, urls, max(i.fetched_at for i in batch.not_modified))
        for (item, _), outcome in zip(batch.records, outcomes, strict=True):
            if outcome in OUTCOMES:
                state.count(item.site, outcome)
            else:  # ingest isolated a record it could not write
                self._refused(item, f"the archive refused it: {getattr(outcome, 'reason', outcome)}")

    def _refused(self, item: PageItem, reason: str) -> None:
        logger.warning("failed: %s (%s)", item.url, reason)
        self.state.count(item.site, "failed")
        self.state.problem(item.site, item.url, reason, item.column)
