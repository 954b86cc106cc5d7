"""Downloader middlewares: retries with backoff, block detection with host backoff, per-request delays."""

from __future__ import annotations

import asyncio
import logging

from scrapy import Request
from scrapy.downloadermiddlewares.retry import RetryMiddleware
from scrapy.http import Response

from .blocks import block_reason

logger = logging.getLogger(__name__)


class BackoffRetryMiddleware(RetryMiddleware):
    """Scrapy's retries (5xx, timeouts, dropped connections), each one later than the one before."""

    def _retry(self, request: Request, reason) -> Request | None:
        retry = super()._retry(request, reason)
        if retry is not None:
            settings = self.crawler.settings
            attempt = retry.meta.get("retry_times", 1)
            delay = settings.getfloat("PROPOSALS_RETRY_BACKOFF") * 2 ** (attempt - 1)
            retry.meta["delay"] = min(delay, settings.getfloat("PROPOSALS_RETRY_BACKOFF_MAX"))
        return retry


class BlockMiddleware:
    """Recognise challenge and block answers; back the host off; ask once more; else hand them on flagged.

    A flagged response reaches the spider with `meta["blocked"]` set, so that it is counted and
    kept as a capture, never parsed into a record.
    """

    def __init__(self, crawler) -> None:
        self.crawler = crawler
        settings = crawler.settings
        self.backoff = settings.getfloat("PROPOSALS_BLOCK_BACKOFF")
        self.backoff_max = settings.getfloat("PROPOSALS_BLOCK_BACKOFF_MAX")
        self.retries = settings.getint("PROPOSALS_BLOCK_RETRIES")

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def process_response(self, request: Request, response: Response) -> Request | Response:
        if request.meta.get("blocked") or response.status == 304 or request.meta.get("dont_obey_robotstxt"):
            return response  # robots.txt is not a page
        content_type = response.headers.get(b"Content-Type", b"").decode("latin-1").lower()
        html = ("html" in content_type or (not content_type and response.body.lstrip()[:1] == b"<")) \
            and not request.meta.get("list_page")
        reason = block_reason(response.status, response.headers, response.body, html=html,
                              dataloss="dataloss" in response.flags)
        if reason is None:
            return response
        self._back_off(request)
        stats = self.crawler.stats
        tries = request.meta.get("block_retries", 0)
        if tries < self.retries:
            stats.inc_value("proposals/block_retries")
            logger.warning("blocked (%s): %s; asking again after a backoff", reason, request.url)
            retry = request.replace(dont_filter=True)
            retry.meta["block_retries"] = tries + 1
            retry.meta["delay"] = min(self.backoff * (tries + 1), self.backoff_max)
            return retry
        logger.warning("blocked (%s): %s", reason, request.url)
        request.meta["blocked"] = reason
        return response

    def _back_off(self, request: Request) -> None:
        """Slow the whole host down: its download slot waits longer between requests from now on."""
        downloader = self.crawler.engine.downloader
        key = downloader.get_slot_key(request) if hasattr(downloader, "get_slot_key") else None
        slot = downloader.slots.get(key) if key is not None else None
        if slot is not None:
            slot.delay = min(max(slot.delay * 2, self.backoff), self.backoff_max)
            self.crawler.stats.set_value("proposals/host_delay", slot.delay)
            logger.warning("backing off %s: %.1f s between requests from now on", key, slot.delay)


class DelayMiddleware:
    """Waits out `meta["delay"]` (retry and block backoff) before a request goes to the downloader."""

    async def process_request(self, request: Request) -> None:
        delay = request.meta.pop("delay", 0)
        if delay and delay > 0:
            await asyncio.sleep(delay)
