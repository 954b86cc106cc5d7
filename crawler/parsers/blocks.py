"""Is this document an anti-bot challenge or block page rather than content? (pure)

Two strengths of evidence:
- signatures of challenge scripts (Ruishu/瑞数 `$_ts`, JiaSuLe `__jsl_clearance`, WAF
  interstitials) are decisive wherever they stand;
- block phrases (访问过于频繁, 安全验证 …) are decisive in a page's title or in a small page, and
  otherwise only explain why a page with no record is not one: a proposal may well mention
  "安全验证" in its body.
"""

from __future__ import annotations

import re

_SIGNATURES = (
    (re.compile(r"\$_ts\s*=\s*window\[\s*['\"]\$_ts['\"]\s*\]|\$_ts\.(?:nsd|cd|lcd)\s*=|\$_ts\s*=\s*\{"),
     "Ruishu ($_ts) challenge script"),
    (re.compile(r"__jsl_clearance|__jsluid|_jsl_clearance_s"), "JiaSuLe (__jsl_clearance) challenge"),
    (re.compile(r"acw_sc__v2|aliyun_waf|_waf_bd8ce2ce37"), "WAF challenge script"),
)

BLOCK_PHRASES = ("访问过于频繁", "访问太频繁", "请求过于频繁", "操作过于频繁", "安全验证", "人机验证", "滑动验证",
                 "访问验证", "验证码验证", "您的访问被拒绝", "访问被拒绝", "访问受限", "禁止访问", "IP已被封",
                 "请开启JavaScript并刷新该页")
_PHRASE_RE = re.compile("|".join(re.escape(p) for p in BLOCK_PHRASES))
_TITLE_RE = re.compile(r"<title[^>]*>(.*?)</title>", re.I | re.S)
_TAG_RE = re.compile(r"<script\b.*?</script>|<style\b.*?</style>|<!--.*?-->|<[^>]+>", re.I | re.S)

SMALL_PAGE_TEXT = 1500  # characters of visible text; a site page with chrome has far more


_SIGNATURE_HINTS = ("$_ts", "_jsl", "jsluid", "acw_sc", "_waf_")
# A small page whose only business is to set a cookie and reload (JiaSuLe's first stage spells the
# cookie name out of pieces, so no name gives it away).
_COOKIE_RELOAD_RE = re.compile(r"document\.cookie\s*=.{0,6000}?location\.(?:href|replace|reload)", re.S)
SMALL_PAGE_BYTES = 12_000


def challenge_signature(html: str | bytes) -> str | None:
    """The challenge script a document (text or raw bytes) carries, if any."""
    if isinstance(html, bytes):
        html = html.decode("utf-8", "replace")
    if any(hint in html for hint in _SIGNATURE_HINTS):
        for pattern, name in _SIGNATURES:
            if pattern.search(html):
                return name
    if len(html) <= SMALL_PAGE_BYTES and "document.cookie" in html and _COOKIE_RELOAD_RE.search(html):
        return "cookie-setting challenge script (JiaSuLe style)"
    return None


def block_phrase(html: str, *, anywhere: bool = False) -> str | None:
    """A block phrase in the title or in a small page (or `anywhere` in the visible text)."""
    title = _TITLE_RE.search(html)
    if title and (found := _PHRASE_RE.search(title.group(1))):
        return found.group(0)
    visible = _TAG_RE.sub("", html)
    if anywhere or len(visible.strip()) <= SMALL_PAGE_TEXT:
        found = _PHRASE_RE.search(visible)
        return found.group(0) if found else None
    return None


def challenge_reason(html: str, *, anywhere: bool = False) -> str | None:
    """Why this document is a challenge or block page, or None if nothing says so.

    `anywhere`: trust a block phrase anywhere in the visible text (for pages already known to
    hold no record), not only in the title or a small page.
    """
    signature = challenge_signature(html)
    if signature:
        return signature
    phrase = block_phrase(html, anywhere=anywhere)
    return f"block page saying {phrase}" if phrase else None
