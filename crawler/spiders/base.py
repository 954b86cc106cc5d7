"""The spider that walks proposal columns: column pages, their lists, the records' detail pages.

What to fetch is decided here; how a platform pages its lists lives in one module per platform
(hanweb_jpaas.py, hanweb_jpage.py). A crawl is incremental: a list is walked until it reaches
records the archive already holds (with a small overlap, since lists shift), known pages are not
fetched again, and records that are not final yet are revalidated with conditional GETs.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

import scrapy
from scrapy.http import Response

from ..items import BLOCKED, FAILED, NOT_MODIFIED, RECORD, PageItem
from ..parsers import NotAProposalPage, parse_detail
from ..parsers.encoding import content_type_charset
from ..parsers.listing import JPAAS, JPAGE, ListEntry, ListPage, NotAListPage, detect_platform
from ..sites import SiteConfig, adhoc_site, registry
from ..state import CrawlState

LIST_PRIORITY = 10  # lists first, so that the walk goes on while detail pages download


class Walk:
    """One column's list walk: how many archived records in a row it has met."""

    def __init__(self, site: str, column_url: str) -> None:
        self.site = site
        self.column_url = column_url
        self.known_streak = 0


class ProposalsSpider(scrapy.Spider):
    """Crawl the proposal columns of the given sites (or of one column URL)."""

    name = "proposals"
    platform: str | None = None  # set by the per-platform spiders: no detection

    def __init__(self, sites: Iterable[SiteConfig] | str | None = None, url: str | None = None,
                 full: bool | str = False, sites_file: str | None = None, state: CrawlState | None = None,
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if isinstance(sites, str):  # scrapy crawl proposals -a sites=zhoushan,other
            known = registry(sites_file)
            sites = [known[slug.strip()] for slug in sites.split(",") if slug.strip()]
        self.site_configs = list(sites or []) + ([adhoc_site(url, self.platform)] if url else [])
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
                                           "platform": site.config.platform or self.platform})
            if not self.state.full:
                for page in self.state.to_revalidate(slug):
                    yield self.detail_request(slug, page.url, conditional=True)

    def detail_request(self, site: str, url: str, *, conditional: bool = False) -> scrapy.Request:
        headers = {}
        if conditional:
            known = self.state.sites[site].known[url]
            if known.etag:
                headers["If-None-Match"] = known.etag
            if known.last_modified:
                headers["If-Modified-Since"] = known.last_modified
        return scrapy.Request(url, callback=self.parse_detail, errback=self.failed, headers=headers,
                              meta={"site": site}, dont_filter=self.state.full)

    def follow(self, walk: Walk, entries: Iterable[ListEntry]) -> tuple[list[scrapy.Request], bool]:
        """Detail requests for a list page's new entries, and whether the walk should go on."""
        site = self.state.sites[walk.site]
        requests, listed = [], 0
        for entry in entries:
            listed += 1
            if self.state.full or entry.url not in site.known:
                walk.known_streak = 0
                requests.append(self.detail_request(walk.site, entry.url))
            else:  # archived: final ones are left alone, the others are being revalidated already
                walk.known_streak += 1
        self.state.count(walk.site, "listed", listed)
        overlap = self.settings.getint("PROPOSALS_LIST_OVERLAP")
        return requests, self.state.full or walk.known_streak < overlap

    def walk_list(self, response: Response, read) -> tuple[ListPage | None, list[Any], bool]:
        """A list answer read by `read`: (the list, its detail requests or an item saying why there is
        no list, whether the walk goes on)."""
        if response.meta.get("blocked"):
            return None, [self.page_item(response, BLOCKED, reason=response.meta["blocked"])], False
        try:
            listing = read(response.body, response.url)
        except NotAListPage as error:
            return None, [self.page_item(response, FAILED, reason=str(error))], False
        requests, keep_going = self.follow(response.meta["walk"], listing.entries)
        return listing, requests, keep_going and bool(listing.entries)

    def list_request(self, response: Response, url: str, callback, *, formdata: dict[str, str] | None = None,
                     **cb_kwargs: Any) -> scrapy.Request:
        """A list request of the walk `response` belongs to: a GET, or with `formdata` a form POST."""
        meta = {key: response.meta[key] for key in ("site", "walk")} | {"list_page": True}
        headers = {"X-Requested-With": "XMLHttpRequest", "Referer": response.meta["walk"].column_url,
                   "Accept": "application/json, text/javascript, */*; q=0.01"}
        form = {} if formdata is None else {"formdata": formdata}
        request_class = scrapy.Request if formdata is None else scrapy.FormRequest
        return request_class(url, callback=callback, errback=self.failed, meta=meta, headers=headers,
                             priority=LIST_PRIORITY, cb_kwargs=cb_kwargs, dont_filter=True, **form)

    # --- callbacks ---------------------------------------------------------------------------------

    def parse_column(self, response: Response) -> Iterator[Any]:
        if response.meta.get("blocked"):
            yield self.page_item(response, BLOCKED, reason=response.meta["blocked"])
            return
        platform = response.meta.get("platform") or detect_platform(response.text)
        walker = walker_for(platform)
        if walker is None:
            yield self.page_item(response, FAILED, reason="not a column page of a known platform "
                                                          "(no unitbuild.js queryData, no jpage datastore)")
            return
        try:
            yield from walker(self, response)
        except NotAListPage as error:
            yield self.page_item(response, FAILED, reason=f"{platform} column page: {error}")

    def parse_detail(self, response: Response) -> Iterator[PageItem]:
        if response.status == 304:
            yield self.page_item(response, NOT_MODIFIED)
        elif response.meta.get("blocked"):
            yield self.page_item(response, BLOCKED, reason=response.meta["blocked"])
        else:
            yield self.parsed(response)

    def parsed(self, response: Response) -> PageItem:
        charset = content_type_charset(_header(response.headers, b"Content-Type"))
        try:
            record = parse_detail(response.body, response.url, encoding=charset)
        except NotAProposalPage as error:
            kind = BLOCKED if error.reason in ("blocked", "truncated") else FAILED
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


def walker_for(platform: str | None):
    """The list walk of a platform: a function (spider, column response) -> requests and items."""
    from . import hanweb_jpaas, hanweb_jpage

    return {JPAAS: hanweb_jpaas.walk_column, JPAGE: hanweb_jpage.walk_column}.get(platform or "")
