"""Hanweb legacy jpage columns: the first group embedded in the column page, then `dataproxy.jsp` POSTs."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode

from scrapy.http import Response

from ..parsers.listing import JPAGE, JpageColumn, jpage_column, jpage_list
from .base import ProposalsSpider


def walk_column(spider: ProposalsSpider, response: Response) -> Iterator[Any]:
    """The embedded first group first; later groups only while the walk goes on."""
    column = jpage_column(response.text, response.url)
    requests, keep_going = spider.follow(response.meta["walk"], column.first_group.entries)
    yield from requests
    start = column.group_records + 1
    if keep_going and column.total is not None and start <= column.total:
        yield _group_request(spider, response, column, start)


def _group_request(spider: ProposalsSpider, response: Response, column: JpageColumn, start: int):
    url = column.proxy_url + "?" + urlencode(column.group_params(start))
    return spider.list_request(response, url, parse_group, formdata=column.form, column=column, start=start,
                               spider=spider)


def parse_group(response: Response, column: JpageColumn, start: int, spider: ProposalsSpider) -> Iterator[Any]:
    listing, output, keep_going = spider.walk_list(response, jpage_list)
    yield from output
    if not keep_going:
        return
    total = listing.total if listing.total is not None else column.total
    following = start + column.group_records
    # <nextgroup> is printed even after the last group: the total decides
    if total is not None and following <= total:
        yield _group_request(spider, response, column, following)


class HanwebJpageSpider(ProposalsSpider):
    """Columns of the legacy Hanweb jpage platform (no detection)."""

    name = JPAGE
    platform = JPAGE
