"""Hanweb JPaaS (the Zhejiang intensive platform): lists from the api-gateway unit API.

The column page carries `unitbuild.js` with a `queryData` (webId, pageId, tagId, tplSetId …), and
the list request is built the way unitbuild.js builds it: the scalar values of queryData, the
defaults it sends when queryData lacks them (parseType=bulidstatic, pageType=column,
editType=null), and paging only through `paramJson`. A 组配分类 list adds a `search` naming its
code (the column's `?number=`, `queryData.xxgkParams.xxgkId`, or the tree's current link) and
its nodeId (`queryData.xxgkParams`, the tree's `xxgkParams` div, or a script that states it).
Answers are JSON whose `data.html` holds the list items; the list's count, rows, pageNo and
pageCount stand as attributes of a pager element (`.ajax-page`, `div.page-content` …) or in the
JSON beside the html.
"""

from __future__ import annotations

import html as _html
import json
import re
from dataclasses import dataclass
from urllib.parse import parse_qs, quote, urlencode, urljoin, urlsplit

from selectolax.lexbor import LexborHTMLParser

from ..parsers import parse_detail
from ..parsers.text import parse_date
from .base import (
    ListPage,
    ListRequest,
    NotAListPage,
    Platform,
    check_depth,
    dedupe,
    entry,
    last_page_of,
    to_int,
)

NAME = "hanweb-jpaas"
UNIT_PATH = "/api-gateway/jpaas-publish-server/front/page/build/unit"
# what unitbuild.js sends when queryData does not say (its spelling: "bulidstatic")
DEFAULTS = (("parseType", "bulidstatic"), ("pageType", "column"), ("editType", "null"))


@dataclass(frozen=True, slots=True)
class JpaasColumn:
    unit_url: str            # absolute URL of the unit API
    query: dict[str, str]    # the fixed parameters: queryData's scalars, then the defaults it lacks
    xxgk_id: str | None      # the 组配分类 code
    node_id: str | None
    name: str | None
    xxgk_type: str = "xxgk_combination"
    first: ListPage | None = None  # the list is never in the column page

    def list_params(self, page_no: int, page_size: int) -> dict[str, str]:
        """The query string of one list page: paging goes only through paramJson."""
        param: dict[str, object] = {"pageNo": page_no, "pageSize": page_size}
        if self.xxgk_id is not None or self.node_id is not None:
            param["search"] = _compact({"xxgkId": self.xxgk_id or "", "xxgkType": self.xxgk_type,
                                        "nodeId": self.node_id or "", "className": ""})
        return {**self.query, "paramJson": _compact(param)}


def _compact(value: object) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


_UNITBUILD_RE = re.compile(r"<script\b[^>]*unitbuild\.js[^>]*>", re.I)
_QUERYDATA_RE = re.compile(r"""\bquerydata\s*=\s*(?:"([^"]*)"|'([^']*)')""", re.I)
_COLUMN_ID_RE = re.compile(r"/col/col(\d+)/")
# a nodeId stated anywhere else: `nodeId: '…'`, `"nodeId":"…"`, `var nodeId = "…"`, `nodeid="…"`
_NODE_ID_RE = re.compile(r"""\bnode_?id["']?\s*[:=]\s*\\?["']([0-9A-Za-z_-]{4,64})\\?["']""", re.I)


def detect(markup: str, url: str) -> bool:
    """A column page of this family carries unitbuild.js with a queryData."""
    tag = _UNITBUILD_RE.search(markup)
    return bool(tag and _QUERYDATA_RE.search(tag.group(0)))


def _loose_json(text: str) -> object:
    """queryData is single-quoted JSON; browsers swap the quotes before parsing, so do we."""
    return json.loads(_html.unescape(text).replace("'", '"'))


def _js_string(value: object) -> str:
    """A scalar as JavaScript's String() writes it into a query string."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def column_id(url: str) -> str | None:
    match = _COLUMN_ID_RE.search(urlsplit(url).path + "/")
    return match.group(1) if match else None


def _list_units(markup: str) -> list[tuple[dict, str]]:
    """Every unitbuild.js unit of a JPaaS page: (queryData as an object, its script tag)."""
    units = []
    for tag in _UNITBUILD_RE.finditer(markup):
        query = _QUERYDATA_RE.search(tag.group(0))
        if not query:
            continue
        try:
            data = _loose_json(query.group(1) or query.group(2))
        except (ValueError, RecursionError):
            continue
        if isinstance(data, dict):
            units.append((data, tag.group(0)))
    return units


def _nested(data: dict, key: str) -> object:
    """`key` from queryData or from an object inside it (xxgkParams …), case-insensitively."""
    for name, value in data.items():
        if name.lower() == key.lower() and not isinstance(value, dict | list):
            return value
    for value in data.values():
        if isinstance(value, dict):
            found = _nested(value, key)
            if found not in (None, ""):
                return found
    return None


def read_column(markup: str, url: str) -> JpaasColumn:
    """What the list API needs, read from the column page itself (never hard-coded).

    A page may carry several units (a sidebar, a list): the list of this column is the one whose
    pageId is the column's and whose tag or type names a list."""
    units = _list_units(markup)
    if not units:
        raise NotAListPage("no unitbuild.js script with a readable queryData: not a JPaaS column page")
    this_column = column_id(url)

    def rank(unit: tuple[dict, str]) -> tuple[bool, bool]:
        data = unit[0]
        listy = "list" in str(data.get("tagId", "")).lower() or "xxgk" in str(data.get("unitType", "")).lower()
        return str(data.get("pageId")) == this_column, listy

    data, tag = max(units, key=rank)  # max keeps the first of equals: the page's order breaks ties
    query = {key: _js_string(value) for key, value in data.items() if not isinstance(value, dict | list)}
    missing = [key for key in ("webId", "pageId") if not query.get(key)]
    if missing:
        raise NotAListPage(f"the unitbuild.js queryData has no {' or '.join(missing)}")
    query.update({key: value for key, value in DEFAULTS if key not in query})
    unit = re.search(r"""\burl\s*=\s*["']([^"']+)["']""", tag)
    unit_url = urljoin(url, unit.group(1) if unit else UNIT_PATH)
    tree = LexborHTMLParser(markup)
    xxgk_id = (parse_qs(urlsplit(url).query).get("number", [None])[0]
               or _text_or_none(_nested(data, "xxgkId"))
               or _current_code(tree, query.get("pageId")))
    node_id = _text_or_none(_nested(data, "nodeId")) or _page_node_id(tree, markup)
    name_node = tree.css_first('meta[name="ColumnName"]')
    name = name_node.attributes.get("content") if name_node is not None else None
    return JpaasColumn(unit_url, query, xxgk_id, node_id, name,
                       xxgk_type=_text_or_none(_nested(data, "xxgkType")) or "xxgk_combination")


def _text_or_none(value: object) -> str | None:
    text = "" if value is None else str(value).strip()
    return text or None


def _page_node_id(tree: LexborHTMLParser, markup: str) -> str | None:
    """The nodeId the page states outside queryData: the tree's xxgkParams div, else any script."""
    params = tree.css_first(".xxgkParams[nodeid], [nodeid]")
    if params is not None and (params.attributes.get("nodeid") or "").strip():
        return params.attributes["nodeid"].strip()
    match = _NODE_ID_RE.search(markup)
    return match.group(1) if match else None


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
# the pager's numbers under the names answers use for them (attributes are read lowercased)
_COUNT_KEYS = ("count", "total", "totalcount", "totalrecord", "recordcount")
_ROWS_KEYS = ("rows", "pagesize", "perpage")
_PAGE_NO_KEYS = ("pageno", "currentpage", "curpage", "page")
_PAGES_KEYS = ("pagecount", "totalpage", "totalpages", "pages")
_PAGER_SELECTOR = ", ".join(f"[{key}]" for key in ("count", "totalcount", "totalrecord", "pagecount", "totalpage"))


def _numbers(source: dict) -> dict[str, int | None]:
    lowered = {str(key).lower(): value for key, value in source.items() if not isinstance(value, dict | list)}

    def first(keys: tuple[str, ...]) -> int | None:
        return next((n for n in (to_int(lowered.get(k)) for k in keys) if n is not None), None)

    return {"total": first(_COUNT_KEYS), "rows": first(_ROWS_KEYS), "page_no": first(_PAGE_NO_KEYS),
            "pages": first(_PAGES_KEYS)}


def read_list(body: bytes | str, url: str, column: JpaasColumn | None = None) -> ListPage:
    """One answer of the unit API: its records, and the list's total, page size, page number and last page.

    Raises NotAListPage for anything else, with the gateway's own `message` when it refuses the request."""
    if isinstance(body, bytes):
        body = body.decode("utf-8", "replace")
    body = body.lstrip("\ufeff")
    try:
        data = json.loads(body)
    except RecursionError:
        raise NotAListPage("not a JPaaS list answer: JSON nested absurdly deep") from None
    except ValueError as error:
        raise NotAListPage(f"not a JPaaS list answer: not JSON ({error})") from None
    if not isinstance(data, dict):
        raise NotAListPage(f"not a JPaaS list answer: a JSON {type(data).__name__}, not an object")
    if data.get("success") is False or str(data.get("success")).lower() == "false":
        message = data.get("message") or data.get("msg") or data.get("code") or "no message"
        raise NotAListPage(f"the list API refused the request: {message}")
    payload = data.get("data")
    fragment = payload.get("html") if isinstance(payload, dict) else None
    if not isinstance(fragment, str):
        raise NotAListPage("not a JPaaS list answer: no data.html text")
    check_depth(fragment, "the list answer's html")
    tree = LexborHTMLParser(fragment)
    entries = []
    for item in tree.css("ul li, tr"):
        link = item.css_first("a[href]")
        if link is None:
            continue
        entries.append(entry(url, link, _date_text(item)))
    if not entries:  # another template: every link to an article
        entries = [entry(url, link, None) for link in tree.css("a[href]")
                   if _ARTICLE_HREF_RE.search(link.attributes.get("href") or "")]
    numbers = _numbers(payload)
    pager = tree.css_first(_PAGER_SELECTOR)
    if pager is not None:
        numbers = {key: value if value is not None else found
                   for (key, value), found in zip(numbers.items(), _numbers(dict(pager.attributes)).values(),
                                                  strict=True)}
    last = numbers["pages"] or last_page_of(numbers["total"], numbers["rows"])
    return ListPage(dedupe(entries), numbers["total"], last, page_no=numbers["page_no"], rows=numbers["rows"])


def _date_text(item) -> str:
    """The text of the item's element that holds its date (span.fr, td, i …), else the item's text."""
    for node in item.css("span, td, i, b, em"):
        text = node.text()
        if parse_date(text):
            return text
    return item.text()


# /art/2022/8/18/art_1229123456_12345678.html, /col/col1229395012/art/2023/art_<32 hex>.html
ARTICLE_RE = re.compile(r"/art/(?:[0-9]{4}(?:[/-][0-9]{1,2}[/-][0-9]{1,2})?/)?art_[A-Za-z0-9_]+\.s?html?$")


def is_article(url: str) -> bool:
    """A Hanweb detail page (old and new URL forms), never a column."""
    return bool(ARTICLE_RE.search(urlsplit(url).path))


PLATFORM = Platform(name=NAME, detect=detect, read_column=read_column, list_request=list_request,
                    read_list=read_list, parse_detail=parse_detail, is_article=is_article)
