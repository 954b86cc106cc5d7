"""Is this document an anti-bot challenge or block page rather than content? (pure)

Two strengths of evidence:
- signatures of challenge scripts (Ruishu/瑞数 `$_ts`, JiaSuLe `__jsl_clearance`, WAF
  interstitials) are decisive wherever they stand;
- block phrases (访问过于频繁, 安全验证 …) count only where a block page puts them: in its title or
  in a short line of its own, on a page without a paragraph of running text. A news item or a
  proposal may well mention "安全验证" in a sentence; that never makes it a block page.
"""

from __future__ import annotations

import html as _html
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


_DROP_RE = re.compile(r"<script\b.*?</script\s*>|<style\b.*?</style\s*>|<!--.*?-->", re.I | re.S)
# block-level tags end a line of text; inline ones (<a>, <span>, <b> …) do not
_BREAK_RE = re.compile(
    r"<(?:/?(?:p|div|li|ul|ol|tr|td|th|table|h[1-6]|dl|dt|dd|section|article|header|footer|nav|form|title|"
    r"blockquote|center|pre|address|aside|main|figure|figcaption|fieldset|legend|body|head|html)|br|hr)\b[^>]*>",
    re.I)
_SENTENCE_MARKS = ("。", "，", "；", ".", ",")
SHORT_LINE = 40          # characters: a block page's message stands in a line this short
PARAGRAPH = 60           # characters: a line this long, written in sentences, is a paragraph
ARTICLE_TEXT = 150       # characters of paragraphs: a page with this much running text is an article
_TITLE_SEPARATORS_RE = re.compile(r"\s*[-_|–—－·]+\s*")


def _lines(html: str) -> list[str]:
    text = _TAG_RE.sub("", _BREAK_RE.sub("\n", _DROP_RE.sub("", html)))
    if "&" in text:
        text = _html.unescape(text)
    return [line for line in (" ".join(raw.split()) for raw in text.split("\n")) if line]


def _is_paragraph(line: str) -> bool:
    return len(line) > PARAGRAPH and ("。" in line or sum(line.count(m) for m in _SENTENCE_MARKS) >= 2)


def block_phrase(html: str, *, anywhere: bool = False) -> str | None:
    """A block phrase where a block page puts it, on a page that holds no article.

    A block page says 访问过于频繁 / 安全验证 in its title or in a short line of its own, and
    has little else to say: no article's worth of running text. A page that mentions the phrase in a
    sentence of its text (a news item, a proposal) is not a block page, however small.
    `anywhere`: for pages already known to hold no record, whatever the size of their text; else
    only small pages (`SMALL_PAGE_TEXT` characters of visible text) count.
    """
    if not _PHRASE_RE.search(html):
        return None
    lines = _lines(html)
    if sum(len(line) for line in lines if _is_paragraph(line)) >= ARTICLE_TEXT:
        return None  # an article: block pages explain themselves in a line or two at most
    if not anywhere and sum(len(line) for line in lines) > SMALL_PAGE_TEXT:
        title = _TITLE_RE.search(html)
        text = " ".join(_html.unescape(title.group(1)).split()) if title else ""
        parts = [part for part in _TITLE_SEPARATORS_RE.split(text) if part]
        found = next((m for part in parts if len(part) <= SHORT_LINE and (m := _PHRASE_RE.search(part))), None)
        return found.group(0) if found else None
    for line in lines:
        if len(line) <= SHORT_LINE and (found := _PHRASE_RE.search(line)):
            return found.group(0)
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
