"""Is this HTTP answer a challenge, a block or a cut body rather than the page asked for? (pure)

Status and headers first (412 with a Ruishu `$_ts` script, 521 with JiaSuLe's `X-Via-JSL` or
`__jsluid` cookie), then the body (challenge scripts anywhere; 访问过于频繁 / 安全验证 in a small page
or its title), then completeness (a body shorter than its Content-Length, an HTML page without its
end). A challenge or block page is `blocked` (the host is backed off, the page asked once more); a
cut body is `truncated` (asked again like a dropped connection: the host did nothing wrong). Used by
the downloader middleware; the parser refuses such pages on its own as well.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from .parsers import blocks as page_blocks
from .parsers.detail import is_truncated

BLOCKED, TRUNCATED = "blocked", "truncated"
CHALLENGE_STATUSES = {412: "HTTP 412", 521: "HTTP 521", 403: "HTTP 403 forbidden"}


@dataclass(frozen=True, slots=True)
class Verdict:
    kind: str     # BLOCKED or TRUNCATED
    reason: str   # in words: "blocked by a Ruishu challenge (HTTP 412: …)"


def _header(headers: Mapping, name: str) -> str:
    for key, value in headers.items():
        key = key.decode("latin-1") if isinstance(key, bytes) else str(key)
        if key.lower() == name.lower():
            values = value if isinstance(value, list) else [value]
            return ", ".join(v.decode("latin-1") if isinstance(v, bytes) else str(v) for v in values)
    return ""


def _challenge(vendor: str | None, status: str, detail: str | None) -> Verdict:
    said = f"{status}: {detail}" if detail else status
    return Verdict(BLOCKED, f"blocked by a {vendor} challenge ({said})" if vendor else f"blocked ({said})")


def _vendor(detail: str | None, jsl_markers: bool) -> str | None:
    if detail and "Ruishu" in detail:
        return "Ruishu"
    if jsl_markers or (detail and "JiaSuLe" in detail):
        return "JiaSuLe"
    return "WAF" if detail and "WAF" in detail else None


def judge(status: int, headers: Mapping, body: bytes, *, html: bool = True, dataloss: bool = False) -> Verdict | None:
    """Why this answer is not the page (blocked, challenged, cut short), or None if it is."""
    jsl = "__jsluid" in _header(headers, "Set-Cookie") or bool(_header(headers, "X-Via-JSL"))
    if status in CHALLENGE_STATUSES or jsl:
        detail = page_blocks.challenge_signature(body[:200_000].decode("utf-8", "replace"))
        if status in CHALLENGE_STATUSES or detail:
            return _challenge(_vendor(detail, jsl), CHALLENGE_STATUSES.get(status, f"HTTP {status}"), detail)
    if dataloss:
        return Verdict(TRUNCATED, "truncated body (shorter than its Content-Length)")
    if status == 200 and body:
        text = body[:300_000].decode("utf-8", "replace")
        detail = page_blocks.challenge_signature(text)
        if detail:
            return _challenge(_vendor(detail, jsl), "HTTP 200", detail)
        said = page_blocks.challenge_reason(text)  # a block phrase in the title or a small page
        if said:
            return Verdict(BLOCKED, f"blocked: {said} (HTTP 200)")
        if html and is_truncated(body):
            return Verdict(TRUNCATED, "truncated body (the HTML stops before its end)")
    return None

