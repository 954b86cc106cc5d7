"""Hanweb JPaaS columns: lists from the api-gateway unit API, paged only through `paramJson`."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import quote, urlencode

from scrapy.http import Response

from ..parsers.listing import JPAAS, JpaasColumn, jpaas_column, jpaas_list
from .base import ProposalsSpider


def walk_column(spider: ProposalsSpider, response: Response) -> Iterator[Any]:
    """The column page names the unit API and its ids; the walk asks for page 1."""
    column = jpaas_column(response.text, response.url)
    yield _page_request(spider, response, column, 1)


def _page_request(spider: ProposalsSpider, response: Response, column: JpaasColumn, page_no: int):
    size = spider.settings.getint("PROPOSALS_PAGE_SIZE")
    url = column.unit_url + "?" + urlencode(column.list_params(page_no, size), quote_via=quote)
    return spider.list_request(response, url, parse_list, column=column, page_no=page_no, spider=spider)


def parse_list(response: Response, column: JpaasColumn, page_no: int, spider: ProposalsSpider) -> Iterator[Any]:
    listing, output, keep_going = spider.walk_list(response, jpaas_list)
    yield from output
    if keep_going and (listing.page_count is None or page_no < listing.page_count):
        yield _page_request(spider, response, column, page_no + 1)


class HanwebJpaasSpider(ProposalsSpider):
    """Columns of the Hanweb JPaaS platform (no detection)."""

    name = JPAAS
    platform = JPAAS
