"""The one spider: walks proposal columns (column pages, their lists, the records' detail pages).

What to fetch is decided here; how a platform pages its lists lives in one module per family
(crawler/platforms/), reached only through the registry. A crawl is incremental: a list is walked
until it reaches records the archive already holds (with a small overlap, since lists shift),
known pages are not fetched again, and records that are not final yet are revalidated with
conditional GETs.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

import scrapy
from scrapy.http import Response

from ..items import BLOCKED, FAILED, NOT_MODIFIED, RECORD, SKIPPED, PageItem
from ..parsers import NotAProposalPage, parse_detail
from ..parsers.encoding import content_type_charset
from ..platforms import REGISTRY, ListEntry, ListPage, NotAListPage, Platform, detect
from ..sites import SiteConfig, adhoc_site, registry
from ..state import CrawlState

NOT_A_RECORD = "not-a-record"  # NotAProposalPage.reason of a real page that holds no single record
LIST_PRIORITY = 10  # lists first, so that the walk goes on while detail pages download
# what a page's own script sends with its list requests
XHR_HEADERS = {"X-Requested-With": "XMLHttpRequest", "Accept": "application/json, text/javascript, */*; q=0.01"}


class Walk:
    """One column's list walk: its platform and column, how many archived records in a row it has met."""

    def __init__(self, site: str, column_url: str) -> None:
        self.site = site
        self.column_url = column_url
        self.known_streak = 0
        self.platform: Platform | None = None
        self.column: Any = None


class ProposalsSpider(scrapy.Spider):
    """Crawl the proposal columns of the given sites (or of one column URL)."""

    name = "proposals"

    def __init__(self, sites: Iterable[SiteConfig] | str | None = None, url: str | None = None,
                 full: bool | str = False, sites_file: str | None = None, state: CrawlState | None = None,
                 platform: str | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if isinstance(sites, str):  # scrapy crawl proposals -a sites=zhoushan,other
            known = registry(sites_file)
            sites = [known[slug.strip()] for slug in sites.split(",") if slug.strip()]
        self.site_configs = list(sites or []) + ([adhoc_site(url, platform)] if url else [])
        self.full = full if isinstance(full, bool) else str(full).lower() in ("1", "true", "yes")
        self.state = state

    @classmethod
    def from_crawler(cls, crawler, *args: Any, **kwargs: Any):
        spider = super().from_crawler(crawler, *args, **kwargs)
        if spider.state is None:  # run by `scrapy crawl`: the archive of the PROPOSALS_DB setting
            spider.state = CrawlState.from_settings(crawler.settings, spider.site_configs, full=spider.full)
        return spider

    # --- what to fetch -------------------------------------------------------------------------

    async def start(self):
        for slug, site in self.state.sites.items():
            for column_url in site.config.columns:
                yield scrapy.Request(column_url, callback=self.parse_column, errback=self.failed,
                                     priority=LIST_PRIORITY, dont_filter=True,
                                     meta={"site": slug, "list_page": True, "walk": Walk(slug, column_url),
                                           "platform": site.config.platform})
            if not self.state.full:
                for page in self.state.to_revalidate(slug):
                    yield self.detail_request(slug, page.url, conditional=True)

    def detail_request(self, site: str, url: str, *, conditional: bool = False,
                       platform: str | None = None) -> scrapy.Request:
        headers = {}
        if conditional:
            known = self.state.sites[site].known[url]
            if known.etag:
                headers["If-None-Match"] = known.etag
            if known.last_modified:
                headers["If-Modified-Since"] = known.last_modified
        return scrapy.Request(url, callback=self.parse_detail, errback=self.failed, headers=headers,
                              meta={"site": site, "platform": platform}, dont_filter=self.state.full)

    def follow(self, walk: Walk, entries: Iterable[ListEntry]) -> tuple[list[scrapy.Request], bool]:
        """Detail requests for a list page's new entries, and whether the walk should go on."""
        site = self.state.sites[walk.site]
        requests, listed = [], 0
        for entry in entries:
            listed += 1
            if self.state.full or entry.url not in site.known:
                walk.known_streak = 0
                requests.append(self.detail_request(walk.site, entry.url, platform=walk.platform.name))
            else:  # archived: final ones are left alone, the others are being revalidated already
                walk.known_streak += 1
        self.state.count(walk.site, "listed", listed)
        overlap = self.settings.getint("PROPOSALS_LIST_OVERLAP")
        return requests, self.state.full or walk.known_streak < overlap

    def list_request(self, walk: Walk, page: int) -> scrapy.Request | None:
        """The request for list page `page` of a walk, as its platform builds it (None: no such page)."""
        wanted = walk.platform.list_request(walk.column, page, self.settings.getint("PROPOSALS_PAGE_SIZE"))
        if wanted is None:
            return None
        headers = {"Referer": walk.column_url} | (XHR_HEADERS if wanted.xhr else {})
        meta = {"site": walk.site, "walk": walk, "list_page": True}
        if wanted.form is None:
            return scrapy.Request(wanted.url, callback=self.parse_list, errback=self.failed, meta=meta,
                                  headers=headers, priority=LIST_PRIORITY, cb_kwargs={"page": page},
                                  dont_filter=True)
        return scrapy.FormRequest(wanted.url, formdata=dict(wanted.form), callback=self.parse_list,
                                  errback=self.failed, meta=meta, headers=headers, priority=LIST_PRIORITY,
                                  cb_kwargs={"page": page}, dont_filter=True)

    def walk_page(self, walk: Walk, page: int, listing: ListPage) -> Iterator[scrapy.Request]:
        """A list page's detail requests, then the next list page while the walk goes on."""
        requests, keep_going = self.follow(walk, listing.entries)
        yield from requests
        if keep_going and listing.entries and (listing.last_page is None or page < listing.last_page):
            following = self.list_request(walk, page + 1)
            if following is not None:
                yield following

    # --- callbacks ---------------------------------------------------------------------------------

    def parse_column(self, response: Response) -> Iterator[Any]:
        if response.meta.get("blocked"):
            yield self.page_item(response, BLOCKED, reason=response.meta["blocked"])
            return
        name = response.meta.get("platform")
        platform = REGISTRY[name] if name else detect(response.text, response.url)
        if platform is None:
            yield self.page_item(response, FAILED, reason="not a column page of a known platform "
                                                          f"({', '.join(REGISTRY)})")
            return
        walk: Walk = response.meta["walk"]
        try:
            walk.platform, walk.column = platform, platform.read_column(response.text, response.url)
        except NotAListPage as error:
            yield self.page_item(response, FAILED, reason=f"{platform.name} column page: {error}")
            return
        if walk.column.first is not None:
            yield from self.walk_page(walk, 1, walk.column.first)
        else:
            first = self.list_request(walk, 1)
            if first is not None:
                yield first

    def parse_list(self, response: Response, page: int) -> Iterator[Any]:
        if response.meta.get("blocked"):
            yield self.page_item(response, BLOCKED, reason=response.meta["blocked"])
            return
        walk: Walk = response.meta["walk"]
        try:
            listing = walk.platform.read_list(response.body, response.url, walk.column)
        except NotAListPage as error:
            yield self.page_item(response, FAILED, reason=str(error))
            return
        yield from self.walk_page(walk, page, listing)

    def parse_detail(self, response: Response) -> Iterator[PageItem]:
        if response.status == 304:
            yield self.page_item(response, NOT_MODIFIED)
        elif response.meta.get("blocked"):
            yield self.page_item(response, BLOCKED, reason=response.meta["blocked"])
        else:
            yield self.parsed(response)

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
            kind = {"blocked": BLOCKED, "truncated": BLOCKED, NOT_A_RECORD: SKIPPED}.get(error.reason, FAILED)
            return self.page_item(response, kind, reason=f"not a proposal page: {error}")
        return self.page_item(response, RECORD, record=record)

    def failed(self, failure) -> Iterator[PageItem]:
        request = failure.request
        response = getattr(failure.value, "response", None)
        reason = f"HTTP {response.status}" if response is not None else (
            f"{type(failure.value).__name__}: {failure.value}".strip().rstrip(":"))
        yield PageItem(FAILED, request.meta["site"], request.url, status=getattr(response, "status", None),
                       reason=reason)

    def page_item(self, response: Response, kind: str, **fields: Any) -> PageItem:
        headers = response.headers
        return PageItem(kind, response.meta["site"], response.url, status=response.status,
                        body=response.body if kind != NOT_MODIFIED else None,
                        etag=_header(headers, b"ETag"), last_modified=_header(headers, b"Last-Modified"),
                        content_type=_header(headers, b"Content-Type"), **fields)


def _header(headers, name: bytes) -> str | None:
    value = headers.get(name)
    return value.decode("latin-1") if value else None

