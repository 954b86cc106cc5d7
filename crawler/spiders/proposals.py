"""The one spider: walks proposal columns (column pages, their lists, the records' detail pages).

What to fetch is decided here; how a platform pages its lists lives in one module per family
(crawler/platforms/), reached only through the registry. The walk is the same for every family:

- a list is walked page by page until its end: an empty page, the last page the answer states,
  no request for a next page, or a page that only repeats entries this walk has listed already
  (servers that answer the last page again for any page past the end);
- a crawl is incremental: where the column's last walk left the whole list archived, meeting
  `PROPOSALS_LIST_OVERLAP` archived records in a row ends the walk (everything beyond is
  archived); a column whose last walk did not end that way (killed, interrupted, a page failed)
  is walked to its end again, fetching only what is not archived;
- a list page that fails (broken JSON, a refused request, a truncated answer) is a failure, and
  the walk goes on with the next page where the list's length is known; a list whose stated
  count exceeds what its pages listed is a failure too; either leaves the column to be walked
  whole by the next crawl;
- entries on hosts that are not the site's are never fetched (counted `offsite`);
- archived pages are revalidated with conditional GETs, as archive.crawls says.
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Iterable, Iterator
from typing import Any
from urllib.parse import urlsplit

import scrapy
from scrapy.exceptions import DownloadCancelledError
from scrapy.http import Response
from twisted.python.failure import Failure

from archive.files import human_size

from ..failures import describe, http_cause
from ..items import BLOCKED, FAILED, NOT_MODIFIED, RECORD, SKIPPED, FileItem, PageItem
from ..parsers import NotAProposalPage, parse_detail
from ..parsers.encoding import content_type_charset
from ..platforms import REGISTRY, ListEntry, ListPage, NotAListPage, detect
from ..sites import SitesError, adhoc_site, registry
from ..state import CrawlState, Walk

NOT_A_RECORD = "not-a-record"  # NotAProposalPage.reason of a real page that holds no single record
LIST_PRIORITY = 10  # lists first, so that the walk goes on while detail pages download
FILE_PRIORITY = -5  # attached files after the pages
KEPT = ("read", "scanned", "not-read", "unreadable")  # statuses of files whose bytes are archived


def file_size_limit(settings) -> int:
    """PROPOSALS_ATTACHMENT_MAX_SIZE, else PROPOSALS_MAX_SIZE (the environment), else 16 MB."""
    import os

    from archive.files import SIZE_ENV_VAR, parse_size

    return parse_size(settings.get("PROPOSALS_ATTACHMENT_MAX_SIZE") or os.environ.get(SIZE_ENV_VAR) or None)
# what a page's own script sends with its list requests
XHR_HEADERS = {"X-Requested-With": "XMLHttpRequest", "Accept": "application/json, text/javascript, */*; q=0.01"}


def _usage_error(message: str) -> SystemExit:
    """`scrapy crawl` with bad arguments: one line on stderr, exit 2 (as `proposals crawl` does)."""
    sys.stderr.write(f"error: {message}\n")
    return SystemExit(2)


def acknowledged(callback):
    """A callback of a shared crawl (crawler/shared.py): its request is done once its page is archived
    (the first page item it yields carries the request's key to the pipeline), or, yielding none, once
    its requests are queued."""

    @functools.wraps(callback)
    def wrapper(self, answer, *args: Any, **kwargs: Any) -> Iterator[Any]:
        meta = answer.request.meta if isinstance(answer, Failure) else answer.meta
        key = meta.get("frontier_key")
        carried = key is None
        for result in callback(self, answer, *args, **kwargs):
            if not carried and isinstance(result, PageItem):
                result.ack, carried = key, True
            yield result
        if not carried:
            self.state.shared.ack(key, meta.get("site") or "?")

    return wrapper


class ProposalsSpider(scrapy.Spider):
    """Crawl the proposal columns of the given sites (or of one column URL).

    scrapy crawl proposals -a sites=SLUG[,SLUG…] [-a sites_file=FILE] [-a url=COLUMN_URL]
                           [-a platform=NAME] [-a full=1] -s PROPOSALS_DB=proposals.db [-o items.jsonl]
    """

    name = "proposals"

    def __init__(self, sites: Iterable | str | None = None, url: str | None = None,
                 full: bool | str = False, sites_file: str | None = None, state: CrawlState | None = None,
                 platform: str | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if isinstance(sites, str) or (sites is None and state is None):
            sites = self._named_sites(sites, sites_file, url)
        if platform is not None and platform not in REGISTRY:
            raise _usage_error(f"unknown platform: {platform} (known: {', '.join(REGISTRY)})")
        if url is not None and "://" not in url:
            raise _usage_error(f"url needs an absolute column URL, not {url}")
        self.site_configs = list(sites or []) + ([adhoc_site(url, platform)] if url else [])
        self.full = full if isinstance(full, bool) else str(full).lower() in ("1", "true", "yes")
        self.state = state

    @staticmethod
    def _named_sites(slugs: str | None, sites_file: str | None, url: str | None) -> list:
        """The sites `-a sites=a,b` names, from the shipped registry and `-a sites_file=` over it."""
        try:
            known = registry(sites_file)
        except SitesError as error:
            raise _usage_error(str(error)) from None
        names = [slug.strip() for slug in (slugs or "").split(",") if slug.strip()]
        unknown = [slug for slug in names if slug not in known]
        if unknown:
            raise _usage_error(f"unknown site: {unknown[0]} (known: {', '.join(sorted(known)) or 'none'})")
        if not names and not url:
            raise _usage_error("nothing to crawl: give -a sites=SLUG[,SLUG…] or -a url=COLUMN_URL")
        return [known[slug] for slug in names]

    @classmethod
    def from_crawler(cls, crawler, *args: Any, **kwargs: Any):
        spider = super().from_crawler(crawler, *args, **kwargs)
        if spider.state is None:  # run by `scrapy crawl`: the archive of the PROPOSALS_DB setting
            spider.state = CrawlState.from_settings(crawler.settings, spider.site_configs, full=spider.full)
        spider.max_file_size = file_size_limit(crawler.settings)
        return spider

    # --- what to fetch -------------------------------------------------------------------------

    async def start(self):
        for slug in self.state.seeds():
            site = self.state.sites[slug]
            for column_url in site.config.columns:
                walk = self.state.walk(slug, column_url)
                yield scrapy.Request(column_url, callback=self.parse_column, errback=self.failed,
                                     priority=LIST_PRIORITY, dont_filter=True,
                                     meta={"site": slug, "list_page": True, "column": column_url,
                                           "download_slot": _host(column_url),
                                           "platform": site.config.platform},
                                     cb_kwargs={"walk": walk})
            if not self.state.full and self.state.pages:
                for page in self.state.to_revalidate(slug):
                    if site.config.allows(page.url) and self.state.claim(slug, page.url):
                        yield self.detail_request(slug, page.url, conditional=True)
            if self.state.attachments:
                for url, name, page in site.file_queue:
                    if site.config.allows(url) and self.state.claim_file(slug, url):
                        yield self.file_request(slug, url, name, page)
        if self.state.shared is not None:  # every seed is queued: the others may stop when the queue is empty
            self.state.shared.frontier.seeding(self.state.shared.worker, False)

    def file_request(self, site: str, url: str, name: str | None, page: str | None) -> scrapy.Request:
        """The request for an attached file: conditional where its bytes are archived, within the size limit."""
        headers = {"Referer": page} if page else {}
        known = self.state.sites[site].files.get(url)
        if known is not None and known.status in KEPT:
            if known.etag:
                headers["If-None-Match"] = known.etag
            if known.last_modified:
                headers["If-Modified-Since"] = known.last_modified
        return scrapy.Request(url, callback=self.parse_file, errback=self.file_failed, headers=headers,
                              priority=FILE_PRIORITY, dont_filter=True,
                              meta={"site": site, "file": {"page": page, "name": name}, "download_slot": _host(url),
                                    "download_maxsize": self.max_file_size,
                                    "download_warnsize": self.max_file_size})

    def file_requests(self, site: str, record) -> Iterator[scrapy.Request]:
        """Requests for the attached files of a record just fetched (those on the site's hosts)."""
        if not self.state.attachments:
            return
        config, files = self.state.sites[site].config, self.state.sites[site].files
        for attachment in record.attachments:
            known = files.get(attachment.url)
            if known is not None and known.status == "too-large":
                continue  # not asked again by every crawl: `proposals attachments fetch` does, with its limit
            if known is not None and known.status in KEPT and not (known.etag or known.last_modified) \
                    and not self.state.full:
                continue  # no validators to ask with: downloaded again only by --full (or attachments fetch --again)
            if config.allows(attachment.url) and self.state.claim_file(site, attachment.url):
                yield self.file_request(site, attachment.url, attachment.name, record.url)

    def detail_request(self, site: str, url: str, *, conditional: bool = False, platform: str | None = None,
                       column: str | None = None) -> scrapy.Request:
        headers = {}
        if conditional:
            known = self.state.sites[site].known[url]
            if known.etag:
                headers["If-None-Match"] = known.etag
            if known.last_modified:
                headers["If-Modified-Since"] = known.last_modified
        # each page is asked for once per crawl (CrawlState.claim), so Scrapy's duplicate filter is
        # not needed, and must not swallow a redirect back to a page already seen (a loop)
        return scrapy.Request(url, callback=self.parse_detail, errback=self.failed, headers=headers,
                              meta={"site": site, "platform": platform, "column": column, "claim": True,
                                    "download_slot": _host(url)}, dont_filter=True)

    def follow(self, walk: Walk, entries: Iterable[ListEntry]) -> list[scrapy.Request]:
        """Detail requests for a list page's entries that are not archived (all of them with --full)."""
        site = self.state.sites[walk.site]
        requests, listed, offsite = [], 0, 0
        for entry in entries:
            listed += 1
            if not site.config.allows(entry.url):  # another host's page: never fetched, never the site's record
                offsite += 1
                self.logger.info("not fetched: %s is not on a host of %s", entry.url, walk.site)
            elif self.state.full or entry.url not in site.known:
                walk.known_streak = 0
                if self.state.claim(walk.site, entry.url):
                    requests.append(self.detail_request(walk.site, entry.url, platform=walk.platform.name,
                                                        column=walk.column_url))
            else:  # archived: final ones are left alone, the others are being revalidated already
                walk.known_streak += 1
        self.state.count(walk.site, "listed", listed)
        if offsite:
            self.state.count(walk.site, "offsite", offsite)
        return requests

    def list_request(self, walk: Walk, page: int) -> scrapy.Request | None:
        """The request for list page `page` of a walk, as its platform builds it (None: no such page)."""
        wanted = walk.platform.list_request(walk.column, page, self.settings.getint("PROPOSALS_PAGE_SIZE"))
        if wanted is None:
            return None
        headers = {"Referer": walk.column_url} | (XHR_HEADERS if wanted.xhr else {})
        options = dict(callback=self.parse_list, errback=self.failed, headers=headers, priority=LIST_PRIORITY,
                       cb_kwargs={"walk": walk, "page": page}, dont_filter=True,
                       meta={"site": walk.site, "list_page": True, "column": walk.column_url,
                             "download_slot": _host(wanted.url)})
        if wanted.form is None:
            return scrapy.Request(wanted.url, **options)
        return scrapy.FormRequest(wanted.url, formdata=dict(wanted.form), **options)

    def walk_page(self, walk: Walk, page: int, listing: ListPage) -> Iterator[Any]:
        """A list page's detail requests, then the next list page, or the end of the walk."""
        fresh = [entry for entry in listing.entries if entry.url not in walk.seen]
        if listing.entries and not fresh:  # the answer repeats what this walk listed: past the end
            yield from self.end_walk(walk, "end")
            return
        walk.seen.update(entry.url for entry in listing.entries)
        walk.listed += len(listing.entries)
        walk.total = listing.total if listing.total is not None else walk.total
        walk.last_page = listing.last_page or walk.last_page
        yield from self.follow(walk, fresh)
        if walk.resumable and walk.known_streak >= self.settings.getint("PROPOSALS_LIST_OVERLAP"):
            self.state.ended(walk, "caught-up")  # the rest of the list was archived by a complete walk
            return
        if not listing.entries or (walk.last_page is not None and page >= walk.last_page) or (
                walk.last_page is None and walk.total is not None and len(walk.seen) >= walk.total):
            yield from self.end_walk(walk, "end")
            return
        yield from self.next_page(walk, page)

    def next_page(self, walk: Walk, page: int) -> Iterator[Any]:
        following = self.list_request(walk, page + 1)
        if following is None:
            yield from self.end_walk(walk, "end")
        else:
            yield following

    def end_walk(self, walk: Walk, how: str) -> Iterator[PageItem]:
        """The walk reached the end of its list: a failure if the list said it holds more than its
        pages listed (unless a page of it was lost: that failure is reported already, and explains it)."""
        self.state.ended(walk, how)
        if walk.total is not None and walk.listed < walk.total and not walk.lost_pages:
            reason = f"the list states {walk.total} records but its pages listed {walk.listed}"
            yield PageItem(FAILED, walk.site, walk.column_url, fetched_at=self.state.now(), reason=reason,
                           column=walk.column_url)

    def after_failed_page(self, walk: Walk, page: int) -> Iterator[Any]:
        """A list page failed: go on with the next one where the list's length is known."""
        walk.lost_pages += 1
        if walk.platform is not None and walk.last_page is not None and page < walk.last_page:
            yield from self.next_page(walk, page)

    # --- callbacks ---------------------------------------------------------------------------------

    @acknowledged
    def parse_column(self, response: Response, walk: Walk) -> Iterator[Any]:
        if response.meta.get("blocked") or response.meta.get("failed"):
            yield self.flagged(response)
            return
        name = response.meta.get("platform")
        platform = REGISTRY[name] if name else detect(response.text, response.url)
        if platform is None:
            yield self.page_item(response, FAILED, reason="not a column page of a known platform "
                                                          f"({', '.join(REGISTRY)})")
            return
        try:
            walk.platform, walk.column = platform, platform.read_column(response.text, response.url)
        except NotAListPage as error:
            yield self.page_item(response, FAILED, reason=f"{platform.name} column page: {error}")
            return
        if walk.column.first is not None:
            yield from self.walk_page(walk, 1, walk.column.first)
        else:
            yield from self.next_page(walk, 0)

    @acknowledged
    def parse_list(self, response: Response, walk: Walk, page: int) -> Iterator[Any]:
        if response.meta.get("blocked") or response.meta.get("failed"):
            yield self.flagged(response)
            yield from self.after_failed_page(walk, page)
            return
        try:
            listing = walk.platform.read_list(response.body, response.url, walk.column)
        except NotAListPage as error:
            yield self.page_item(response, FAILED, reason=f"list page {page}: {error}")
            yield from self.after_failed_page(walk, page)
            return
        yield from self.walk_page(walk, page, listing)

    @acknowledged
    def parse_detail(self, response: Response) -> Iterator[Any]:
        if response.status == 304:
            yield self.page_item(response, NOT_MODIFIED)
        elif response.meta.get("blocked") or response.meta.get("failed"):
            yield self.flagged(response)
        else:
            item = self.parsed(response)
            yield item
            if item.record is not None:
                yield from self.file_requests(item.site, item.record)

    @acknowledged
    def parse_file(self, response: Response) -> Iterator[Any]:
        meta, site = response.meta, response.meta["site"]
        url = (meta.get("redirect_urls") or [response.url])[0]  # the link as the page gives it (a gateway's too)
        known = dict(page=meta["file"]["page"], name=meta["file"]["name"], fetched_at=self.state.now(),
                     status=response.status)
        if response.status == 304:
            yield FileItem("not-modified", site, url, **known)
            return
        content_type = _header(response.headers, b"Content-Type")
        if meta.get("blocked"):
            yield FileItem("blocked", site, url, reason=meta["blocked"], **known)
        elif meta.get("failed"):
            yield FileItem("failed", site, url, reason=meta["failed"], **known)
        elif response.status >= 400:
            yield FileItem("failed", site, url, reason=http_cause(response.status), **known)
            yield from self.reread_page(site, known["page"])
        elif "html" in (content_type or "").lower() and response.body.lstrip()[:1] == b"<":
            yield FileItem("failed", site, url, reason="a web page came instead of the file (an expired link?)",
                           **known)
            yield from self.reread_page(site, known["page"])
        else:
            yield FileItem("fetched", site, url, body=response.body, etag=_header(response.headers, b"ETag"),
                           last_modified=_header(response.headers, b"Last-Modified"), content_type=content_type,
                           **known)

    @acknowledged
    def file_failed(self, failure) -> Iterator[Any]:
        request = failure.request
        site, attached = request.meta["site"], request.meta["file"]
        error = failure.value
        too_large = isinstance(error, DownloadCancelledError) or "max size" in str(error)
        reason = (f"over the size limit ({human_size(self.max_file_size)})" if too_large else describe(error))
        response = getattr(error, "response", None)
        url = (request.meta.get("redirect_urls") or [request.url])[0]
        yield FileItem("too-large" if too_large else "failed", site, url, page=attached["page"],
                       name=attached["name"], fetched_at=self.state.now(), status=getattr(response, "status", None),
                       reason=reason)
        if not too_large and response is not None:
            yield from self.reread_page(site, attached["page"])

    def reread_page(self, site: str, page: str | None) -> Iterator[scrapy.Request]:
        """A file link that no longer answers may have expired (gateway links are time-limited): its
        page is asked again (once a crawl), and the links it gives now are followed."""
        if page and self.state.sites[site].config.allows(page) and self.state.claim(site, page):
            yield self.detail_request(site, page)

    def parsed(self, response: Response) -> PageItem:
        charset = content_type_charset(_header(response.headers, b"Content-Type"))
        # the family that listed the page reads it; revalidated pages are read by the generic parser
        platform = REGISTRY.get(response.meta.get("platform") or "")
        parse = platform.parse_detail if platform is not None else parse_detail
        try:
            record = parse(response.body, response.url, encoding=charset)
        except NotAProposalPage as error:
            # a page of the column that is not one proposal's record (a yearly summary, a notice) is
            # skipped: neither a failure nor a record
            kind = {"blocked": BLOCKED, NOT_A_RECORD: SKIPPED}.get(error.reason, FAILED)
            return self.page_item(response, kind, reason=f"not a proposal page: {error}")
        return self.page_item(response, RECORD, record=record)

    @acknowledged
    def failed(self, failure) -> Iterator[Any]:
        request = failure.request
        response = getattr(failure.value, "response", None)
        yield PageItem(FAILED, request.meta["site"], request.url, fetched_at=self.state.now(),
                       status=getattr(response, "status", None), reason=describe(failure.value),
                       column=request.meta.get("column"))
        walk, page = request.cb_kwargs.get("walk"), request.cb_kwargs.get("page")
        if walk is not None and page is not None:
            yield from self.after_failed_page(walk, page)

    def flagged(self, response: Response) -> PageItem:
        """An answer the middlewares judged not to be the page: blocked, or failed (cut short for good)."""
        if response.meta.get("blocked"):
            return self.page_item(response, BLOCKED, reason=response.meta["blocked"])
        return self.page_item(response, FAILED, reason=response.meta["failed"])

    def page_item(self, response: Response, kind: str, **fields: Any) -> PageItem:
        headers = response.headers
        return PageItem(kind, response.meta["site"], response.url, fetched_at=self.state.now(),
                        status=response.status, body=response.body if kind != NOT_MODIFIED else None,
                        etag=_header(headers, b"ETag"), last_modified=_header(headers, b"Last-Modified"),
                        content_type=_header(headers, b"Content-Type"), column=response.meta.get("column"),
                        **fields)


def _host(url: str) -> str:
    """A request's download slot: its host and port (what the scheduler's per-slot queues and the
    downloader's slots both go by; SiteGateMiddleware sets it again for redirects)."""
    return urlsplit(url).netloc.lower()


def _header(headers, name: bytes) -> str | None:
    value = headers.get(name)
    return value.decode("latin-1") if value else None
