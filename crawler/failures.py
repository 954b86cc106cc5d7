"""Why a request failed, in the words a researcher reads in the crawl's summary (no tracebacks).

`describe(error)` turns a download exception, an HTTP error or an ignored request into one short
cause: "DNS lookup failed — offline?", "connection refused", "timed out", "HTTP 503 (server
error)", "forbidden by robots.txt" …; the crawl's own refusals (an unreachable robots.txt, a host
given up, an off-site redirect, a redirect loop) carry their words in their message.
"""

from __future__ import annotations

from http import HTTPStatus

from scrapy import exceptions as scrapy_errors
from scrapy.exceptions import IgnoreRequest
from twisted.internet import error as tx
from twisted.web._newclient import ResponseFailed, ResponseNeverReceived

DNS_FAILED = "DNS lookup failed — offline?"
REFUSED = "connection refused"
TIMED_OUT = "timed out"

_CAUSES: tuple[tuple[tuple[type[BaseException], ...], str], ...] = (
    ((scrapy_errors.CannotResolveHostError, tx.DNSLookupError), DNS_FAILED),
    ((scrapy_errors.DownloadConnectionRefusedError, tx.ConnectionRefusedError), REFUSED),
    ((scrapy_errors.DownloadTimeoutError, tx.TimeoutError, tx.TCPTimedOutError, TimeoutError), TIMED_OUT),
    ((scrapy_errors.ResponseDataLossError,), "truncated body (the connection was cut)"),
    ((scrapy_errors.DownloadFailedError, ResponseFailed, ResponseNeverReceived, tx.ConnectionLost,
      tx.ConnectionDone), "connection dropped"),
    ((tx.ConnectError,), "could not connect"),
)
# hosts that fail like this cannot be reached at all: the crawl gives them up
UNREACHABLE = (DNS_FAILED, REFUSED)


class GivenUp(IgnoreRequest):
    """A request the crawl refused to send; its message says why, in words."""


def http_cause(status: int) -> str:
    """`HTTP 503 (server error)`, `HTTP 404 (not found)` …"""
    if status >= 500:
        kind = "server error"
    else:
        try:
            kind = HTTPStatus(status).phrase.lower()
        except ValueError:
            kind = "client error" if status >= 400 else "unexpected status"
    return f"HTTP {status} ({kind})"


def describe(error: BaseException) -> str:
    """One short cause for a failed request."""
    response = getattr(error, "response", None)
    if response is not None and getattr(response, "status", None):
        return http_cause(response.status)
    if isinstance(error, GivenUp):
        return str(error)
    if isinstance(error, IgnoreRequest):
        text = str(error)
        if "robots.txt" in text.lower():
            return "forbidden by robots.txt"
        if "max redirections" in text.lower():
            return "redirect loop (too many redirects)"
        return text or "request ignored"
    for types, cause in _CAUSES:
        if isinstance(error, types):
            return cause
    if type(error).__module__.startswith("OpenSSL") or "SSL" in type(error).__name__:
        return "TLS handshake failed"
    text = str(error).strip().splitlines()
    return f"{type(error).__name__}: {text[0]}" if text else type(error).__name__
