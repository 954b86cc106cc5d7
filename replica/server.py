"""What every replica shares: a site folder served on a loopback address, its pages changeable
between crawls, faults injected per path, validators and 304s, and every request logged.

A family's replica (hanweb.py, static.py) subclasses `LoopbackSite` for what it serves and
`SiteHandler` for how: `_answer` routes a request the family's way, `_list_page` says which list
page a request asks for (a fault can be meant for one), and `_fault` adds the family's own faults
(broken list answers) to the common ones.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import threading
import time
from dataclasses import dataclass, field
from email.utils import format_datetime, parsedate_to_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

BLOCKS = Path(__file__).resolve().parent / "blocks"
ROBOTS = b"User-agent: *\nDisallow: /private/\n"
EPOCH = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)  # Last-Modified of every page no test has changed


@dataclass
class Fault:
    """What to answer instead of the page, for the next `times` requests (None: always).

    kinds: status, ruishu, jsl, too-frequent, truncate, slow, redirect (to `location`), and for
    list answers bad-json, deep-json, cut (the answer cut in half, with a Content-Length that says so)."""

    kind: str
    times: int | None = 1
    status: int = 500
    delay: float = 0.0
    location: str = ""
    page: int | None = None    # on a list API: only the request for this list page (JPaaS page, jpage group)


@dataclass
class Logged:
    method: str
    path: str                  # path and query
    status: int                # 0 until answered (or if the client left first)
    conditional: bool          # the request carried If-None-Match or If-Modified-Since
    user_agent: str
    at: float = field(default_factory=time.monotonic)


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(microsecond=0)


class SiteHandler(BaseHTTPRequestHandler):
    """One request to a replica: logged on arrival, a fault if one is injected, else the family's answer."""

    replica: LoopbackSite
    protocol_version = "HTTP/1.1"
    content_type = "text/html; charset=UTF-8"

    def log_message(self, *args) -> None:  # quiet
        pass

    def do_GET(self) -> None:
        self._serve("GET")

    def do_POST(self) -> None:
        self._serve("POST")

    def _serve(self, method: str) -> None:
        replica = self.replica
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

    def _route(self, method: str, path: str, query: dict[str, list[str]], form: str) -> int:
        fault = self.replica._take_fault(path, self._list_page(query))
        if fault is not None:
            handled = self._fault(fault, path, method, query, form)
            if handled:
                return handled
        return self._answer(method, path, query, form)

    def _list_page(self, query: dict[str, list[str]]) -> int | None:
        return None

    def _answer(self, method: str, path: str, query: dict[str, list[str]], form: str) -> int:
        raise NotImplementedError

    def _send(self, status: int, body: bytes, content_type: str | None = None,
              headers: dict[str, str] | None = None) -> int:
        self.send_response(status)
        self.send_header("Content-Type", content_type or self.content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)
        return status

    def _validated(self, path: str, body: bytes, content_type: str | None = None,
                   headers: dict[str, str] | None = None, modified: dt.datetime | None = None) -> int:
        """A stored page with its validators (ETag, Last-Modified: `modified`, else when the page was
        last changed), or 304 where the client's copy is current."""
        etag = '"' + hashlib.sha1(body).hexdigest()[:16] + '"'
        modified = modified or self.replica.modified.get(path) or EPOCH
        headers = {"ETag": etag, "Last-Modified": format_datetime(modified, usegmt=True)} | (headers or {})
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
        return self._send(200, body, content_type, headers)

    def _body(self, path: str) -> bytes:
        """What the page at `path` would answer (a truncated answer is half of it)."""
        return self.replica.rewrite(self.replica.page(path))

    def _fault(self, fault: Fault, path: str, method: str, query: dict[str, list[str]], form: str) -> int | None:
        """The answer a fault gives instead of the page (None: the page after all, as `slow` gives it)."""
        if fault.kind == "slow":
            time.sleep(fault.delay)
            return None  # then the page, late
        if fault.kind == "status":
            return self._send(fault.status, b"<html><body><h1>Server Error</h1></body></html>")
        if fault.kind == "redirect":
            return self._send(302, b"", headers={"Location": fault.location})
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
        if fault.kind == "truncate":  # half the page, with a Content-Length that says the whole
            body = self._body(path)
            self.send_response(200)
            self.send_header("Content-Type", self.content_type)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(body[: len(body) // 2])
            self.wfile.flush()
            self.close_connection = True
            return 200
        raise ValueError(f"unknown fault {fault.kind}")


class LoopbackSite:
    """A fixture site folder served on 127.0.0.1 (a port of its own), or on another loopback address
    (`host`, 127.0.0.2 …): a host of its own, as a crawler's per-host delays and backoffs see hosts.

    The site's own origin (its `site.json` base_url) is rewritten to the replica's in everything served."""

    handler: type[SiteHandler] = SiteHandler

    def __init__(self, site_dir: Path, *, port: int = 0, host: str = "127.0.0.1",
                 pages: dict[str, bytes] | None = None) -> None:
        self.dir = Path(site_dir)
        self.site = json.loads((self.dir / "site.json").read_text(encoding="utf-8"))
        self.platform = self.site["platform"]
        self.origin = self.site["base_url"].rstrip("/")
        self.pages: dict[str, bytes] = dict(pages or {})
        self.modified: dict[str, dt.datetime] = {}
        self.faults: dict[str, Fault] = {}
        self.log: list[Logged] = []
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer((host, port), type("Handler", (self.handler,), {"replica": self}))
        self._server.daemon_threads = True
        self._thread: threading.Thread | None = None

    # --- lifecycle -----------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def netloc(self) -> str:
        return urlsplit(self.base_url).netloc

    def start(self):
        self._thread = threading.Thread(target=self._server.serve_forever, name=f"replica-{self.dir.name}",
                                        daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    # --- what tests read and change -------------------------------------------------------------

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
            self.modified[path] = now()

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

    def _take_fault(self, path: str, list_page: int | None = None) -> Fault | None:
        with self._lock:
            fault = self.faults.get(path)
            if fault is None or (fault.page is not None and fault.page != list_page):
                return None
            if fault.times is not None:
                fault.times -= 1
                if fault.times <= 0:
                    del self.faults[path]
            return fault


__all__ = ["BLOCKS", "EPOCH", "ROBOTS", "Fault", "Logged", "LoopbackSite", "SiteHandler", "now"]
