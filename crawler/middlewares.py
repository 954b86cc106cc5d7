"""Middlewares: the site's bounds, hosts given up, robots.txt, retries, blocks and their backoff, delays.

- SiteGateMiddleware: a request to a host that is not the site's (an off-site redirect of a page,
  a list API or robots.txt) is never sent; a redirect back to a URL of its own chain is a loop;
  a host that cannot be resolved or refuses connections is given up for the rest of the crawl.
- RobotsMiddleware: Scrapy's, except that a robots.txt that cannot be fetched (a network error,
  HTTP 5xx) means the host is not crawled (RFC 9309: unreachable means disallowed).
- BackoffRetryMiddleware: Scrapy's retries (5xx, timeouts, dropped connections), each one later
  than the one before; an unresolvable or refusing host is asked only once more.
- BlockMiddleware: a challenge or block page backs its host off once (the host's delay becomes
  at least PROPOSALS_BLOCK_BACKOFF, then halves back with every good answer) and is asked once
  more after the backoff; a cut body is retried like a dropped connection (the host did nothing
  wrong), and fails when it stays cut.
- DelayMiddleware: waits out a request's own delay (retry and block backoff) before it is sent.
- SpiderErrorsMiddleware: an error reading an answer fails that page, counted and reported.

Scrapy's cookie handling asks tldextract for public suffixes, and tldextract fetches the Public
Suffix List from the internet on first use: this module makes it use its bundled snapshot.
"""

from __future__ import annotations

import asyncio
import logging
import time

import scrapy.downloadermiddlewares.cookies as scrapy_cookies
from scrapy import Request
from scrapy.downloadermiddlewares.retry import RetryMiddleware, get_retry_request
from scrapy.downloadermiddlewares.robotstxt import RobotsTxtMiddleware
from scrapy.exceptions import IgnoreRequest
from scrapy.extensions.throttle import AutoThrottle
from scrapy.http import Response
from scrapy.utils.httpobj import urlparse_cached
from tldextract import TLDExtract

from .blocks import TRUNCATED, judge
from .failures import UNREACHABLE, GivenUp, describe, http_cause
from .items import FAILED, PageItem

logger = logging.getLogger(__name__)

# the snapshot tldextract ships, never a download (no cache directory, no list URLs)
scrapy_cookies._split_domain = TLDExtract(cache_dir=None, suffix_list_urls=(), include_psl_private_domains=True)


def _state(crawler):
    spider = getattr(crawler, "spider", None)
    return getattr(spider, "state", None)


def _netloc(request: Request) -> str:
    return urlparse_cached(request).netloc.lower()


def retry_delay(settings, attempt: int) -> float:
    """Seconds before retry number `attempt` (1, 2 …): PROPOSALS_RETRY_BACKOFF doubled each time."""
    delay = settings.getfloat("PROPOSALS_RETRY_BACKOFF") * 2 ** (max(attempt, 1) - 1)
    return min(delay, settings.getfloat("PROPOSALS_RETRY_BACKOFF_MAX"))


class SiteGateMiddleware:
    """Only the site's hosts; no redirect loops; hosts that cannot be reached given up."""

    def __init__(self, crawler) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def process_request(self, request: Request) -> None:
        state = _state(self.crawler)
        if state is None:
            return
        netloc = _netloc(request)
        request.meta["download_slot"] = netloc  # politeness per host and port (Scrapy's own slots: per host name)
        cause = state.hosts.cause(netloc)
        if cause:
            raise GivenUp(cause)
        chain = request.meta.get("redirect_urls") or []
        if request.url in chain:
            raise GivenUp("redirect loop: " + " → ".join([*chain[chain.index(request.url):], request.url]))
        site = state.sites.get(request.meta.get("site") or "")
        configs = [site.config] if site is not None else [s.config for s in state.sites.values()]
        if not any(config.allows(request.url) for config in configs):
            how = "redirected off the site" if chain else "off the site"
            raise GivenUp(f"{how} to {netloc}: not fetched")

    def process_exception(self, request: Request, exception: Exception) -> None:
        """A request failed for good (retries are done): a host that cannot be reached is given up."""
        state = _state(self.crawler)
        cause = describe(exception)
        if state is not None and cause in UNREACHABLE and state.hosts.cause(_netloc(request)) is None:
            state.hosts.give_up(_netloc(request), cause)
            logger.warning("giving up %s for this crawl: %s", _netloc(request), cause)


class RobotsMiddleware(RobotsTxtMiddleware):
    """Scrapy's robots.txt handling; an unreachable robots.txt gives the host up."""

    async def process_request(self, request: Request) -> None:
        if request.meta.get("dont_obey_robotstxt") or request.url.startswith(("data:", "file:")):
            return
        parser = await self.robot_parser(request)
        state = _state(self.crawler)
        cause = state.hosts.cause(_netloc(request)) if state is not None else None
        if cause:
            raise GivenUp(cause)
        self.process_request_2(parser, request)

    async def _parse_robots(self, response: Response, netloc: str, request: Request) -> None:
        if response.status >= 500:
            self._give_up(netloc, f"robots.txt unreachable: {http_cause(response.status)}")
        await super()._parse_robots(response, netloc, request)

    def _robots_error(self, exc: Exception, netloc: str) -> None:
        # a refused request (an off-site redirect, a redirect loop) is as if there were no robots.txt
        # (RFC 9309: unavailable); one that could not be downloaded leaves the host uncrawlable
        if not isinstance(exc, IgnoreRequest):
            self._give_up(netloc, f"robots.txt unreachable: {describe(exc)}")
        super()._robots_error(exc, netloc)

    def _give_up(self, netloc: str, cause: str) -> None:
        state = _state(self.crawler)
        if state is not None and state.hosts.cause(netloc) is None:
            state.hosts.give_up(netloc, cause)
            logger.warning("giving up %s for this crawl: %s", netloc, cause)


class BackoffRetryMiddleware(RetryMiddleware):
    """Scrapy's retries, each one later than the one before; unreachable hosts asked only once more."""

    def process_exception(self, request: Request, exception: Exception):
        if describe(exception) in UNREACHABLE and request.meta.get("retry_times", 0) >= 1:
            return None
        return super().process_exception(request, exception)

    def _retry(self, request: Request, reason) -> Request | None:
        retry = super()._retry(request, reason)
        if retry is not None:
            retry.meta["delay"] = retry_delay(self.crawler.settings, retry.meta.get("retry_times", 1))
        return retry


class BlockMiddleware:
    """Recognise challenge and block answers and cut bodies: back the host off, ask once more, or
    hand them on flagged (`meta["blocked"]`, `meta["failed"]`), so that they are counted and kept as
    captures, never parsed into records."""

    def __init__(self, crawler) -> None:
        self.crawler = crawler
        settings = crawler.settings
        self.backoff = min(settings.getfloat("PROPOSALS_BLOCK_BACKOFF"),
                           settings.getfloat("PROPOSALS_BLOCK_BACKOFF_MAX"))
        self.retries = settings.getint("PROPOSALS_BLOCK_RETRIES")
        self.retry_times = settings.getint("RETRY_TIMES")
        self.easing: dict[str, tuple[float, float]] = {}  # backed-off slot: (the delay it eases back to, since)

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def process_response(self, request: Request, response: Response) -> Request | Response:
        meta = request.meta
        if meta.get("blocked") or meta.get("failed") or meta.get("dont_obey_robotstxt"):
            return response  # robots.txt is not a page
        if response.status == 304:
            self._ease(request)
            return response
        content_type = response.headers.get(b"Content-Type", b"").decode("latin-1").lower()
        html = ("html" in content_type or (not content_type and response.body.lstrip()[:1] == b"<")) \
            and not meta.get("list_page")
        verdict = judge(response.status, response.headers, response.body, html=html,
                        dataloss="dataloss" in response.flags)
        if verdict is None:
            self._ease(request)
            return response
        if verdict.kind == TRUNCATED:
            retry = get_retry_request(request, spider=self.crawler.spider, reason="truncated body",
                                      max_retry_times=self.retry_times)
            if retry is not None:
                retry.meta["delay"] = retry_delay(self.crawler.settings, retry.meta.get("retry_times", 1))
                return retry
            meta["failed"] = verdict.reason
            return response
        tries = meta.get("block_retries", 0)
        if tries == 0:  # a blocked page backs its host off once, however often it is asked
            self._back_off(request)
        if tries < self.retries:
            self.crawler.stats.inc_value("proposals/block_retries")
            logger.warning("%s: %s; asking again after %.0f s", verdict.reason, request.url, self.backoff)
            retry = request.replace(dont_filter=True)
            retry.meta["block_retries"] = tries + 1
            retry.meta["delay"] = self.backoff
            return retry
        logger.warning("%s: %s", verdict.reason, request.url)
        meta["blocked"] = verdict.reason
        return response

    def _slot(self, request: Request):
        downloader = self.crawler.engine.downloader
        key = downloader.get_slot_key(request) if hasattr(downloader, "get_slot_key") else None
        return key, downloader.slots.get(key) if key is not None else None

    def _back_off(self, request: Request) -> None:
        """The host's delay becomes at least the backoff (never more), to ease back as answers come good."""
        key, slot = self._slot(request)
        if slot is None:
            return
        base, _ = self.easing.get(key, (slot.delay, 0.0))
        self.easing[key] = (base, time.monotonic())
        if slot.delay < self.backoff:
            slot.delay = self.backoff
            self.crawler.stats.max_value("proposals/host_delay", slot.delay)
            logger.warning("backing off %s: %.1f s between requests, easing back as pages come through",
                           key, slot.delay)

    def _ease(self, request: Request) -> None:
        """A good answer from a backed-off host: its delay halves, back to what it was."""
        key, slot = self._slot(request)
        if slot is None or key not in self.easing:
            return
        base, since = self.easing[key]
        if time.monotonic() - request.meta.get("download_latency", 0) < since:
            return  # asked before the backoff: says nothing of how the host takes it
        eased = slot.delay / 2
        if eased <= max(base, self.backoff / 8):
            slot.delay = base
            del self.easing[key]
        else:
            slot.delay = eased
        logger.info("easing %s back: %.1f s between requests", key, slot.delay)
        self._reschedule(slot)

    def _reschedule(self, slot) -> None:
        """Scrapy timed the slot's next download with the delay it had when it sent the last one: time
        it again with the eased delay, or easing would lag one request behind."""
        downloader = self.crawler.engine.downloader
        pending = getattr(slot, "latercall", None)
        if pending is not None and hasattr(downloader, "_process_queue"):
            pending.cancel()
            slot.latercall = None
            downloader._process_queue(slot)


class DelayMiddleware:
    """Waits out `meta["delay"]` (retry and block backoff) before a request goes to the downloader."""

    async def process_request(self, request: Request) -> None:
        delay = request.meta.pop("delay", 0)
        if delay and delay > 0:
            await asyncio.sleep(delay)


class SiteAutoThrottle(AutoThrottle):
    """Scrapy's AutoThrottle, whose floor for a host is its site's own `delay` (DOWNLOAD_SLOTS) where
    the sites file sets one, and DOWNLOAD_DELAY elsewhere."""

    def _response_downloaded(self, response, request, spider) -> None:
        configured = self.crawler.settings.getdict("DOWNLOAD_SLOTS").get(request.meta.get("download_slot"), {})
        if "delay" not in configured:
            super()._response_downloaded(response, request, spider)
            return
        floor, self.mindelay = self.mindelay, float(configured["delay"])
        try:
            super()._response_downloaded(response, request, spider)
        finally:
            self.mindelay = floor


class SpiderErrorsMiddleware:
    """An error while reading an answer fails that page (counted, reported), never the crawl silently."""

    def process_spider_exception(self, response: Response, exception: Exception):
        site = response.meta.get("site")
        if site is None:
            return None
        logger.error("error reading %s", response.url, exc_info=exception)
        first = (str(exception).strip().splitlines() or [""])[0]
        return [PageItem(FAILED, site, response.url, status=response.status, column=response.meta.get("column"),
                         ack=response.meta.get("frontier_key"),
                         reason=f"error reading the page: {type(exception).__name__}: {first}".rstrip(": "))]
