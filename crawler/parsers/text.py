"""Normalisers for the values found on proposal pages (RECORD.md, "Normalisation rules").

Every function here is pure and total: it takes printed text and returns the normalised
value, or None / [] where the text holds no value.
"""

from __future__ import annotations

import datetime as _dt
import re
import unicodedata

# Whitespace as Chinese pages print it: ASCII, NBSP, the ideographic space U+3000, zero-width
# characters and the BOM that editors leave behind.
_WS = "\\s\u00a0\u3000\u200b\u200c\u200d\u2060\ufeff"
WS_RE = re.compile(f"[{_WS}]+")

PLACEHOLDERS = frozenset({"请选择", "无", "暂无", "/", "／", "—", "-", "－", "——", "--", "null", "NULL", "空"})
_DASHES_RE = re.compile(r"^[-—–―－/／\\]+$")


# zero-width characters editors leave in pages, mapped to spaces that split() then folds away
_ZERO_WIDTH = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff"), " ")


def has_zero_width(text: str) -> bool:
    """Does the text hold a zero-width character (the membership tests are cheaper than translate)?"""
    return "\u200b" in text or "\ufeff" in text or "\u200c" in text or "\u200d" in text or "\u2060" in text


def drop_zero_width(text: str) -> str:
    """Zero-width characters as spaces."""
    return text.translate(_ZERO_WIDTH) if has_zero_width(text) else text


def clean_inline(text: str | None) -> str:
    """Trim and collapse every run of whitespace (U+3000 and NBSP included) to one space."""
    if not text:
        return ""
    return " ".join(drop_zero_width(text).split())


def strip_ws(text: str | None) -> str:
    """Remove all whitespace, wherever it stands."""
    return WS_RE.sub("", text or "")


def normalize_label(text: str | None) -> str:
    """`索 引 号：` -> `索引号`: whitespace removed, trailing colons dropped, widths folded.

    Read for every cell of a page, so it does without regular expressions: `split()` knows every
    Unicode space (U+3000 and NBSP included), and zero-width characters are folded first.
    """
    if not text:
        return ""
    label = "".join(drop_zero_width(text).split()).rstrip(":：")
    if not label.isascii() and not unicodedata.is_normalized("NFKC", label):
        label = unicodedata.normalize("NFKC", label).rstrip(":")
    return label


def is_placeholder(text: str | None) -> bool:
    """`请选择`, `无`, `暂无`, `/`, `—`, `-` and empty cells mean "no value"."""
    return _placeholder(clean_inline(text))


_DASH_CHARS = frozenset("-—–―－/／\\")


def _placeholder(value: str) -> bool:
    """`is_placeholder` of a value already trimmed and collapsed."""
    return not value or value in PLACEHOLDERS or (value[0] in _DASH_CHARS and bool(_DASHES_RE.match(value)))


def scalar(text: str | None) -> str | None:
    """A one-line value: trimmed, whitespace collapsed, a placeholder gives None."""
    value = clean_inline(text)
    return None if _placeholder(value) else value


def body_text(lines: list[str] | str) -> str:
    """Body text: one line per paragraph, each trimmed and collapsed, empty lines dropped."""
    if isinstance(lines, str):
        lines = lines.splitlines()
    kept = (clean_inline(line) for line in lines)
    return "\n".join(line for line in kept if line)


# --- names of people and units -------------------------------------------------------------

_NAME_SPLIT_RE = re.compile(r"[、,;/\n]+")
_TRAILING_DENG_RE = re.compile(r"等(?:[0-9]+|[一二三四五六七八九十]+)?(?:名|位|人)?(?:委员|代表)?$")


def _no_spaces(text: str) -> str:
    """All whitespace removed (zero-width characters too), without a regular expression."""
    return "".join(drop_zero_width(text).split())


def normalize_name(text: str | None) -> str:
    """NFKC, then all whitespace removed: `王　伟` -> `王伟`."""
    return _no_spaces(unicodedata.normalize("NFKC", text or ""))


def split_names(text: str | None) -> list[str]:
    """`陆海涛、姚丽萍等` -> ["陆海涛", "姚丽萍"]; a placeholder gives []."""
    if not text:
        return []
    folded = unicodedata.normalize("NFKC", text)
    names: list[str] = []
    for part in _NAME_SPLIT_RE.split(folded):
        name = _no_spaces(part)
        if len(name) > 1 and "等" in name:
            name = _TRAILING_DENG_RE.sub("", name)
        if name and not _placeholder(name) and name not in names:
            names.append(name)
    return names


# --- numbers, titles, years, sessions --------------------------------------------------------

_DIGITS = "0-9０-９"
_OPEN = r"\(（\[［【〔"
_CLOSE = r"\)）\]］】〕"
_NUMBER_PREFIX_RES = (
    # (202116号)  （第0487号）  【第12号】
    re.compile(f"^[{_OPEN}][{_WS}]*(?:第[{_WS}]*)?([{_DIGITS}]+)[{_WS}]*号[{_WS}]*[{_CLOSE}][{_WS}]*"),
    # 第28号 关于…   第28号：关于…
    re.compile(f"^第[{_WS}]*([{_DIGITS}]+)[{_WS}]*号(?:[{_WS}]+|[:：、.．,，]+[{_WS}]*)"),
)


def _ascii_digits(text: str) -> str:
    return unicodedata.normalize("NFKC", text)


def split_title(raw_title: str) -> tuple[str | None, str]:
    """`(202116号)关于…` -> ("202116", "关于…"); a title without a number prefix keeps its text."""
    for pattern in _NUMBER_PREFIX_RES:
        match = pattern.match(raw_title)
        if match and match.end() < len(raw_title):
            return _ascii_digits(match.group(1)), raw_title[match.end():].strip()
    return None, raw_title.strip()


def parse_number(text: str | None) -> str | None:
    """A number as printed, digits only: `第0487号` -> `0487`, `2021-16` is not a number."""
    match = re.search(f"([{_DIGITS}]+)", text or "")
    return _ascii_digits(match.group(1)) if match else None


_TITLE_YEAR_RE = re.compile(r"((?:19|20)[0-9]{2})[\s\u3000]*年")


def derive_year(number: str | None, title: str | None) -> int | None:
    """`202116` -> 2021 (6+ digits starting 19/20); else a `YYYY年` in the title; else None."""
    if number and len(number) >= 6 and number[:2] in ("19", "20"):
        return int(number[:4])
    match = _TITLE_YEAR_RE.search(unicodedata.normalize("NFKC", title or ""))
    return int(match.group(1)) if match else None


_CN_NUM = "一二三四五六七八九十百零〇两"
_SESSION_RE = re.compile(
    f"第?([{_CN_NUM}0-9]+)届"
    f"(?:[^届次第{_CN_NUM}0-9，。,]{{0,12}}?)"
    f"第?([{_CN_NUM}0-9]+)次"
)


def parse_session(text: str | None) -> str | None:
    """`县政协九届六次会议` -> `九届六次`; `县十七届人大二次会议` -> `十七届二次`."""
    if not text:
        return None
    match = _SESSION_RE.search(strip_ws(unicodedata.normalize("NFKC", text)))
    return f"{match.group(1)}届{match.group(2)}次" if match else None


# --- kinds ------------------------------------------------------------------------------------

_KIND_STRONG = (("政协", "政治协商"), ("人大", "人民代表大会"))
_QUOTED_RE = re.compile(r"《[^》]*》|“[^”]*”|\"[^\"]*\"")


def kind_from_text(text: str | None) -> str | None:
    """政协/提案 -> cppcc_proposal, 人大/建议 -> npc_suggestion; None where the text names both or neither."""
    if not text:
        return None
    text = _QUOTED_RE.sub("", text)
    cppcc, npc = (any(word in text for word in words) for words in _KIND_STRONG)
    if cppcc != npc:
        return "cppcc_proposal" if cppcc else "npc_suggestion"
    proposal, suggestion = "提案" in text, ("建议" in text or "议案" in text)
    if proposal != suggestion:
        return "cppcc_proposal" if proposal else "npc_suggestion"
    return None


# --- dates -----------------------------------------------------------------------------------

_CN_DIGIT = {"〇": 0, "○": 0, "零": 0, "Ｏ": 0, "O": 0, "o": 0, "0": 0, "一": 1, "二": 2, "三": 3,
             "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_CN_DATE_CHARS = "〇○零ＯOo一二三四五六七八九十廿卅元"
DATE_PATTERN = (
    f"(?:((?:19|20|１９|２０)[{_DIGITS}]{{2}})[{_WS}]*[年./\\-－][{_WS}]*([{_DIGITS}]{{1,2}})[{_WS}]*[月./\\-－][{_WS}]*"
    f"([{_DIGITS}]{{1,2}})(?![{_DIGITS}])[{_WS}]*日?"
    f"|([{_CN_DATE_CHARS}]{{4}})[{_WS}]*年[{_WS}]*([{_CN_DATE_CHARS}]{{1,3}})[{_WS}]*月[{_WS}]*"
    f"([{_CN_DATE_CHARS}]{{1,3}})[{_WS}]*日)"
)
_DATE_RE = re.compile(DATE_PATTERN)


def _cn_small_number(text: str) -> int | None:
    """一 .. 三十一, 廿, 卅, 元 (the first month)."""
    if text == "元":
        return 1
    text = text.replace("廿", "二十").replace("卅", "三十")
    if "十" in text:
        tens, _, units = text.partition("十")
        value = (_CN_DIGIT.get(tens, -100) if tens else 1) * 10
        value += _CN_DIGIT.get(units, -100) if units else 0
        return value if value > 0 else None
    if len(text) == 1 and text in _CN_DIGIT:
        return _CN_DIGIT[text]
    return None


def date_of_match(match: re.Match[str], base: int = 0) -> str | None:
    """The date a match of DATE_PATTERN found; `base`: how many groups a pattern that embeds it
    has before DATE_PATTERN's own."""
    year = match.group(base + 1)
    if year:
        # int() reads full-width digits as it reads ASCII ones: no NFKC needed
        year, month, day = int(year), int(match.group(base + 2)), int(match.group(base + 3))
    else:
        digits = [_CN_DIGIT.get(ch) for ch in match.group(base + 4)]
        if None in digits:
            return None
        year = int("".join(str(d) for d in digits))
        month = _cn_small_number(match.group(base + 5)) or 0
        day = _cn_small_number(match.group(base + 6)) or 0
    try:
        return _dt.date(year, month, day).isoformat()
    except ValueError:
        return None


_ISO_DATE_RE = re.compile(r"((?:19|20)[0-9]{2})-([0-9]{2})-([0-9]{2})$")


def calendar_date(year: int, month: int, day: int) -> str | None:
    """ISO `YYYY-MM-DD` when these make a real date, else None."""
    try:
        return _dt.date(year, month, day).isoformat()
    except ValueError:
        return None


def parse_date(text: str | None) -> str | None:
    """The first date in the text, ISO: `2021 年 7 月 20 日`, `二〇二一年七月二十日`, `2021-07-20`."""
    if not text:
        return None
    iso = _ISO_DATE_RE.match(text)
    if iso:
        return date_of_match(iso)
    for match in _DATE_RE.finditer(text):
        iso = date_of_match(match)
        if iso:
            return iso
    return None


_TIME_RE = re.compile(r"([0-9]{1,2})[:：时]([0-9]{2})")


def parse_datetime(text: str | None) -> str | None:
    """`2022-08-18 09:41:07` -> `2022-08-18T09:41`; a date alone gives `2022-08-18`."""
    if not text:
        return None
    folded = unicodedata.normalize("NFKC", text)
    match = _DATE_RE.search(folded)
    if not match:
        return None
    day = date_of_match(match)
    if day is None:
        return None
    clock = _TIME_RE.match(folded[match.end():].strip())
    if clock and int(clock.group(1)) < 24 and int(clock.group(2)) < 60:
        return f"{day}T{int(clock.group(1)):02d}:{clock.group(2)}"
    return day


# --- adoption classes ------------------------------------------------------------------------

_CLASS_LETTER_RE = re.compile(r"(?<![A-Za-z])([A-Da-d])(?![A-Za-z])")
_CLASS_CN = {"甲": "A", "乙": "B", "丙": "C", "丁": "D"}
_CLASS_CN_RE = re.compile(r"([甲乙丙丁])(?:类|级|$)")


def normalize_adoption_label(text: str | None) -> str | None:
    """`Ａ类` -> `A类`, `B 类` -> `B类`; widths folded and spaces removed, otherwise as printed."""
    value = scalar(text)
    return strip_ws(unicodedata.normalize("NFKC", value)) if value else None


def adoption_class(label: str | None) -> str | None:
    """`A类`, `A`, `(A)` -> `A`; `甲类`..`丁类` -> A..D; anything else None."""
    if not label:
        return None
    folded = unicodedata.normalize("NFKC", label)
    match = _CLASS_LETTER_RE.search(folded)
    if match:
        return match.group(1).upper()
    match = _CLASS_CN_RE.search(folded)
    return _CLASS_CN[match.group(1)] if match else None


# --- reply letters ---------------------------------------------------------------------------

DOC_NUMBER_RE = re.compile(
    f"[\u4e00-\u9fff]{{1,16}}[{_WS}]*[{_OPEN}][{_WS}]*(?:19|20|１９|２０)[{_DIGITS}]{{2}}[{_WS}]*[{_CLOSE}]"
    f"[{_WS}]*第?[{_WS}]*[{_DIGITS}]+[{_WS}]*号"
)


_BRACKET_YEAR_RE = re.compile(f"[{_OPEN}][{_WS}]*(?:19|20|１９|２０)")


def parse_doc_number(text: str | None) -> str | None:
    """文号 with all whitespace removed, brackets as printed: `嵊政办函〔2021〕12 号` -> `嵊政办函〔2021〕12号`."""
    if not text or not _BRACKET_YEAR_RE.search(text):
        return None  # no bracketed year, no 文号: skips the costly pattern on ordinary lines
    match = DOC_NUMBER_RE.search(text)
    return strip_ws(match.group(0)) if match else None
