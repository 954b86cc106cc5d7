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

`Fault` and `Logged` are the Hanweb replica's (replica/hanweb.py); the serving is this module's own.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
import threading
import time
from dataclasses import dataclass
from email.utils import format_datetime, parsedate_to_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

from replica.hanweb import BLOCKS, Fault, Logged

ROBOTS = b"User-agent: *\nDisallow: /private/\n"
EPOCH = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)  # Last-Modified of every file no test has changed


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


class StaticReplica:
    """One static TRS fixture site on 127.0.0.1 (a port of its own), or on another loopback address
    (`host`): a host of its own for the crawler's per-host delays."""

    def __init__(self, site_dir: Path, *, port: int = 0, records: dict[str, list[dict]] | None = None,
                 pages: dict[str, bytes] | None = None, host: str = "127.0.0.1") -> None:
        self.dir = Path(site_dir)
        self.site = json.loads((self.dir / "site.json").read_text(encoding="utf-8"))
        self.platform = self.site["platform"]
        self.origin = self.site["base_url"].rstrip("/")
        self.encoding = self.site["encoding"]
        self.content_type = self.site["content_type"]
        self.columns = [StaticColumn(
            c["id"], c["name"], c["path"], int(c["page_size"]), c.get("pager"),
            (self.dir / "templates" / c["list_template"]).read_text(encoding="utf-8"), c["item"],
            c.get("shown_max"), list(c["hrefs"]), c["date_format"],
            list((records or {}).get(c["id"], c["records"]))) for c in self.site["columns"]]
        self.pages: dict[str, bytes] = dict(pages or {})
        self.modified: dict[str, dt.datetime] = {}
        self.faults: dict[str, Fault] = {}
        self.log: list[Logged] = []
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer((host, port), _handler(self))
        self._server.daemon_threads = True
        self._thread: threading.Thread | None = None

    # --- lifecycle -----------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> StaticReplica:
        self._thread = threading.Thread(target=self._server.serve_forever, name=f"replica-{self.dir.name}",
                                        daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> StaticReplica:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    # --- what tests read and change -------------------------------------------------------------

    @property
    def column_urls(self) -> list[str]:
        return [self.base_url + column.file(1) for column in self.columns]

    def url(self, path: str) -> str:
        return self.base_url + "/" + path.lstrip("/")

    def column(self, column_id: str) -> StaticColumn:
        return next(column for column in self.columns if column.id == column_id)

    def page(self, path: str) -> bytes:
        """The stored bytes of a detail page (before the origin is rewritten)."""
        path = "/" + path.lstrip("/")
        if path in self.pages:
            return self.pages[path]
        return (self.dir / "pages" / path.lstrip("/")).read_bytes()

    def set_page(self, path: str, body: bytes) -> None:
        """Change a page, as the site's editors do: new bytes, new ETag, new Last-Modified."""
        path = "/" + path.lstrip("/")
        with self._lock:
            self.pages[path] = body
            self.modified[path] = _now()

    def publish(self, column_id: str, record: dict, body: bytes) -> None:
        """A new record on top of a column's list: every list page shifts by one, as TRS rewrites them."""
        column = self.column(column_id)
        with self._lock:
            column.records.insert(0, record)
            self.pages[record["path"]] = body
            now = _now()
            self.modified[record["path"]] = now
            for page in range(1, column.pages() + 1):
                self.modified[column.file(page)] = now

    def inject(self, path: str, fault: Fault) -> None:
        with self._lock:
            self.faults["/" + path.lstrip("/")] = fault

    def requests(self, prefix: str = "", status: int | None = None) -> list[Logged]:
        with self._lock:
            return [r for r in self.log if r.path.startswith(prefix) and (status is None or r.status == status)]

    def clear_log(self) -> None:
        with self._lock:
            self.log.clear()

    # --- what is served ---------------------------------------------------------------------------

    def rewrite(self, body: bytes) -> bytes:
        """The site's origin, as printed anywhere in a body, becomes the replica's."""
        body = body.replace(self.origin.encode(), self.base_url.encode())
        host = urlsplit(self.origin).netloc.encode()
        return body.replace(b"//" + host, b"//" + urlsplit(self.base_url).netloc.encode())

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

    def _take_fault(self, path: str) -> Fault | None:
        with self._lock:
            fault = self.faults.get(path)
            if fault is None:
                return None
            if fault.times is not None:
                fault.times -= 1
                if fault.times <= 0:
                    del self.faults[path]
            return fault


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(microsecond=0)


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


def _handler(replica: StaticReplica):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args) -> None:  # quiet
            pass

        def do_GET(self) -> None:
            path = urlsplit(self.path).path
            conditional = bool(self.headers.get("If-None-Match") or self.headers.get("If-Modified-Since"))
            entry = Logged("GET", self.path, 0, conditional, self.headers.get("User-Agent", ""))
            with replica._lock:  # logged on arrival: a request still being answered counts too
                replica.log.append(entry)
            try:
                entry.status = self._route(path)
            except (BrokenPipeError, ConnectionResetError):
                self.close_connection = True  # the client gave up (a timeout) before the answer was written

        def _send(self, status: int, body: bytes, content_type: str | None = None,
                  headers: dict[str, str] | None = None) -> int:
            self.send_response(status)
            self.send_header("Content-Type", content_type or replica.content_type)
            self.send_header("Content-Length", str(len(body)))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(body)
            return status

        def _route(self, path: str) -> int:
            fault = replica._take_fault(path)
            if fault is not None:
                handled = self._fault(fault, path)
                if handled:
                    return handled
            if path == "/robots.txt":
                return self._send(200, ROBOTS, "text/plain")
            stored = replica.file(path)
            if stored is None:
                return self._send(404, b"<html><body><h1>404 Not Found</h1></body></html>", "text/html")
            return self._file(path, replica.rewrite(stored))

        def _file(self, path: str, body: bytes) -> int:
            """A static file: validators, and 304 where the client's copy is current."""
            etag = '"' + hashlib.sha1(body).hexdigest()[:16] + '"'
            modified = replica.modified.get(path) or EPOCH
            headers = {"ETag": etag, "Last-Modified": format_datetime(modified, usegmt=True),
                       "Accept-Ranges": "bytes"}
            if self.headers.get("If-None-Match"):
                if self.headers["If-None-Match"] == etag:
                    return self._send(304, b"", headers=headers)
            elif self.headers.get("If-Modified-Since"):
                try:
                    since = parsedate_to_datetime(self.headers["If-Modified-Since"])
                except (TypeError, ValueError):
                    since = None
                if since is not None and modified <= since:
                    return self._send(304, b"", headers=headers)
            return self._send(200, body, headers=headers)

        def _fault(self, fault: Fault, path: str) -> int | None:
            if fault.kind == "slow":
                time.sleep(fault.delay)
                return None  # then the page, late
            if fault.kind == "status":
                return self._send(fault.status, b"<html><body><h1>Server Error</h1></body></html>", "text/html")
            if fault.kind == "ruishu":
                return self._send(412, (BLOCKS / "ruishu-412.html").read_bytes(), "text/html",
                                  headers={"Set-Cookie": "FSSBBIl1UgzbN7NO=5dkmV0nXBLo; Path=/; HttpOnly"})
            if fault.kind == "jsl":
                return self._send(521, (BLOCKS / "jsl-521.html").read_bytes(), "text/html",
                                  headers={"Set-Cookie": "__jsluid_s=6452684553c30942fcb8cff8d5aa5a5b; "
                                                         "max-age=31536000; path=/; HttpOnly",
                                           "X-Via-JSL": "7b3cd58,-"})
            if fault.kind == "too-frequent":
                return self._send(200, (BLOCKS / "too-frequent-200.html").read_bytes(), "text/html; charset=UTF-8")
            if fault.kind == "truncate":
                body = replica.rewrite(replica.file(path) or b"")
                self.send_response(200)
                self.send_header("Content-Type", replica.content_type)
                self.send_header("Content-Length", str(len(body)))
                self.send_header("Connection", "close")
                self.end_headers()
                self.wfile.write(body[: len(body) // 2])
                self.wfile.flush()
                self.close_connection = True
                return 200
            raise ValueError(f"unknown fault {fault.kind}")

    return Handler


__all__ = ["EPOCH", "Fault", "StaticColumn", "StaticReplica"]
