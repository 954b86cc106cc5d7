"""Hanweb legacy JCMS "jpage": the first group embedded in the column page, then `dataproxy.jsp` POSTs.

The column page embeds the first group of the list in `<datastore>` and carries `var param_NNN =
{…}` plus the jpage call (perPage, groupSize, totalRecord, proxyUrl); later groups come from form
POSTs to `dataproxy.jsp` answering the same `<datastore>` XML. A list page here is one group.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlencode, urljoin

from selectolax.lexbor import LexborHTMLParser

from ..parsers import parse_detail
from .base import ListPage, ListRequest, NotAListPage, Platform, check_depth, dedupe, entry, last_page_of, to_int
from .hanweb_jpaas import column_id, is_article

NAME = "hanweb-jpage"


@dataclass(frozen=True, slots=True)
class JpageColumn:
    proxy_url: str             # absolute URL of dataproxy.jsp
    form: dict[str, str]       # the POST body, from var param_NNN
    per_page: int
    group_size: int
    total: int | None
    first: ListPage            # the records embedded in the column page: list page 1
    name: str | None

    @property
    def group_records(self) -> int:
        return self.per_page * self.group_size

    def group_params(self, start: int) -> dict[str, str]:
        """startrecord/endrecord/perpage of the group that begins at record `start` (1-based)."""
        return {"startrecord": str(start), "endrecord": str(start + self.group_records - 1),
                "perpage": str(self.per_page)}



_JPAGE_PARAM_RE = re.compile(r"var\s+param_(\w+)\s*=\s*(\{.*?\})\s*;", re.S)
_JPAGE_CALL_RE = re.compile(r"\.jpage\(\s*\{(.*?)\}\s*\)", re.S)
_DATASTORE_RE = re.compile(r"<datastore>(.*?)</datastore>", re.S | re.I)
_RECORD_RE = re.compile(r"<record>\s*<!\[CDATA\[(.*?)\]\]>\s*</record>", re.S | re.I)
_TOTAL_RE = re.compile(r"<totalrecord>\s*(\d+)\s*</totalrecord>", re.I)
_DATASTORE_UNIT_RE = re.compile(r"<div[^>]*\bid=[\"']?(\w+)[\"']?[^>]*>\s*<script[^>]*text/xml[^>]*>\s*"
                                r"(<datastore>.*?</datastore>)", re.S | re.I)


def detect(markup: str, url: str) -> bool:
    """A column page of this family embeds a <datastore> and a `var param_NNN`."""
    return "<datastore>" in markup and bool(_JPAGE_PARAM_RE.search(markup))


def _js_object(text: str) -> dict[str, str]:
    """`{col:1,unitid:'78231',webname:'古城县人民政府'}` -> strings (a flat JavaScript object literal)."""
    pairs = re.findall(r"""(\w+)\s*:\s*('(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*"|[^,{}]+)""", text)
    return {key: value.strip().strip("'\"") for key, value in pairs}


def read_column(markup: str, url: str) -> JpageColumn:
    """The first group and the dataproxy parameters, read from the column page.

    A page may carry several jpage units (a sidebar list, the column's list): the column's is the
    one whose `columnid` is the page's column, else the one with the most records."""
    params = {match.group(1): _js_object(match.group(2)) for match in _JPAGE_PARAM_RE.finditer(markup)}
    if not params:
        raise NotAListPage("no var param_NNN: not a jpage column page")
    if markup.lower().count("<datastore") > markup.lower().count("</datastore>"):
        raise NotAListPage("the column page's <datastore> is cut short (no </datastore>)")
    stores = {match.group(1): match.group(2) for match in _DATASTORE_UNIT_RE.finditer(markup)}
    groups = {unit: read_list(store, url) for unit, store in stores.items()}
    this_column = column_id(url)

    def rank(unit: str) -> tuple[bool, int]:
        return params[unit].get("columnid") == this_column, len(groups[unit].entries) if unit in groups else -1

    unit_id = max(params, key=rank)
    calls = [match.group(1) for match in _JPAGE_CALL_RE.finditer(markup)]
    call = _js_object(next((c for c in calls if f"param_{unit_id}" in c), calls[0] if calls else ""))
    if unit_id in groups:
        first = groups[unit_id]
    else:  # a datastore without the unit's id around it
        datastore = _DATASTORE_RE.search(markup)
        first = read_list(datastore.group(0), url) if datastore else ListPage(())
    name = re.search(r"""<meta\s+name=["']ColumnName["']\s+content=["']([^"']*)""", markup, re.I)
    total = to_int(call.get("totalRecord")) if call.get("totalRecord") else first.total
    per_page, group_size = to_int(call.get("perPage")) or 15, to_int(call.get("groupSize")) or 3
    return JpageColumn(
        proxy_url=urljoin(url, call.get("proxyUrl") or "/module/jpage/dataproxy.jsp"),
        form=params[unit_id],
        per_page=per_page,
        group_size=group_size,
        total=total,
        first=ListPage(first.entries, total, last_page_of(total, per_page * group_size), page_no=1,
                       rows=per_page * group_size),
        name=name.group(1) if name else None,
    )


def list_request(column: JpageColumn, page: int, page_size: int) -> ListRequest | None:
    """Group `page` (1-based) of the list; None past the total the column page states."""
    start = (page - 1) * column.group_records + 1
    if column.total is not None and start > column.total:
        return None
    url = column.proxy_url + "?" + urlencode(column.group_params(start))
    return ListRequest(url, page, form=tuple(column.form.items()), xhr=True)


def read_list(body: bytes | str, url: str, column: JpageColumn | None = None) -> ListPage:
    """A `<datastore>`: its records (CDATA tables with a[href][title] and [date]) and totals."""
    text = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
    lowered = text.lower()
    if "<datastore" not in lowered:
        raise NotAListPage("no <datastore>: not a jpage list answer")
    if "</datastore>" not in lowered:
        raise NotAListPage("a jpage list answer cut short (no </datastore>)")
    entries = []
    for record in _RECORD_RE.findall(text):
        check_depth(record, "a jpage list record")
        tree = LexborHTMLParser(record)
        link = tree.css_first("a[href]")
        if link is None:
            continue
        entries.append(entry(url, link, tree.body.text() if tree.body is not None else record))
    total_match = _TOTAL_RE.search(text)
    total = to_int(total_match.group(1)) if total_match else None
    # <nextgroup> is printed even after the last group: the total decides
    if column is None:
        return ListPage(dedupe(entries), total)
    last_page = last_page_of(total if total is not None else column.total, column.group_records)
    return ListPage(dedupe(entries), total, last_page, rows=column.group_records)


PLATFORM = Platform(name=NAME, detect=detect, read_column=read_column, list_request=list_request,
                    read_list=read_list, parse_detail=parse_detail, is_article=is_article)
