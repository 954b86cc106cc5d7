"""What every platform family module gives the spider (pure: text in, frozen dataclasses out).

A family module builds one `Platform`: how to recognise its column pages, what it reads from a
column page, which request asks for list page N, how to read a list answer, and which parser
reads its detail pages. The spider knows only this interface; it never knows a family.

Pages of a list are numbered from 1 in the family's own unit of a request (a JPaaS API page, a
jpage group of pages, a TRS `index_N.shtml` file). A column page may itself carry page 1
(`Column.first`): the jpage datastore, a static TRS index.
"""

from __future__ import annotations

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
