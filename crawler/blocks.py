"""Is this HTTP answer a challenge, a block or a cut body rather than the page asked for? (pure)

Status and headers first (412 with a Ruishu `$_ts` script, 521 with JiaSuLe's `X-Via-JSL` or
`__jsluid` cookie), then the body (challenge scripts anywhere; 访问过于频繁 / 安全验证 in a small page
or its title), then completeness (a body shorter than its Content-Length, an HTML page without its
end). Used by the downloader middleware; the parser refuses such pages on its own as well.
"""

from __future__ import annotations

from collections.abc import Mapping

from .parsers import blocks as page_blocks
from .parsers.detail import is_truncated

CHALLENGE_STATUSES = {412: "HTTP 412 challenge", 521: "HTTP 521 challenge", 403: "HTTP 403 forbidden"}


def _header(headers: Mapping, name: str) -> str:
    for key, value in headers.items():
        key = key.decode("latin-1") if isinstance(key, bytes) else str(key)
        if key.lower() == name.lower():
            values = value if isinstance(value, list) else [value]
            return ", ".join(v.decode("latin-1") if isinstance(v, bytes) else str(v) for v in values)
    return ""


def block_reason(status: int, headers: Mapping, body: bytes, *, html: bool = True,
                 dataloss: bool = False) -> str | None:
    """Why this answer is not the page (blocked, challenged, cut short), or None if it is."""
    cookies = _header(headers, "Set-Cookie")
    if status in CHALLENGE_STATUSES or "__jsluid" in cookies or _header(headers, "X-Via-JSL"):
        text = body[:200_000].decode("utf-8", "replace")
        detail = page_blocks.challenge_signature(text)
        base = CHALLENGE_STATUSES.get(status, f"HTTP {status}")
        if "__jsluid" in cookies or _header(headers, "X-Via-JSL"):
            return f"{base} (JiaSuLe)" if not detail else f"{base}: {detail}"
        if status in CHALLENGE_STATUSES:
            return f"{base}: {detail}" if detail else base
    if dataloss:
        return "truncated body (shorter than its Content-Length)"
    if status == 200 and body:
        text = body[:300_000].decode("utf-8", "replace")
        reason = page_blocks.challenge_reason(text)
        if reason:
            return reason
        if html and is_truncated(body):
            return "truncated body (the HTML stops before its end)"
    return None
