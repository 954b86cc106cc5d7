"""Column pages and list responses of the Hanweb platforms (pure: text in, dataclasses out).

- hanweb-jpaas: the column page carries `unitbuild.js` with a `queryData` (webId, pageId, tagId,
  tplSetId …); the 组配分类 code is the column's `?number=` (or the tree's current link) and the
  tree's `xxgkParams` carries the nodeId. Lists come from the api-gateway unit API as JSON whose
  `data.html` holds `ul.ajax-ul` items and a `div.ajax-page` with count/rows/pageNo/pageCount.
- hanweb-jpage: the column page embeds the first group of the list in `<datastore>` and carries
  `var param_NNN = {…}` plus the jpage call (perPage, groupSize, totalRecord, proxyUrl); later
  groups come from POSTs to `dataproxy.jsp` answering the same `<datastore>` XML.
"""

from __future__ import annotations

import html as _html
import json
import re
from dataclasses import dataclass
from urllib.parse import parse_qs, urljoin, urlsplit

from selectolax.lexbor import LexborHTMLParser

from .text import parse_date

JPAAS = "hanweb-jpaas"
JPAGE = "hanweb-jpage"
PLATFORMS = (JPAAS, JPAGE)


class NotAListPage(ValueError):
    """A column page or list response that does not read as its platform's (reason given)."""


@dataclass(frozen=True, slots=True)
class ListEntry:
    url: str           # absolute
    title: str         # the full title (a[title]), else the link text
    date: str | None   # YYYY-MM-DD as the list prints it


@dataclass(frozen=True, slots=True)
class ListPage:
    entries: tuple[ListEntry, ...]
    total: int | None        # records in the whole list
    page_count: int | None   # pages of the list (JPaaS) or of perpage records (jpage)


@dataclass(frozen=True, slots=True)
class JpaasColumn:
    unit_url: str            # absolute URL of the unit API
    query: dict[str, str]    # webId, pageId, tagId, tplSetId, pageType, parseType, editType, unitType
    xxgk_id: str | None      # the 组配分类 code (?number=)
    node_id: str | None
    name: str | None

    def list_params(self, page_no: int, page_size: int) -> dict[str, str]:
        """The query string of one list page: paging goes only through paramJson."""
        search = json.dumps({"xxgkId": self.xxgk_id or "", "xxgkType": "xxgk_combination",
                             "nodeId": self.node_id or "", "className": ""}, ensure_ascii=False,
                            separators=(",", ":"))
        param_json = json.dumps({"pageNo": page_no, "pageSize": page_size, "search": search},
                                ensure_ascii=False, separators=(",", ":"))
        return {**self.query, "paramJson": param_json}


@dataclass(frozen=True, slots=True)
class JpageColumn:
    proxy_url: str             # absolute URL of dataproxy.jsp
    form: dict[str, str]       # the POST body, from var param_NNN
    per_page: int
    group_size: int
    total: int | None
    first_group: ListPage      # the records embedded in the column page
    name: str | None

    @property
    def group_records(self) -> int:
        return self.per_page * self.group_size

    def group_params(self, start: int) -> dict[str, str]:
        """startrecord/endrecord/perpage of the group that begins at record `start` (1-based)."""
        return {"startrecord": str(start), "endrecord": str(start + self.group_records - 1),
                "perpage": str(self.per_page)}


# --- detection ------------------------------------------------------------------------------------

_UNITBUILD_RE = re.compile(r"<script\b[^>]*unitbuild\.js[^>]*>", re.I)
_QUERYDATA_RE = re.compile(r"""\bquerydata\s*=\s*(?:"([^"]*)"|'([^']*)')""", re.I)
_JPAGE_PARAM_RE = re.compile(r"var\s+param_(\w+)\s*=\s*(\{.*?\})\s*;", re.S)


def detect_platform(markup: str) -> str | None:
    """hanweb-jpaas (unitbuild.js with queryData), hanweb-jpage (<datastore> + var param_NNN), or None."""
    tag = _UNITBUILD_RE.search(markup)
    if tag and _QUERYDATA_RE.search(tag.group(0)):
        return JPAAS
    if "<datastore>" in markup and _JPAGE_PARAM_RE.search(markup):
        return JPAGE
    return None


# --- JPaaS ----------------------------------------------------------------------------------------


def _loose_json(text: str) -> dict:
    """queryData is single-quoted JSON; browsers swap the quotes before parsing, so do we."""
    return json.loads(_html.unescape(text).replace("'", '"'))


_COLUMN_ID_RE = re.compile(r"/col/col(\d+)/")


def _column_id(url: str) -> str | None:
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


def jpaas_column(markup: str, url: str) -> JpaasColumn:
    """What the list API needs, read from the column page itself (never hard-coded).

    A page may carry several units (a sidebar, a list): the list of this column is the one whose
    pageId is the column's and whose tag or type names a list."""
    units = _list_units(markup)
    if not units:
        raise NotAListPage("no unitbuild.js script with a readable queryData: not a JPaaS column page")
    column_id = _column_id(url)

    def rank(unit: tuple[dict[str, str], str]) -> tuple[bool, bool]:
        data = unit[0]
        listy = "list" in data.get("tagId", "").lower() or "xxgk" in data.get("unitType", "").lower()
        return data.get("pageId") == column_id, listy

    query, tag = max(units, key=rank)  # max keeps the first of equals: the page's order breaks ties
    unit = re.search(r"""\burl\s*=\s*["']([^"']+)["']""", tag)
    unit_url = urljoin(url, unit.group(1) if unit else "/api-gateway/jpaas-publish-server/front/page/build/unit")
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


_ARTICLE_HREF_RE = re.compile(r"/art/|art_\d")


def jpaas_list(body: bytes | str, url: str) -> ListPage:
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
        entries.append(_entry(url, link, date.text() if date is not None else item.text()))
    if not entries:  # another template: every link to an article
        entries = [_entry(url, link, None) for link in tree.css("a[href]")
                   if _ARTICLE_HREF_RE.search(link.attributes.get("href") or "")]
    pager = tree.css_first(".ajax-page")
    total = _int(pager.attributes.get("count")) if pager is not None else None
    pages = _int(pager.attributes.get("pagecount") or pager.attributes.get("pageCount")) if pager is not None else None
    return ListPage(tuple(_dedupe(entries)), total, pages)


# --- jpage ----------------------------------------------------------------------------------------

_JPAGE_CALL_RE = re.compile(r"\.jpage\(\s*\{(.*?)\}\s*\)", re.S)
_DATASTORE_RE = re.compile(r"<datastore>(.*?)</datastore>", re.S | re.I)
_RECORD_RE = re.compile(r"<record>\s*<!\[CDATA\[(.*?)\]\]>\s*</record>", re.S | re.I)
_TOTAL_RE = re.compile(r"<totalrecord>\s*(\d+)\s*</totalrecord>", re.I)
_TOTAL_PAGES_RE = re.compile(r"<totalpage>\s*(\d+)\s*</totalpage>", re.I)


def _js_object(text: str) -> dict[str, str]:
    """`{col:1,unitid:'78231',webname:'古城县人民政府'}` -> strings (a flat JavaScript object literal)."""
    pairs = re.findall(r"""(\w+)\s*:\s*('(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*"|[^,{}]+)""", text)
    return {key: value.strip().strip("'\"") for key, value in pairs}


_DATASTORE_UNIT_RE = re.compile(r"<div[^>]*\bid=[\"']?(\w+)[\"']?[^>]*>\s*<script[^>]*text/xml[^>]*>\s*"
                                r"(<datastore>.*?</datastore>)", re.S | re.I)


def jpage_column(markup: str, url: str) -> JpageColumn:
    """The first group and the dataproxy parameters, read from the column page.

    A page may carry several jpage units (a sidebar list, the column's list): the column's is the
    one whose `columnid` is the page's column, else the one with the most records."""
    params = {match.group(1): _js_object(match.group(2)) for match in _JPAGE_PARAM_RE.finditer(markup)}
    if not params:
        raise NotAListPage("no var param_NNN: not a jpage column page")
    stores = {match.group(1): match.group(2) for match in _DATASTORE_UNIT_RE.finditer(markup)}
    groups = {unit: jpage_list(store, url) for unit, store in stores.items()}
    column_id = _column_id(url)

    def rank(unit: str) -> tuple[bool, int]:
        return params[unit].get("columnid") == column_id, len(groups[unit].entries) if unit in groups else -1

    unit_id = max(params, key=rank)
    calls = [match.group(1) for match in _JPAGE_CALL_RE.finditer(markup)]
    call = _js_object(next((c for c in calls if f"param_{unit_id}" in c), calls[0] if calls else ""))
    if unit_id in groups:
        first_group = groups[unit_id]
    else:  # a datastore without the unit's id around it
        datastore = _DATASTORE_RE.search(markup)
        first_group = jpage_list(datastore.group(0), url) if datastore else ListPage((), None, None)
    name = re.search(r"""<meta\s+name=["']ColumnName["']\s+content=["']([^"']*)""", markup, re.I)
    total = _int(call.get("totalRecord")) if call.get("totalRecord") else first_group.total
    return JpageColumn(
        proxy_url=urljoin(url, call.get("proxyUrl") or "/module/jpage/dataproxy.jsp"),
        form=params[unit_id],
        per_page=_int(call.get("perPage")) or 15,
        group_size=_int(call.get("groupSize")) or 3,
        total=total,
        first_group=first_group,
        name=name.group(1) if name else None,
    )


def jpage_list(body: bytes | str, url: str) -> ListPage:
    """A `<datastore>`: its records (CDATA tables with a[href][title] and [date]) and totals."""
    text = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
    if "<datastore" not in text.lower():
        raise NotAListPage("no <datastore>: not a jpage list answer")
    entries = []
    for record in _RECORD_RE.findall(text):
        tree = LexborHTMLParser(record)
        link = tree.css_first("a[href]")
        if link is None:
            continue
        entries.append(_entry(url, link, tree.body.text() if tree.body is not None else record))
    total = _TOTAL_RE.search(text)
    pages = _TOTAL_PAGES_RE.search(text)
    return ListPage(tuple(_dedupe(entries)), _int(total.group(1)) if total else None,
                    _int(pages.group(1)) if pages else None)


# --- shared ---------------------------------------------------------------------------------------


def _entry(base: str, link, date_text: str | None) -> ListEntry | None:
    """A list entry dated by the first date in `date_text`; None for links to no page (`#top`, `javascript:`)."""
    href = (link.attributes.get("href") or "").strip()
    if not href or href.startswith(("#", "javascript:", "mailto:")):
        return None
    title = (link.attributes.get("title") or link.text()).strip()
    return ListEntry(urljoin(base, href), title, parse_date(date_text))


def _dedupe(entries: list[ListEntry | None]) -> list[ListEntry]:
    """Each page once, and only links to pages (not javascript: pagers or # anchors)."""
    seen: set[str] = set()
    kept = []
    for entry in entries:
        if entry is not None and urlsplit(entry.url).scheme in ("http", "https") and entry.url not in seen:
            seen.add(entry.url)
            kept.append(entry)
    return kept


def _int(value: str | None) -> int | None:
    try:
        return int(str(value).strip())
    except (TypeError, ValueError):
        return None
