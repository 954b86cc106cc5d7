"""Bytes to text the way a browser decodes a Chinese government page.

Order: a BOM (UTF-8, UTF-16 and UTF-32, either byte order), the HTTP charset, `<meta charset>` /
`http-equiv`, then detection. Labels are resolved as browsers resolve them (w3lib's WHATWG
table): `gb2312` and `gbk` decode as GB18030, so GBK-only characters such as `〇` and the A1AA dash
come out right.
"""

from __future__ import annotations

import codecs
import re
from functools import lru_cache

from w3lib.encoding import resolve_encoding

# UTF-32-LE's BOM (FF FE 00 00) starts with UTF-16-LE's (FF FE): the longer ones are tried first
_BOMS = ((codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF32_LE, "utf-32-le"), (codecs.BOM_UTF32_BE, "utf-32-be"),
         (codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be"))
# codecs whose bytes are not ASCII where the text is: byte-level checks must look at the text instead
WIDE_CODECS = frozenset({"utf-16-le", "utf-16-be", "utf-32-le", "utf-32-be"})
# <meta charset="gb2312"> and <meta http-equiv="Content-Type" content="text/html; charset=gb2312">
_CHARSET_VALUE_RE = re.compile(rb"\s*=\s*[\"']?\s*([A-Za-z0-9._:-]+)")


# WHATWG labels Python's codec registry does not know
_ALIASES = {"x-gbk": "gbk", "x-gb18030": "gb18030", "gb_2312": "gb2312", "csgb2312": "gb2312", "x-euc-cn": "gb2312",
            "unicode-1-1-utf-8": "utf-8", "x-unicode20utf8": "utf-8"}


@lru_cache(maxsize=64)
def normalize_encoding(name: str | None) -> str | None:
    """A charset label as a Python codec name (`gb2312` -> `gb18030`); None if unknown."""
    if not name:
        return None
    name = name.strip().strip("\"'").lower()
    resolved = resolve_encoding(_ALIASES.get(name, name))
    if resolved is None:
        return None
    try:
        return codecs.lookup(resolved).name
    except LookupError:
        return None


def content_type_charset(content_type: str | None) -> str | None:
    """The charset label of an HTTP Content-Type (`text/html; charset=GBK` -> `gbk`), as sent."""
    if not content_type or "charset=" not in content_type.lower():
        return None
    return content_type.lower().split("charset=", 1)[1].split(";")[0].strip().strip("\"'") or None


def declared_encoding(body: bytes) -> str | None:
    """The charset a `<meta>` declares in the first 4 KB of the page, as a codec name."""
    head = body[:4096]
    at = head.find(b"charset")
    if at == -1:
        head = head.lower()
        at = head.find(b"charset")
    while at != -1:
        tag = head.rfind(b"<", 0, at)
        if tag != -1 and head[tag + 1: tag + 5].lower() == b"meta":
            match = _CHARSET_VALUE_RE.match(head, at + 7)
            if match:
                return normalize_encoding(match.group(1).decode("ascii", "replace"))
        at = head.find(b"charset", at + 7)
    return None


def detect_encoding(body: bytes) -> str | None:
    """Undeclared pages: strict UTF-8 first, then GB18030 (what these sites use), then a guess."""
    for candidate in ("utf-8", "gb18030"):
        try:
            body.decode(candidate)
        except UnicodeDecodeError:
            continue
        return candidate
    from charset_normalizer import from_bytes

    best = from_bytes(body[:65536]).best()
    return normalize_encoding(best.encoding) if best else None


def decode_html(body: bytes, encoding: str | None = None) -> tuple[str, str]:
    """Decode a page; `encoding` is the HTTP charset when the caller knows one.

    Returns (text, codec). A declared charset that garbles the page loses to a candidate that
    decodes it cleanly: servers often send `charset=UTF-8` with GBK pages and the reverse.
    """
    for bom, codec in _BOMS:
        if body.startswith(bom):
            return body[len(bom):].decode(codec, "replace"), codec
    declared = [normalize_encoding(encoding), declared_encoding(body)]
    for codec in declared:
        if codec:
            try:
                return body.decode(codec), codec
            except UnicodeDecodeError:
                continue
    detected = detect_encoding(body)
    if detected:
        try:
            return body.decode(detected), detected
        except UnicodeDecodeError:
            pass
    codec = next((c for c in declared if c), None) or detected or "utf-8"
    return body.decode(codec, "replace"), codec
