"""A loopback replica of a fixture site, speaking the platforms' real list protocols.

    with Replica(FIXTURES / "haidao") as site:
        site.column_urls        # ["http://127.0.0.1:PORT/col/col1229395011/index.html?number=W001-002", …]

It serves what `<site>/examples/README.md` documents, byte for byte where a capture exists:

- hanweb-jpaas: the column pages; `GET /api-gateway/jpaas-publish-server/front/page/build/unit` paged
  only through `paramJson` (its pageSize honoured, `xxgkId` selecting the list, a page past the end
  answering an empty list with the true count);
- hanweb-jpage: the column page with the first group embedded; `POST /module/jpage/dataproxy.jsp`
  with `startrecord/endrecord/perpage` answering `<datastore>` XML (UTF-8), stopping on totalrecord;
- detail pages as stored, with ETag and Last-Modified, answering conditional GETs with 304;
- `/robots.txt`.

The site's own origin (https://www.haidao.example) is rewritten to the replica's in everything
served. Faults can be injected per path (500s, a 412 Ruishu challenge, a 521 JiaSuLe challenge, a
200 "访问过于频繁" page, a truncated body, a slow answer), pages can be changed between crawls, and
every request is logged.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
import re
import threading
import time
from dataclasses import dataclass, field
from email.utils import format_datetime, parsedate_to_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlsplit

HERE = Path(__file__).resolve().parent
BLOCKS = HERE / "fixtures" / "blocks"
UNIT_PATH = "/api-gateway/jpaas-publish-server/front/page/build/unit"
DATAPROXY_PATH = "/module/jpage/dataproxy.jsp"
ROBOTS = b"User-agent: *\nDisallow: /private/\n"


@dataclass
class Fault:
    """What to answer instead of the page, for the next `times` requests (None: always)."""

    kind: str                  # status, ruishu, jsl, too-frequent, truncate, slow
    times: int | None = 1
    status: int = 500
    delay: float = 0.0


@dataclass
class Logged:
    method: str
    path: str                  # path and query
    status: int                # 0 until answered (or if the client left first)
    conditional: bool          # the request carried If-None-Match or If-Modified-Since
    user_agent: str
    at: float = field(default_factory=time.monotonic)


@dataclass
class Column:
    column_id: str
    name: str
    kind: str | None
    code: str | None
    page_size: int
    records: list[dict]        # path, title, date: newest first


class Replica:
    """One fixture site on 127.0.0.1 (a port of its own)."""

    def __init__(self, site_dir: Path, *, port: int = 0, records: dict[str, list[dict]] | None = None,
                 pages: dict[str, bytes] | None = None) -> None:
        self.dir = Path(site_dir)
        self.site = json.loads((self.dir / "site.json").read_text(encoding="utf-8"))
        self.platform = self.site["platform"]
        self.origin = self.site["base_url"].rstrip("/")
        self.columns = [Column(str(c["column_id"]), c["name"], c.get("kind"), c.get("combination_code"),
                               int(c.get("page_size") or 15),
                               list((records or {}).get(str(c["column_id"]), c["records"])))
                        for c in self.site["columns"]]
        self.pages: dict[str, bytes] = dict(pages or {})
        self.modified: dict[str, dt.datetime] = {}
        self.faults: dict[str, Fault] = {}
        self.log: list[Logged] = []
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", port), _handler(self))
        self._server.daemon_threads = True
        self._thread: threading.Thread | None = None

    # --- lifecycle -----------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def start(self) -> Replica:
        self._thread = threading.Thread(target=self._server.serve_forever, name=f"replica-{self.dir.name}",
                                        daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> Replica:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    # --- what tests read and change -------------------------------------------------------------

    @property
    def column_urls(self) -> list[str]:
        urls = []
        for column in self.columns:
            url = f"{self.base_url}/col/col{column.column_id}/index.html"
            urls.append(url + (f"?number={column.code}" if column.code else ""))
        return urls

    def url(self, path: str) -> str:
        return self.base_url + "/" + path.lstrip("/")

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
            self.modified[path] = dt.datetime.now(dt.UTC).replace(microsecond=0)

    def inject(self, path: str, fault: Fault) -> None:
        with self._lock:
            self.faults["/" + path.lstrip("/")] = fault

    def requests(self, prefix: str = "", status: int | None = None) -> list[Logged]:
        with self._lock:
            return [r for r in self.log if r.path.startswith(prefix) and (status is None or r.status == status)]

    def clear_log(self) -> None:
        with self._lock:
            self.log.clear()

    # --- serving ---------------------------------------------------------------------------------

    def rewrite(self, body: bytes) -> bytes:
        """The site's origin, as printed anywhere in a body, becomes the replica's."""
        body = body.replace(self.origin.encode(), self.base_url.encode())
        host = urlsplit(self.origin).netloc.encode()
        return body.replace(b"//" + host, b"//" + urlsplit(self.base_url).netloc.encode())

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

    def column_for(self, column_id: str | None = None, code: str | None = None) -> Column | None:
        for column in self.columns:
            if (column_id and column.column_id == column_id) or (code and column.code == code):
                return column
        return None

    def jpaas_list(self, column: Column, page_no: int, page_size: int, query_data: str) -> bytes:
        captured = self.dir / "examples" / f"api-{column.column_id}-p{page_no}.json"
        if page_size == column.page_size and captured.exists():
            return captured.read_bytes()  # the captured answer, byte for byte
        records = column.records[(page_no - 1) * page_size: page_no * page_size]
        items = []
        for index, record in enumerate(records):
            href = self.origin + record["path"] if index % 2 == 0 else record["path"]
            shown = record["title"] if len(record["title"]) <= 30 else record["title"][:29] + "..."
            items.append(f'<li class="cf border-line"><a class="fl" href="{href}" title="{record["title"]}" '
                         f'target="_blank">{shown}</a><span class="fr">{record["date"]}</span></li>\n')
        count = len(column.records)
        fragment = (f'<div class="xxgk-list-con">\n<label class="label-className">{column.name}</label>\n'
                    f'<ul class="ajax-ul">\n{"".join(items)}</ul>\n'
                    f'<div class="ajax-page" id="page_组配分类list" count="{count}" rows="{page_size}" '
                    f'pageNo="{page_no}" pageCount="{max(1, math.ceil(count / page_size))}" unitUrl="{UNIT_PATH}" '
                    f'queryData="{query_data}"></div>\n</div>')
        payload = {"success": True, "code": "200", "data": {"html": fragment}}
        return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")

    def jpage_group(self, column: Column, start: int, end: int, per_page: int) -> bytes:
        records = column.records[start - 1: end]
        params = self._jpage_params(column)
        total = len(column.records)
        next_page = end // per_page + 1
        nextgroup = (f'<a href="./dataproxy.jsp?page={next_page}&appid={params.get("appid", "1")}'
                     f'&webid={params.get("webid", "")}&path=/&columnid={column.column_id}'
                     f'&unitid={params.get("unitid", "")}&webname={params.get("webname", "")}&permissiontype=0"></a>')
        body = ['<?xml version="1.0" encoding="UTF-8"?>', "<datastore>", f"<totalrecord>{total}</totalrecord>",
                f"<totalpage>{math.ceil(total / per_page)}</totalpage>",
                f"<nextgroup><![CDATA[{nextgroup}]]></nextgroup>",
                "<recordset>"]
        for record in records:
            title = record["title"]
            shown = title if len(title) <= 24 else title[:23] + "..."
            body.append("<record><![CDATA[\n"
                        '<table width="100%" border="0" cellspacing="0" cellpadding="0" class="list_table"><tr>'
                        '<td width="15" class="list_dot"><img src="/images/gc_dot.gif" width="4" height="4" /></td>'
                        f'<td class="list_title"><a href="{self.origin}{record["path"]}" title="{title}" '
                        f'target="_blank">{shown}</a></td><td width="90" class="list_date">[{record["date"]}]</td>'
                        "</tr></table>\n]]></record>")
        if not records:
            body.append("")
        body += ["</recordset>", "</datastore>"]
        return ("\n".join(body) + "\n").encode("utf-8")

    def _jpage_params(self, column: Column) -> dict[str, str]:
        page = (self.dir / "examples" / f"col-{column.column_id}-index.html").read_bytes().decode("gb18030")
        match = re.search(r"var\s+param_\w+\s*=\s*\{(.*?)\}", page, re.S)
        return dict(re.findall(r"(\w+)\s*:\s*'?([^,']*)'?", match.group(1))) if match else {}


def _handler(replica: Replica):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args) -> None:  # quiet
            pass

        def do_GET(self) -> None:
            self._serve("GET")

        def do_POST(self) -> None:
            self._serve("POST")

        def _serve(self, method: str) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            form = self.rfile.read(length).decode("utf-8", "replace") if length else ""
            parts = urlsplit(self.path)
            conditional = bool(self.headers.get("If-None-Match") or self.headers.get("If-Modified-Since"))
            entry = Logged(method, self.path, 0, conditional, self.headers.get("User-Agent", ""))
            with replica._lock:  # logged on arrival: a request still being answered counts too
                replica.log.append(entry)
            try:
                entry.status = self._route(method, parts.path, parse_qs(parts.query, keep_blank_values=True), form)
            except (BrokenPipeError, ConnectionResetError):
                self.close_connection = True  # the client gave up (a timeout) before the answer was written

        def _send(self, status: int, body: bytes, content_type: str = "text/html; charset=UTF-8",
                  headers: dict[str, str] | None = None) -> int:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)
            return status

        def _route(self, method: str, path: str, query: dict[str, list[str]], form: str) -> int:
            fault = replica._take_fault(path)
            if fault is not None:
                handled = self._fault(fault, path)
                if handled:
                    return handled
            if path == "/robots.txt":
                return self._send(200, ROBOTS, "text/plain")
            if path == UNIT_PATH and method == "GET":
                return self._unit(query)
            if path == DATAPROXY_PATH and method == "POST":
                return self._dataproxy(query, form)
            match = re.fullmatch(r"/col/col(\d+)/index\.html", path)
            if match and method == "GET":
                column_page = replica.dir / "examples" / f"col-{match.group(1)}-index.html"
                if column_page.exists():
                    content_type = "text/html" if replica.platform == "hanweb-jpage" else "text/html; charset=UTF-8"
                    return self._send(200, replica.rewrite(column_page.read_bytes()), content_type)
            if method == "GET" and (path in replica.pages or (replica.dir / "pages" / path.lstrip("/")).is_file()):
                return self._detail(path)
            return self._send(404, b"<html><body><h1>404</h1></body></html>")

        def _detail(self, path: str) -> int:
            body = replica.rewrite(replica.page(path))
            etag = '"' + hashlib.sha1(body).hexdigest()[:16] + '"'
            modified = replica.modified.get(path) or dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
            headers = {"ETag": etag, "Last-Modified": format_datetime(modified, usegmt=True)}
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
            content_type = "text/html" if replica.platform == "hanweb-jpage" else "text/html; charset=UTF-8"
            return self._send(200, body, content_type, headers)

        def _unit(self, query: dict[str, list[str]]) -> int:
            page_id = (query.get("pageId") or [""])[0]
            try:  # paging goes only through paramJson; a bare pageNo/pageSize is ignored
                param = json.loads((query.get("paramJson") or ["{}"])[0])
                search = json.loads(param.get("search") or "{}")
                page_no, page_size = int(param.get("pageNo") or 1), int(param.get("pageSize") or 15)
            except (ValueError, TypeError, AttributeError):
                return self._send(200, b'{"success":false,"code":"500","data":null}', "application/json;charset=UTF-8")
            column = replica.column_for(code=search.get("xxgkId")) or replica.column_for(column_id=page_id)
            if column is None:
                return self._send(200, b'{"success":false,"code":"404","data":null}', "application/json;charset=UTF-8")
            query_data = "{" + ",".join(f"'{k}':'{(query.get(k) or [''])[0]}'"
                                        for k in ("webId", "pageId", "tagId", "tplSetId")) + "}"
            body = replica.rewrite(replica.jpaas_list(column, max(page_no, 1), max(page_size, 1), query_data))
            return self._send(200, body, "application/json;charset=UTF-8")

        def _dataproxy(self, query: dict[str, list[str]], form: str) -> int:
            fields = parse_qs(form)
            column = replica.column_for(column_id=(fields.get("columnid") or [""])[0])
            try:
                start = int(query["startrecord"][0])
                end = int(query["endrecord"][0])
                per_page = int(query["perpage"][0])
            except (KeyError, ValueError):
                return self._send(200, b"<datastore></datastore>", "text/xml;charset=UTF-8")
            if column is None:
                return self._send(200, b"<datastore></datastore>", "text/xml;charset=UTF-8")
            captured = replica.dir / "examples" / f"dataproxy-{column.column_id}-{start}-{end}.xml"
            body = captured.read_bytes() if captured.exists() else replica.jpage_group(column, start, end, per_page)
            return self._send(200, replica.rewrite(body), "text/xml;charset=UTF-8")

        def _fault(self, fault: Fault, path: str) -> int | None:
            if fault.kind == "slow":
                time.sleep(fault.delay)
                return None  # then the page, late
            if fault.kind == "status":
                return self._send(fault.status, b"<html><body><h1>Server Error</h1></body></html>")
            if fault.kind == "ruishu":
                return self._send(412, (BLOCKS / "ruishu-412.html").read_bytes(),
                                  headers={"Set-Cookie": "FSSBBIl1UgzbN7NO=5dkmV0nXBLo; Path=/; HttpOnly"})
            if fault.kind == "jsl":
                return self._send(521, (BLOCKS / "jsl-521.html").read_bytes(),
                                  headers={"Set-Cookie": "__jsluid_s=6452684553c30942fcb8cff8d5aa5a5b; "
                                                         "max-age=31536000; path=/; HttpOnly",
                                           "X-Via-JSL": "7b3cd58,-"})
            if fault.kind == "too-frequent":
                return self._send(200, (BLOCKS / "too-frequent-200.html").read_bytes())
            if fault.kind == "truncate":
                body = replica.rewrite(replica.page(path))
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=UTF-8")
                self.send_header("Content-Length", str(len(body)))
                self.send_header("Connection", "close")
                self.end_headers()
                self.wfile.write(body[: len(body) // 2])
                self.wfile.flush()
                self.close_connection = True
                return 200
            raise ValueError(f"unknown fault {fault.kind}")

    return Handler


def sites_toml(replicas: dict[str, Replica]) -> str:
    """A sites file naming each replica's columns under its slug."""
    lines = []
    for slug, replica in replicas.items():
        columns = ", ".join(json.dumps(url) for url in replica.column_urls)
        lines += [f"[sites.{slug}]", f"name = {json.dumps(replica.site['name'], ensure_ascii=False)}",
                  f"columns = [{columns}]", ""]
    return "\n".join(lines)


__all__ = ["Fault", "Replica", "sites_toml", "urlencode"]
