"""What every platform family module gives the spider (pure: text in, frozen dataclasses out).

A family module builds one `Platform`: how to recognise its column pages, what it reads from a
column page, which request asks for list page N, how to read a list answer, and which parser
reads its detail pages. The spider knows only this interface; it never knows a family.

Pages of a list are numbered from 1 in the family's own unit of a request (a JPaaS API page, a
jpage group of pages, a TRS `index_N.shtml` file). A column page may itself carry page 1
(`Column.first`): the jpage datastore, a static TRS index.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import urljoin, urlsplit

from ..parsers import ProposalRecord
from ..parsers.text import parse_date


class NotAListPage(ValueError):
    """A column page or list answer that does not read as its platform's (reason given)."""


@dataclass(frozen=True, slots=True)
class ListEntry:
    url: str           # absolute
    title: str         # the full title (a[title]), else the link text
    date: str | None   # YYYY-MM-DD as the list prints it


@dataclass(frozen=True, slots=True)
class ListPage:
    entries: tuple[ListEntry, ...]
    total: int | None = None       # records in the whole list, where the answer says
    last_page: int | None = None   # the number of the list's last page, where the answer says
    page_no: int | None = None     # the number of this page, where the answer says (servers may answer another)
    rows: int | None = None        # records per page, where the answer says


@dataclass(frozen=True, slots=True)
class ListRequest:
    """One list page to fetch: a GET of `url`, or with `form` a form POST to it."""

    url: str
    page: int
    form: tuple[tuple[str, str], ...] | None = None
    xhr: bool = False              # asked the way the page's script asks (X-Requested-With, JSON Accept)


class Column(Protocol):
    """What a family reads from a column page (each family has its own frozen dataclass)."""

    @property
    def name(self) -> str | None: ...

    @property
    def first(self) -> ListPage | None: ...      # list page 1 when the column page carries it


def no_articles(url: str) -> bool:
    return False


def all_entries(column: Any, listing: ListPage) -> tuple[ListEntry, ...]:
    return listing.entries


# Module-level defaults, not lambdas: a shared crawl pickles its walks (and their Platform) into Redis.
@dataclass(frozen=True, slots=True)
class Platform:
    name: str
    # does this column page belong to the family? (markup, url)
    detect: Callable[[str, str], bool]
    # what the family needs from a column page; raises NotAListPage
    read_column: Callable[[str, str], Any]
    # the request for list page N of a column (page size as asked), None where there is no such page
    list_request: Callable[[Any, int, int], ListRequest | None]
    # one list answer (bytes, its URL, the column); raises NotAListPage
    read_list: Callable[[bytes, str, Any], ListPage]
    # the detail pages' parser (bytes, url, encoding=…) -> ProposalRecord; raises NotAProposalPage
    parse_detail: Callable[..., ProposalRecord]
    # discovery's hints: is this URL one article of the family (never a column)? (url)
    is_article: Callable[[str], bool] = no_articles
    # the entries of a list page that are the column's own, not a sidebar's (column, ListPage)
    own_entries: Callable[[Any, ListPage], tuple[ListEntry, ...]] = all_entries


# --- helpers the families share -------------------------------------------------------------------


def entry(base: str, link, date_text: str | None) -> ListEntry | None:
    """A list entry dated by the first date in `date_text`; None for links to no page (`#top`, `javascript:`)."""
    href = (link.attributes.get("href") or "").strip()
    if not href or href.startswith(("#", "javascript:", "mailto:")):
        return None
    title = (link.attributes.get("title") or link.text()).strip()
    return ListEntry(urljoin(base, href), title, parse_date(date_text))


def dedupe(entries: Iterable[ListEntry | None]) -> tuple[ListEntry, ...]:
    """Each page once, and only links to pages (not javascript: pagers or # anchors)."""
    seen: set[str] = set()
    kept = []
    for item in entries:
        if item is not None and urlsplit(item.url).scheme in ("http", "https") and item.url not in seen:
            seen.add(item.url)
            kept.append(item)
    return tuple(kept)


def to_int(value: object) -> int | None:
    try:
        return int(str(value).strip())
    except (TypeError, ValueError):
        return None


def last_page_of(total: int | None, rows: int | None) -> int | None:
    """The number of the last page of `total` records in pages of `rows` (None if either is unknown)."""
    if total is None or not rows or rows < 0 or total < 0:
        return None
    return max(1, -(-total // rows))


# Elements whose end tag HTML lets go unwritten: they close themselves and add no depth.
_SELF_CLOSING = frozenset(("area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param",
                           "source", "track", "wbr", "li", "p", "td", "th", "tr", "dt", "dd", "option", "thead",
                           "tbody", "tfoot", "colgroup"))
_TAG_RE = re.compile(r"<(/?)([a-zA-Z][a-zA-Z0-9]*)\b[^>]*?(/?)>")
MAX_DEPTH = 512  # real list markup nests a few dozen elements deep


def check_depth(markup: str, what: str, limit: int = MAX_DEPTH) -> None:
    """Refuse markup nested deeper than `limit` elements (NotAListPage) before an HTML parser sees it:
    lexbor takes quadratic time on absurd nesting (100,000 nested divs take half a minute)."""
    depth = 0
    for closing, name, self_closing in _TAG_RE.findall(markup):
        if closing:
            depth = max(0, depth - 1)
        elif not self_closing and name.lower() not in _SELF_CLOSING:
            depth += 1
            if depth > limit:
                raise NotAListPage(f"{what} nested more than {limit} elements deep")
