"""Hanweb JPaaS (the Zhejiang intensive platform): lists from the api-gateway unit API.

The column page carries `unitbuild.js` with a `queryData` (webId, pageId, tagId, tplSetId …); the
组配分类 code is the column's `?number=` (or the tree's current link) and the tree's `xxgkParams`
carries the nodeId. Lists come from the unit API as JSON whose `data.html` holds the list items
and a pager element with count/rows/pageNo/pageCount. Paging goes only through `paramJson`.
"""

from __future__ import annotations

import html as _html
import json
import re
from dataclasses import dataclass
from urllib.parse import parse_qs, quote, urlencode, urljoin, urlsplit

from selectolax.lexbor import LexborHTMLParser

from ..parsers import parse_detail
from .base import ListPage, ListRequest, NotAListPage, Platform, dedupe, entry, to_int

NAME = "hanweb-jpaas"
UNIT_PATH = "/api-gateway/jpaas-publish-server/front/page/build/unit"


@dataclass(frozen=True, slots=True)
class JpaasColumn:
    unit_url: str            # absolute URL of the unit API
    query: dict[str, str]    # webId, pageId, tagId, tplSetId, pageType, parseType, editType, unitType
    xxgk_id: str | None      # the 组配分类 code (?number=)
    node_id: str | None
    name: str | None
    first: ListPage | None = None  # the list is never in the column page

    def list_params(self, page_no: int, page_size: int) -> dict[str, str]:
        """The query string of one list page: paging goes only through paramJson."""
        search = json.dumps({"xxgkId": self.xxgk_id or "", "xxgkType": "xxgk_combination",
                             "nodeId": self.node_id or "", "className": ""}, ensure_ascii=False,
                            separators=(",", ":"))
        param_json = json.dumps({"pageNo": page_no, "pageSize": page_size, "search": search},
                                ensure_ascii=False, separators=(",", ":"))
        return {**self.query, "paramJson": param_json}


_UNITBUILD_RE = re.compile(r"<script\b[^>]*unitbuild\.js[^>]*>", re.I)
_QUERYDATA_RE = re.compile(r"""\bquerydata\s*=\s*(?:"([^"]*)"|'([^']*)')""", re.I)
_COLUMN_ID_RE = re.compile(r"/col/col(\d+)/")


def detect(markup: str, url: str) -> bool:
    """A column page of this family carries unitbuild.js with a queryData."""
    tag = _UNITBUILD_RE.search(markup)
    return bool(tag and _QUERYDATA_RE.search(tag.group(0)))


def _loose_json(text: str) -> dict:
    """queryData is single-quoted JSON; browsers swap the quotes before parsing, so do we."""
    return json.loads(_html.unescape(text).replace("'", '"'))


def column_id(url: str) -> str | None:
    match = _COLUMN_ID_RE.search(urlsplit(url).path + "/")
    return match.group(1) if match else None


def _list_units(markup: str) -> list[tuple[dict[str, str], str]]:
    """Every unitbuild.js unit of a JPaaS page: (queryData, its script tag)."""
    units = []
    for tag in _UNITBUILD_RE.finditer(markup):
        query = _QUERYDATA_RE.search(tag.group(0))
        if not query:
            continue
        try:
            data = {key: str(value) for key, value in _loose_json(query.group(1) or query.group(2)).items()}
        except ValueError:
            continue
        units.append((data, tag.group(0)))
    return units


def read_column(markup: str, url: str) -> JpaasColumn:
    """What the list API needs, read from the column page itself (never hard-coded).

    A page may carry several units (a sidebar, a list): the list of this column is the one whose
    pageId is the column's and whose tag or type names a list."""
    units = _list_units(markup)
    if not units:
        raise NotAListPage("no unitbuild.js script with a readable queryData: not a JPaaS column page")
    this_column = column_id(url)

    def rank(unit: tuple[dict[str, str], str]) -> tuple[bool, bool]:
        data = unit[0]
        listy = "list" in data.get("tagId", "").lower() or "xxgk" in data.get("unitType", "").lower()
        return data.get("pageId") == this_column, listy

    query, tag = max(units, key=rank)  # max keeps the first of equals: the page's order breaks ties
    unit = re.search(r"""\burl\s*=\s*["']([^"']+)["']""", tag)
    unit_url = urljoin(url, unit.group(1) if unit else UNIT_PATH)
    tree = LexborHTMLParser(markup)
    params = tree.css_first(".xxgkParams, [nodeid]")
    node_id = params.attributes.get("nodeid") if params is not None else None
    xxgk_id = parse_qs(urlsplit(url).query).get("number", [None])[0] or _current_code(tree, query.get("pageId"))
    name_node = tree.css_first('meta[name="ColumnName"]')
    name = name_node.attributes.get("content") if name_node is not None else None
    return JpaasColumn(unit_url, query, xxgk_id, node_id, name)


def _current_code(tree: LexborHTMLParser, page_id: str | None) -> str | None:
    """The 组配分类 code of this column from the tree: the current item, else the link to the column."""
    for link in tree.css("li.on > a[href], a[href]"):
        href = link.attributes.get("href") or ""
        if "number=" in href and (page_id is None or f"col{page_id}/" in href):
            return parse_qs(urlsplit(href).query).get("number", [None])[0]
    return None


def list_request(column: JpaasColumn, page: int, page_size: int) -> ListRequest:
    url = column.unit_url + "?" + urlencode(column.list_params(page, page_size), quote_via=quote)
    return ListRequest(url, page, xhr=True)


_ARTICLE_HREF_RE = re.compile(r"/art/|art_\d")


def read_list(body: bytes | str, url: str, column: JpaasColumn | None = None) -> ListPage:
    """One answer of the unit API: its records, the list's total and page count."""
    if isinstance(body, bytes) and body.startswith(b"\xef\xbb\xbf"):
        body = body[3:]
    try:
        data = json.loads(body)
        fragment = data["data"]["html"]
    except (ValueError, KeyError, TypeError) as error:
        raise NotAListPage(f"not a JPaaS list answer: {error}") from None
    if not isinstance(fragment, str):
        raise NotAListPage("not a JPaaS list answer: data.html is not text")
    tree = LexborHTMLParser(fragment)
    entries = []
    for item in tree.css("ul.ajax-ul li, ul li, tr"):
        link = item.css_first("a[href]")
        if link is None:
            continue
        date = item.css_first("span, td:last-child")
        entries.append(entry(url, link, date.text() if date is not None else item.text()))
    if not entries:  # another template: every link to an article
        entries = [entry(url, link, None) for link in tree.css("a[href]")
                   if _ARTICLE_HREF_RE.search(link.attributes.get("href") or "")]
    pager = tree.css_first(".ajax-page")
    total = to_int(pager.attributes.get("count")) if pager is not None else None
    pages = to_int(pager.attributes.get("pagecount") or pager.attributes.get("pageCount")) \
        if pager is not None else None
    return ListPage(dedupe(entries), total, pages)


PLATFORM = Platform(name=NAME, detect=detect, read_column=read_column, list_request=list_request,
                    read_list=read_list, parse_detail=parse_detail)
