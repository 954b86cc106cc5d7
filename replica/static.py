"""A loopback replica of a static TRS WCM site: list pages as files, detail pages as files.

    with StaticReplica(FIXTURES / "xishan") as site:
        site.column_urls    # ["http://127.0.0.1:PORT/xxgk/zfxxgkml/jytabl/zxwyta/index.shtml", …]

It serves what `<site>/examples/README.md` documents:

- each column's list as static files in the column's folder: `index.shtml` (also the bare folder),
  `index_1.shtml`, `index_2.shtml` …, rendered from `site.json` through the column's template
  (`templates/`), its items and pager as the template's TRS tags print them (the
  `createPageHTML(…)` script, or `共 N 页` with first/previous/next/last links, or no pager);
  a page past the end is a 404, as on a static server;
- detail pages as stored (`pages/`), every file with ETag and Last-Modified, conditional GETs
  answered 304;
- `/robots.txt`.

The site's own origin is rewritten to the replica's in everything served. Faults can be injected
per path (500s, a 412 Ruishu challenge, a 521 JiaSuLe challenge, a 200 "访问过于频繁" page, a
truncated body, a slow answer), pages can be changed between crawls, records can be published on
top of a list (its later pages shift, as static lists do), and every request is logged.

What every replica shares (faults, validators, the log) is replica/server.py's; the static files
are this module's own.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from pathlib import Path

from replica.server import EPOCH, ROBOTS, Fault, LoopbackSite, SiteHandler
from replica.server import now as server_now


@dataclass
class StaticColumn:
    id: str
    name: str
    path: str                  # the column's folder, /…/jytabl/zxwyta/
    page_size: int
    pager: str | None          # script, text, or None (a one-page column)
    template: str              # the list page, with {{ITEMS}} and {{PAGER}}
    item: str                  # one list item, with {href} {title} {shown} {date} {n}
    shown_max: int | None      # the template cuts shown titles to this many characters + "..."
    hrefs: list[str]           # how items link, in turn: "./", "../<folder>/", "absolute"
    date_format: str
    records: list[dict]        # path, title, date (and record: false): newest first

    def pages(self) -> int:
        return max(1, math.ceil(len(self.records) / self.page_size)) if self.pager else 1

    def file(self, page: int) -> str:
        return self.path + ("index.shtml" if page == 1 else f"index_{page - 1}.shtml")


class StaticReplica(LoopbackSite):
    """One static TRS fixture site on a loopback address of its own."""

    def __init__(self, site_dir: Path, *, port: int = 0, records: dict[str, list[dict]] | None = None,
                 pages: dict[str, bytes] | None = None, host: str = "127.0.0.1") -> None:
        super().__init__(site_dir, port=port, host=host, pages=pages)
        self.encoding = self.site["encoding"]
        self.content_type = self.site["content_type"]
        self.columns = [StaticColumn(
            c["id"], c["name"], c["path"], int(c["page_size"]), c.get("pager"),
            (self.dir / "templates" / c["list_template"]).read_text(encoding="utf-8"), c["item"],
            c.get("shown_max"), list(c["hrefs"]), c["date_format"],
            list((records or {}).get(c["id"], c["records"]))) for c in self.site["columns"]]

    # --- what tests read and change -------------------------------------------------------------

    @property
    def column_urls(self) -> list[str]:
        return [self.base_url + column.file(1) for column in self.columns]

    def column(self, column_id: str) -> StaticColumn:
        return next(column for column in self.columns if column.id == column_id)

    def publish(self, column_id: str, record: dict, body: bytes) -> None:
        """A new record on top of a column's list: every list page shifts by one, as TRS rewrites them."""
        column = self.column(column_id)
        with self._lock:
            column.records.insert(0, record)
            self.pages[record["path"]] = body
            now = server_now()
            self.modified[record["path"]] = now
            for page in range(1, column.pages() + 1):
                self.modified[column.file(page)] = now

    # --- what is served ---------------------------------------------------------------------------

    def list_page(self, column: StaticColumn, page: int) -> bytes:
        """List page `page` of a column as TRS publishes it (the site's origin, its encoding)."""
        start = (page - 1) * column.page_size
        items = []
        for n, record in enumerate(column.records[start: start + column.page_size], start + 1):
            form = column.hrefs[(n - 1) % len(column.hrefs)]
            rest = record["path"][len(column.path):]
            href = self.origin + record["path"] if form == "absolute" else form + rest
            title = record["title"]
            shown = title[: column.shown_max] + "..." if column.shown_max and len(title) > column.shown_max else title
            date = dt.date.fromisoformat(record["date"]).strftime(column.date_format)
            items.append(column.item.format(href=_attr(href), title=_attr(title), shown=_text(shown), date=date, n=n))
        pager = {"script": _script_pager, "text": _text_pager}[column.pager](column, page) if column.pager else ""
        markup = column.template.replace("{{ITEMS}}", "\n".join(items)).replace("{{PAGER}}", pager)
        return markup.encode(self.encoding)

    def file(self, path: str) -> bytes | None:
        """The bytes at a path, as the site stores them (None: no such file)."""
        for column in self.columns:
            if path in (column.path, column.path + "index.shtml"):
                return self.list_page(column, 1)
            if path.startswith(column.path + "index_") and path.endswith(".shtml"):
                number = path[len(column.path + "index_"): -len(".shtml")]
                if number.isdigit() and int(number) + 1 <= column.pages():
                    return self.list_page(column, int(number) + 1)
                return None
        if path in self.pages:
            return self.pages[path]
        stored = self.dir / "pages" / path.lstrip("/")
        return stored.read_bytes() if path.endswith((".shtml", ".html")) and stored.is_file() else None


def _text(value: str) -> str:
    return value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _attr(value: str) -> str:
    return _text(value).replace('"', "&quot;")


def _script_pager(column: StaticColumn, page: int) -> str:
    """TRS's own pager: the page count and the 0-based current page, then the file name."""
    return ('<script type="text/javascript">\n'
            f"var currentPage = {page - 1};//所在页从0开始\n"
            f"var countPage = {column.pages()}//共多少页\n"
            'createPageHTML(countPage, currentPage, "index", "shtml");\n'
            "</script>")


def _text_pager(column: StaticColumn, page: int) -> str:
    """A template's printed pager: 共 N 页, 共 M 条, and first/previous/next/last links."""
    last = column.pages()

    def link(label: str, target: int, live: bool) -> str:
        name = "index.shtml" if target == 1 else f"index_{target - 1}.shtml"
        return f'<a href="{name}">{label}</a>' if live else f"<span>{label}</span>"

    return (f"共 {last} 页&nbsp;&nbsp;共 {len(column.records)} 条&nbsp;&nbsp;当前第 {page} 页&nbsp;&nbsp;"
            + "&nbsp;".join([link("首页", 1, page > 1), link("上一页", page - 1, page > 1),
                             link("下一页", page + 1, page < last), link("尾页", last, page < last)]))


class StaticHandler(SiteHandler):
    """Static files: the columns' list pages rendered from their templates, the stored pages."""

    replica: StaticReplica

    @property
    def content_type(self) -> str:
        return self.replica.content_type

    def _answer(self, method: str, path: str, query: dict[str, list[str]], form: str) -> int:
        if path == "/robots.txt":
            return self._send(200, ROBOTS, "text/plain")
        stored = self.replica.file(path) if method == "GET" else None
        if stored is None:
            return self._send(404, b"<html><body><h1>404 Not Found</h1></body></html>", "text/html")
        return self._validated(path, self.replica.rewrite(stored), headers={"Accept-Ranges": "bytes"})

    def _body(self, path: str) -> bytes:
        return self.replica.rewrite(self.replica.file(path) or b"")


StaticReplica.handler = StaticHandler


__all__ = ["EPOCH", "Fault", "StaticColumn", "StaticHandler", "StaticReplica"]
