"""The government's reply letter (答复函): title, 文号, addressee, signer, date.

A letter reads top to bottom as: [red header] title, 文号, salutation, body, signer, date, with
contact (联系人/联系电话) and 抄送 lines before the signer or after the date. Each part is found
by what it looks like, not by its position, so that letters laid out otherwise still parse.
"""

from __future__ import annotations

import re

from .records import Reply
from .text import _DIGITS, _WS, DATE_PATTERN, clean_inline, parse_date, parse_doc_number

# A letter title names what it answers: …提案答复的函, …建议的答复, …的复函, …办理情况的函
_TITLE_HINT_RE = re.compile(r"答复|复函|回复|的函$|办理情况|办理意见")
_TITLE_START_RE = re.compile(r"关于")
_BODY_START_RE = re.compile(r"^(?:您|你|贵|现|根据|经|按照|为|近年|首先|感谢)")
_SALUTATION_RE = re.compile(
    r"^(.{1,30}?(?:委员|代表|同志|先生|女士|老师|主任|主席|会长|组长|团长|们))[:：]")
# Lines that may stand between the signer and the date, or after the date, and are never the signer.
_NOT_SIGNER_RE = re.compile(
    r"^[（(]?(?:联系人|联\s*系\s*人|联系电话|联系方式|联系单位|联系地址|电话|手机|传真|邮编|邮箱|地址|抄送|抄报|"
    r"附件|签发人|承办人|经办人|办理人|此件|此页|（此件|公开属性|公开方式|盖章|公章|印章|签章)")
_DATE_LINE_RE = re.compile(
    f"^(?P<pre>.*?)[{_WS}]*(?P<date>{DATE_PATTERN})[{_WS}]*(?P<post>[（(][^）)]*[）)])?[{_WS}]*$")
_SENTENCE_PUNCT_RE = re.compile(r"[。，,；;：:！!？?]")
_HEAD_LINES = 8


def parse_reply(lines: list[str]) -> Reply | None:
    """A reply letter from its text lines (one per paragraph); None where there are none."""
    if not lines:
        return None
    salutation_at, addressee = _extract_addressee(lines)
    head = lines[:salutation_at] if salutation_at is not None else lines[:3]
    date_at, date, signer_inline = _extract_date(lines)
    # the 文号 heads the letter; some print it at the foot instead, after the date
    doc_number = _extract_doc_number(lines[:salutation_at] if salutation_at is not None else lines[:5]) or (
        _extract_doc_number(lines[date_at + 1:]) if date_at is not None else None)
    return Reply(
        text="\n".join(lines),
        title=_extract_title(head),
        doc_number=doc_number,
        addressee=addressee,
        signer=signer_inline or _extract_signer(lines, date_at),
        date=date,
    )


def is_letter_title(line: str) -> bool:
    """Does this line read like the title of a reply letter?"""
    return (len(line) <= 160 and not line.endswith((":", "：")) and not line.endswith("。")
            and bool(_TITLE_HINT_RE.search(line)) and not _BODY_START_RE.match(line))


def _extract_title(head: list[str]) -> str | None:
    for index, line in enumerate(head):
        if parse_doc_number(line) == clean_inline(line).replace(" ", ""):
            continue
        if is_letter_title(line):
            previous = head[index - 1] if index else ""
            # A long title printed over two paragraphs: `…关于对县政协九届六次会议` + `第16号提案答复的函`
            if previous and _TITLE_START_RE.search(previous) and not _TITLE_START_RE.search(line) \
                    and not _TITLE_HINT_RE.search(previous) and not parse_doc_number(previous):
                return previous + line
            return line
    return None


def _extract_doc_number(head: list[str]) -> str | None:
    for line in head:
        number = parse_doc_number(line)
        if number:
            return number
    return None


def _extract_addressee(lines: list[str]) -> tuple[int | None, str | None]:
    """The salutation (`魏巍委员:`) before the body starts, without its colon."""
    for index, line in enumerate(lines[:_HEAD_LINES]):
        if line.endswith("。") or _BODY_START_RE.match(line):
            break
        if line.endswith((":", "：")) and len(line) <= 41 and "如下" not in line \
                and not _NOT_SIGNER_RE.match(line) and not is_letter_title(line):
            return index, line.rstrip(":：").strip()
        match = _SALUTATION_RE.match(line) if (":" in line[:32] or "：" in line[:32]) else None
        if match:
            return index, match.group(1).strip()
    return None, None


def _extract_date(lines: list[str]) -> tuple[int | None, str | None, str | None]:
    """The last line that is a date (`2021 年 7 月 20 日`, `二〇二〇年十一月五日`), bottom up.

    A signer printed on the same line as the date (`海岛县教育局 2023年5月30日`) comes back too.
    """
    for index in range(len(lines) - 1, -1, -1):
        match = _DATE_LINE_RE.match(lines[index])
        if not match:
            continue
        prefix = clean_inline(match.group("pre"))
        if prefix and (len(prefix) > 40 or _SENTENCE_PUNCT_RE.search(prefix)):
            continue
        date = parse_date(match.group("date"))
        if date:
            return index, date, prefix or None
    return None, None, None


_CLOSING_RE = re.compile(f"[。！!？?；;，,]$|^(?:特此|专此|此复|感谢)|[{_DIGITS}]{{7,}}")


def _extract_signer(lines: list[str], date_at: int | None) -> str | None:
    """The line just above the date, passing over contact and 抄送 lines."""
    if date_at is None:
        return None
    for index in range(date_at - 1, -1, -1):
        line = lines[index]
        if _NOT_SIGNER_RE.match(line):
            continue
        if len(line) > 50 or _CLOSING_RE.search(line):
            return None
        return line
    return None
