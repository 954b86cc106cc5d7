"""TRS WCM static sites: lists published as files, `index.shtml` then `index_1.shtml`, `index_2.shtml` …

TRS WCM (拓尔思, on Hubei, Wuhan, Henan, Ningxia … sites) writes every list page of a column as a
static file in the column's folder: page 1 is the column page itself (`…/jytabl/zxwyta/index.shtml`),
page N is `index_{N-1}.shtml` (`.html` where a template says so). The page count comes from the
pager script the template prints, `createPageHTML(countPage, currentPage, "index", "shtml")` (the
arguments given as numbers, or as variables set above the call, some templates adding a div id
before them and the record count after; older templates set `var countPage = N` and write the
links themselves), or from a `共 N 页` the template prints, else from the `index_N` links of a
static pager; a column without a pager is one page.

Detail pages are files in month folders, `./202205/t20220510_3493514.shtml` (on older sites
`t8706881.shtml`): that name is what tells the list's entries from the navigation, breadcrumb and
pager links around them. The list is the repeated block of such links, the one with most links
into the column's own folder (a sidebar of other columns' news loses).
"""

from __future__ import annotations

import html as _html
import re
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

from selectolax.lexbor import LexborHTMLParser, LexborNode

from ..parsers import parse_detail
from ..parsers.encoding import decode_html
from .base import ListEntry, ListPage, ListRequest, NotAListPage, Platform, dedupe, entry, to_int

NAME = "trs-static"

# …/202205/t20220510_3493514.shtml: a month folder, then t<YYYYMMDD>_<document id> (older sites: t<id>)
DETAIL_RE = re.compile(r"/t(?:((?:19|20)\d{2})(\d{2})(\d{2})_\d+|\d{5,})\.s?html?$", re.I)
# index.shtml, index_3.shtml, index_3.html (the page files of a list)
_PAGE_FILE_RE = re.compile(r"(?:^|/)([A-Za-z]\w*?)(?:_(\d+))?\.(s?html?)$")
_PAGER_CALL_RE = re.compile(r"(?<![\w.])createPageHTML\s*\(([^()]*)\)", re.I)
_ARG_RE = re.compile(r"""\s*(?:"([^"]*)"|'([^']*)'|([^,]+?))\s*(?:,|$)""")
_PAGES_TEXT_RE = re.compile(r"共\s*(\d+)\s*页")
_RECORDS_TEXT_RE = re.compile(r"共\s*(\d+)\s*条")
_ITEM_TAGS = frozenset({"li", "tr", "dd", "dt"})  # an item of a list, where the template uses one
_EXTENSION_RE = re.compile(r"s?html?", re.I)
_SCRIPT_BODY_RE = re.compile(r"<script\b[^>]*>(.*?)</script\s*>", re.S | re.I)
_PAGE_COUNT_RE = re.compile(r"(?<![\w$.])(?:countPage|m_nPageCount|pageCount|totalPages?)\s*=\s*[\"']?(\d+)", re.I)
_RECORD_COUNT_RE = re.compile(r"(?<![\w$.])(?:m_nRecordCount|recordCount|totalRecords?)\s*=\s*[\"']?(\d+)", re.I)
_QUOTED_EXTENSION_RE = re.compile(r"[\"']\.?(s?html?)[\\\"']", re.I)
_SCRIPT_RE = re.compile(r"<(script|style)\b.*?</\1\s*>", re.S | re.I)
_TAG_RE = re.compile(r"<[^>]*>")
_META_RE = r"""<meta\s+[^>]*name\s*=\s*["']?{name}(?=["'\s/>])[^>]*>"""
_CONTENT_RE = re.compile(r"""content\s*=\s*["']([^"']*)["']""", re.I)


@dataclass(frozen=True, slots=True)
class Pager:
    pages: int | None          # the list's page count, where the pager says
    total: int | None          # the records of the whole list, where the pager says
    prefix: str | None         # the page files' name and extension: index, shtml
    suffix: str | None


@dataclass(frozen=True, slots=True)
class TrsColumn:
    url: str                   # the column page: list page 1
    folder: str                # where the list's page files are
    prefix: str                # `index` of index_1.shtml
    suffix: str                # `shtml` of index_1.shtml
    paged: bool                # the column page prints a pager (else the column is one page)
    name: str | None
    first: ListPage

    def page_url(self, page: int) -> str:
        return self.url if page == 1 else urljoin(self.folder, f"{self.prefix}_{page - 1}.{self.suffix}")


# --- reading a page -----------------------------------------------------------------------------


def _text(body: bytes | str) -> str:
    return decode_html(body)[0] if isinstance(body, bytes) else body


def _meta_tag(markup: str, name: str) -> str | None:
    end = markup.find("</head")
    tag = re.search(_META_RE.format(name=name), markup[: end if end != -1 else 16384], re.I)
    return tag.group(0) if tag else None


def _meta(markup: str, name: str) -> str | None:
    tag = _meta_tag(markup, name)
    content = _CONTENT_RE.search(tag) if tag else None
    return content.group(1).strip() or None if content else None


def _is_detail(url: str) -> bool:
    return bool(DETAIL_RE.search(urlsplit(url).path))


def _call_args(markup: str, call: re.Match) -> list[str | int | None]:
    """The arguments of a pager call: quoted ones as strings, numbers and script variables
    (`countPage`, resolved to the number last assigned to them above the call) as ints."""
    values: list[str | int | None] = []
    for match in _ARG_RE.finditer(call.group(1)):
        double, single, bare = match.groups()
        if double is not None or single is not None:
            values.append(double if double is not None else single)
        elif bare is not None and bare.strip():
            values.append(to_int(bare) if bare.strip().isdigit() else _assigned(markup, bare.strip(), call.start()))
    return values


def _assigned(markup: str, name: str, before: int) -> int | None:
    """The number last assigned to a script variable before `before`: `var countPage = 4//共多少页`."""
    if not re.fullmatch(r"[A-Za-z_$][\w$]*", name):
        return None
    found = None
    for match in re.finditer(rf"(?<![\w$.]){re.escape(name)}\s*=\s*[\"']?(\d+)", markup[:before]):
        found = int(match.group(1))
    return found


def _script_pager(markup: str) -> Pager | None:
    """The pager of a `createPageHTML(…)` call: the numbers before the file name are count and
    current page, the pair of strings the file name and extension, a number after them the total."""
    for call in _PAGER_CALL_RE.finditer(markup):
        if re.search(r"function\s*$", markup[max(0, call.start() - 20): call.start()]):
            continue  # the pager function's own definition
        args = _call_args(markup, call)
        pairs = [i for i in range(len(args) - 1) if isinstance(args[i], str) and isinstance(args[i + 1], str)]
        pairs.sort(key=lambda i: not _EXTENSION_RE.fullmatch(str(args[i + 1]).lstrip(".")))
        at = pairs[0] if pairs else len(args)
        numbers = [a for a in args[:at] if isinstance(a, int)]
        if not numbers:
            continue
        after = [a for a in args[at + 2:] if isinstance(a, int)]
        prefix, suffix = (str(args[at]), str(args[at + 1]).lstrip(".")) if pairs else (None, None)
        return Pager(max(numbers[0], 1), after[0] if after else None, prefix or None, suffix or None)
    return None


def _variable_pager(markup: str) -> Pager | None:
    """TRS's older pager: no call, a script that sets `countPage` and writes its links itself
    (`document.write("<a href=\"index"+"_" + nextPage + "."+"shtml\">下一页</a>")`)."""
    for script in _SCRIPT_BODY_RE.finditer(markup):
        pages = _PAGE_COUNT_RE.search(script.group(1))
        if pages is None:
            continue
        records = _RECORD_COUNT_RE.search(script.group(1))
        suffix = _QUOTED_EXTENSION_RE.search(script.group(1))
        return Pager(max(int(pages.group(1)), 1), int(records.group(1)) if records else None, None,
                     suffix.group(1) if suffix else None)
    return None


def _text_pager(markup: str) -> Pager | None:
    """A `共 3 页` the template prints (and a `共 27 条` just before or after it)."""
    text = _html.unescape(_TAG_RE.sub(" ", _SCRIPT_RE.sub(" ", markup)))
    pages = _PAGES_TEXT_RE.search(text)
    if pages is None:
        return None
    near = text[max(0, pages.start() - 80): pages.end() + 80]
    records = _RECORDS_TEXT_RE.search(near)
    return Pager(max(int(pages.group(1)), 1), int(records.group(1)) if records else None, None, None)


def _page_links(tree: LexborHTMLParser, url: str) -> list[tuple[str, int, str]]:
    """(name, number, extension) of every link to another page of this list (`index_2.shtml`)."""
    folder = urljoin(url, "./")
    found = []
    for link in tree.css("a[href]"):
        target = urljoin(url, (link.attributes.get("href") or "").strip())
        if urljoin(target, "./") != folder:
            continue
        match = _PAGE_FILE_RE.search(urlsplit(target).path)
        if match and match.group(2) is not None:
            found.append((match.group(1), int(match.group(2)), match.group(3)))
    return found


def _this_page(url: str) -> int:
    """The number of the list page at `url`: index.shtml is 1, index_2.shtml is 3."""
    match = _PAGE_FILE_RE.search(urlsplit(url).path)
    return int(match.group(2)) + 1 if match and match.group(2) is not None else 1


def read_pager(markup: str, url: str, tree: LexborHTMLParser | None = None) -> Pager | None:
    """The list's pager, in the first form the page prints: the script, the text, the links."""
    tree = tree or LexborHTMLParser(markup)
    pager = _script_pager(markup) or _variable_pager(markup) or _text_pager(markup)
    links = _page_links(tree, url)
    if links:
        prefix, _, suffix = links[0]
        last = max(max(number for _, number, _ in links) + 1, _this_page(url))
        pager = Pager(pager.pages if pager else last, pager.total if pager else None,
                      (pager.prefix if pager else None) or prefix, (pager.suffix if pager else None) or suffix)
    return pager


# --- the list -------------------------------------------------------------------------------------


def list_entries(tree: LexborHTMLParser, url: str) -> tuple[ListEntry, ...]:
    """The entries of the list on a page: the repeated block of detail links, in order.

    A link's item is its li (tr, dd) or else its highest ancestor that holds no other detail page;
    links are grouped by the element holding their items, and the list is the group with most
    links into the page's own folder, then most links (a sidebar of other columns' news loses).
    Sibling groups of the same element and class are one list (a template's `<ul>` by fives, a
    grid's rows)."""
    body = tree.body
    if body is None:
        return ()
    host, folder = urlsplit(url).netloc, urljoin(url, "./")
    links = []
    for link in body.css("a[href]"):
        target = urljoin(url, (link.attributes.get("href") or "").strip())
        if _is_detail(target):
            links.append((link, target))
    if not links:
        return ()
    holding: dict[int, set[str]] = {}  # element -> the detail pages linked inside it
    for link, target in links:
        node = link.parent
        while node is not None:
            holding.setdefault(node.mem_id, set()).add(target)
            node = node.parent
    groups: dict[int, list[tuple[LexborNode, str, LexborNode]]] = {}
    holders: dict[int, LexborNode] = {}
    for link, target in links:
        item = link
        while item.tag not in _ITEM_TAGS and item.parent is not None and len(holding[item.parent.mem_id]) == 1:
            item = item.parent
        holder = item.parent or item
        holders.setdefault(holder.mem_id, holder)
        groups.setdefault(holder.mem_id, []).append((link, target, item))

    def score(key: int) -> tuple[int, int]:
        targets = [target for _, target, _ in groups[key]]
        own = sum(1 for t in targets if urlsplit(t).netloc == host and t.startswith(folder))
        return own, len(targets)

    best = holders[max(groups, key=score)]  # max keeps the first of equals: the page's order breaks ties
    kind = (best.tag, best.attributes.get("class") or "")
    keys = {key for key, holder in holders.items() if key == best.mem_id or (
        holder.parent is not None and best.parent is not None and holder.parent.mem_id == best.parent.mem_id
        and (holder.tag, holder.attributes.get("class") or "") == kind)}
    items = {link.mem_id: item for key in keys for link, _, item in groups[key]}
    return dedupe(_entry(url, link, items[link.mem_id]) for link, _ in links if link.mem_id in items)


def _entry(url: str, link: LexborNode, item: LexborNode) -> ListEntry | None:
    """An entry dated by what its item prints beside the link, else by the t<YYYYMMDD> of its file."""
    beside = item.text(deep=True).replace(link.text(deep=True), " ") if item is not link else ""
    found = entry(url, link, beside)
    if found is None or found.date is not None:
        return found
    match = DETAIL_RE.search(urlsplit(found.url).path)
    dated = match is not None and match.group(1) is not None
    return ListEntry(found.url, found.title, "-".join(match.groups()) if dated else None)


def _read(markup: str, url: str) -> tuple[tuple[ListEntry, ...], Pager | None]:
    tree = LexborHTMLParser(markup)
    return list_entries(tree, url), read_pager(markup, url, tree)


# --- the family's interface -------------------------------------------------------------------------


def detect(markup: str, url: str) -> bool:
    """A TRS column page: not itself a detail page (t<date> file, ArticleTitle, an article body
    without a pager), and carrying a TRS pager or a list of t<date> detail links."""
    if _is_detail(url) or _meta_tag(markup, "ArticleTitle"):
        return False
    scripted = _script_pager(markup) is not None or _variable_pager(markup) is not None
    if not scripted and re.search(r"""class\s*=\s*["']?[^"'>]*\bTRS_(?:Editor|UEDITOR)\b""", markup, re.I):
        return False
    return scripted or bool(list_entries(LexborHTMLParser(markup), url))


def read_column(markup: str, url: str) -> TrsColumn:
    """The column page: its list (page 1), where its other pages are and how they are named."""
    entries, pager = _read(markup, url)
    if not entries and pager is None:
        raise NotAListPage("no pager and no t<YYYYMMDD>_<id> detail links: not a TRS WCM column page")
    page_file = _PAGE_FILE_RE.search(urlsplit(url).path)
    folder = urljoin(url, "./")
    prefix = (pager.prefix if pager else None) or (page_file.group(1) if page_file else "index")
    suffix = (pager.suffix if pager else None) or (page_file.group(3) if page_file else "shtml")
    pages = pager.pages if pager and pager.pages else 1
    name = _meta(markup, "ColumnName")
    return TrsColumn(url=url, folder=folder, prefix=prefix, suffix=suffix, paged=pager is not None,
                     name=name, first=ListPage(entries, pager.total if pager else None, pages))


def list_request(column: TrsColumn, page: int, page_size: int) -> ListRequest | None:
    """List page N is a file of its own; a static list has the size its template gives (page_size
    cannot change it). A column without a pager has no page 2. Past the end is left to the pager of
    the page read last: a static list shifts while it is walked, so the column page's count may
    already be one short."""
    if page < 1 or (page > 1 and not column.paged):
        return None
    return ListRequest(column.page_url(page), page)


def read_list(body: bytes | str, url: str, column: TrsColumn | None = None) -> ListPage:
    """One list page: its entries, the list's total (where printed) and its page count."""
    entries, pager = _read(_text(body), url)
    if not entries and pager is None:
        raise NotAListPage("no t<YYYYMMDD>_<id> detail links and no pager: not a TRS WCM list page")
    pages = pager.pages if pager and pager.pages else (column.first.last_page if column is not None else None)
    return ListPage(entries, pager.total if pager else None, pages)


def own_entries(column: TrsColumn, listing: ListPage) -> tuple[ListEntry, ...]:
    """The entries in the column's own folder (or below it): a page whose list is empty may still
    print a sidebar of the site's newest documents, which are other columns' entries."""
    return tuple(item for item in listing.entries if item.url.startswith(column.folder))


PLATFORM = Platform(name=NAME, detect=detect, read_column=read_column, list_request=list_request,
                    read_list=read_list, parse_detail=parse_detail, is_article=_is_detail, own_entries=own_entries)
