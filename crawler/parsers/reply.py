"""The government's reply letter (答复函): title, 文号, addressee, signer, date (RECORD.md, "Letter rules").

A letter reads top to bottom as: [class mark, 签发人, 文号] title, [文号], salutation, body, signer, date,
with contact (联系人/联系电话) and 抄送 lines before the signer or after the date. Each part is found by
what it looks like, not by its position, so that letters laid out otherwise still parse. Everything
here works on plain text lines (one per paragraph), whatever they were read from: a page's reply
cell, a letter page's body, or the text of an attachment.
"""

from __future__ import annotations

import re

from .records import Reply
from .text import _DIGITS, _WS, DATE_PATTERN, calendar_date, clean_inline, date_of_match, parse_date, parse_doc_number

# A letter title names what it answers: …提案答复的函, …建议的答复, …的复函, …的会办意见, …办理情况的函
_TITLE_HINT_RE = re.compile(r"答复|复函|回复|的函$|办理情况|办理意见|会办意见|协办意见|会办函")
_TITLE_START_RE = re.compile(r"关于")
# the second line of a title printed over two: `第37号提案的答复函`, `五次会议49号提案的答复函`
_TITLE_CONTINUES_RE = re.compile(
    r"^(?:第?[\s\u3000]*[0-9０-９]+[\s\u3000]*号|[“\"]|[一二三四五六七八九十]+次会议|次会议|会议|委员会|提案|建议|议案)")
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
_PERSON_SUFFIXES = ("委员", "代表", "同志")

# A class mark printed near the head: `类别：B`, `答复类别：A类`, `（A类）`, `B类`
_CLASS_LABEL_RE = re.compile(r"^(?:答复|办理|采纳|办复)?类别[:：][\s\u3000]*([A-DＡ-Ｄa-d甲乙丙丁](?:[\s\u3000]*类)?)$")
_CLASS_ALONE_RE = re.compile(r"^[（(【\[〔]?[\s\u3000]*([A-DＡ-Ｄ甲乙丙丁][\s\u3000]*类)[\s\u3000]*[）)】\]〕]?$")
# Page chrome that text extraction brings along with a letter; never a part of it.
CHROME_LINE_RE = re.compile(
    r"^[【\[]?(?:分享到|打印本页|打印此页|打印|关闭窗口|关闭本页|关闭|字号|字体|浏览次数|阅读次数|访问次数|点击数|点击量|阅读[:：]|"
    r"扫一扫|收藏本页|加入收藏|返回顶部|上一篇|下一篇|发布时间[:：]|发布日期[:：]|信息来源[:：]|来源[:：])")


def parse_reply(lines: list[str]) -> Reply | None:
    """A reply letter from its text lines (one per paragraph); None where there are none."""
    return read_letter(lines).reply if lines else None


class LetterText:
    """The parts of a letter found in its lines (`reply` holds the RECORD.md ones)."""

    __slots__ = ("class_mark", "opening", "reply", "salutation_at")

    def __init__(self, reply: Reply | None, salutation_at: int | None, opening: str | None,
                 class_mark: str | None) -> None:
        self.reply = reply
        self.salutation_at = salutation_at  # index of the salutation line
        self.opening = opening              # the first paragraph after the salutation
        self.class_mark = class_mark        # `B`, `A类` … as printed (brackets dropped)


def read_letter(lines: list[str]) -> LetterText:
    """Every part of a letter, from its text lines (one per paragraph, already trimmed)."""
    if not lines:
        return LetterText(None, None, None, None)
    salutation_at, addressee, opening = _extract_addressee(lines)
    head = lines[:salutation_at] if salutation_at is not None else _head_without_salutation(lines)
    date_at, date, signer_inline = _extract_date(lines)
    # the 文号 heads the letter; some print it at the foot instead, after the date
    doc_number = _extract_doc_number(head if salutation_at is not None else lines[:5]) or (
        _extract_doc_number(lines[date_at + 1:]) if date_at is not None else None)
    reply = Reply(
        text="\n".join(lines),
        title=_extract_title(head),
        doc_number=doc_number,
        addressee=addressee,
        signer=signer_inline or _extract_signer(lines, date_at),
        date=date,
    )
    return LetterText(reply, salutation_at, opening, _extract_class_mark(head))


def is_letter_title(line: str) -> bool:
    """Does this line read like the title of a reply letter?"""
    return (len(line) <= 160 and not line.endswith((":", "：")) and not line.endswith("。")
            and bool(_TITLE_HINT_RE.search(line)) and not _BODY_START_RE.match(line))


def _head_without_salutation(lines: list[str]) -> list[str]:
    """A letter without a salutation: its head is the lines before the body starts (at most a few)."""
    head = []
    for line in lines[:6]:
        if line.endswith("。") or _BODY_START_RE.match(line):
            break
        head.append(line)
    return head or lines[:1]


def _is_head_mark(line: str) -> bool:
    """A class mark, 签发人, 文号 or chrome line at a letter's head: never (part of) its title."""
    return (class_mark_of(line) is not None or line.startswith(("签发人", "签 发 人"))
            or bool(CHROME_LINE_RE.match(line)) or _is_doc_number_line(line))


def _is_doc_number_line(line: str) -> bool:
    number = parse_doc_number(line)
    if not number:
        return False
    rest = clean_inline(line).replace(" ", "").replace(number, "")
    return len(rest.strip("（）()[]【】文号:：")) <= 2


def _title_part(line: str) -> bool:
    """Could this line be one line of a title printed over two?"""
    return (len(line) <= 80 and not _is_head_mark(line) and not _SENTENCE_PUNCT_RE.search(line)
            and not parse_date(line))


def _extract_title(head: list[str]) -> str | None:
    for index, line in enumerate(head):
        if not is_letter_title(line) or _is_head_mark(line):
            continue
        previous = head[index - 1] if index else ""
        # A long title printed over two paragraphs: `…关于对县政协九届六次会议` + `第16号提案答复的函`
        if previous and _title_part(previous) and not _TITLE_HINT_RE.search(previous) \
                and not _TITLE_START_RE.search(line) \
                and (_TITLE_START_RE.search(previous) or previous.startswith("对")
                     or _TITLE_CONTINUES_RE.match(line)):
            return previous + line
        following = head[index + 1] if index + 1 < len(head) else ""
        # `…第16号提案答复的` + `函`
        if following and len(following) <= 6 and line.endswith(("的", "答复")) and _title_part(following) \
                and is_letter_title(line + following):
            return line + following
        return line
    return None


def _extract_doc_number(head: list[str]) -> str | None:
    for line in head:
        number = parse_doc_number(line)
        if number:
            return number
    return None


def class_mark_of(line: str) -> str | None:
    """The class a line marks when it is a class mark of its own (`类别：B` -> `B`, `（A类）` -> `A类`)."""
    if len(line) > 12 or "类" not in line:
        return None
    match = _CLASS_LABEL_RE.match(line) or _CLASS_ALONE_RE.match(line)
    return match.group(1) if match else None


def _extract_class_mark(head: list[str]) -> str | None:
    for line in head:
        mark = class_mark_of(line)
        if mark:
            return mark
    return None


_NAMES_SPLIT_RE = re.compile(r"[、，,\s]+")
_NAME_RE = re.compile(r"[\u4e00-\u9fff·•]{2,6}")


def names_salutation(line: str) -> str | None:
    """`贺文国、佟金菊委员`, `马国庆等代表：`: a salutation of people by name, without its colon."""
    if len(line) > 50 or len(line) < 4:
        return None
    text = line.rstrip(":：").rstrip()
    bare = text[:-1] if text.endswith("们") else text
    if not bare.endswith(_PERSON_SUFFIXES) or len(text) > 48:
        return None
    core = bare[:-2].removeprefix("尊敬的")
    deng = core.rfind("等")
    if deng > 0 and all(ch in "0123456789一二三四五六七八九十名位人" for ch in core[deng + 1:]):
        core = core[:deng]
    for part in _NAMES_SPLIT_RE.split(core):
        name = part[:-2] if part.endswith(_PERSON_SUFFIXES) else part
        if not _NAME_RE.fullmatch(name) or name in ("各位", "全体", "广大") or "政协" in name or "人大" in name:
            return None
    return text


def _extract_addressee(lines: list[str]) -> tuple[int | None, str | None, str | None]:
    """The salutation before the body starts, without its colon, and the paragraph that opens the body.

    A line of names ending in 委员/代表/同志 (colon or not) wins over any other short colon line, so
    that page chrome such as `分享到：` is never the addressee.
    """
    fallback: tuple[int, str, str | None] | None = None
    for index, line in enumerate(lines[:_HEAD_LINES]):
        if line.endswith("。") or _BODY_START_RE.match(line):
            break
        names = names_salutation(line)
        if names:
            return index, names, _opening(lines, index + 1)
        if fallback is None and line.endswith((":", "：")) and len(line) <= 41 and "如下" not in line \
                and not _NOT_SIGNER_RE.match(line) and not CHROME_LINE_RE.match(line) and not is_letter_title(line):
            fallback = (index, line.rstrip(":：").strip(), _opening(lines, index + 1))
            continue
        match = _SALUTATION_RE.match(line) if (":" in line[:32] or "：" in line[:32]) else None
        if match:
            rest = line[match.end():].strip()
            return index, match.group(1).strip(), rest if rest and not _GREETING_RE.match(rest) \
                else _opening(lines, index + 1)
    return fallback if fallback is not None else (None, None, None)


_GREETING_RE = re.compile(r"^(?:您|你|你们)好[!！。，,]?$")


def _opening(lines: list[str], start: int) -> str | None:
    """The first paragraph of the body (a greeting such as `您好！` is not it)."""
    for line in lines[start:start + 2]:
        if not _GREETING_RE.match(line):
            return line
    return None


_BARE_DATE_RE = re.compile(r"^[\s\u3000]*((?:19|20)[0-9]{2})([0-9]{2})([0-9]{2})[\s\u3000]*$")


def _bare_date(line: str) -> str | None:
    """`20211022` alone on its line, when it is a real calendar date."""
    match = _BARE_DATE_RE.match(line) if len(line) <= 12 else None
    return calendar_date(int(match.group(1)), int(match.group(2)), int(match.group(3))) if match else None


def _extract_date(lines: list[str]) -> tuple[int | None, str | None, str | None]:
    """The last line that is a date (`2021 年 7 月 20 日`, `二〇二〇年十一月五日`, `20211022`), bottom up.

    A signer printed on the same line as the date (`海岛县教育局 2023年5月30日`) comes back too.
    """
    for index in range(len(lines) - 1, -1, -1):
        line = lines[index]
        if len(line) <= 12 and line[:1].isdigit():
            bare = _bare_date(line)
            if bare:
                return index, bare, None
        # a date line is a short prefix (a signer) and a date: `…年…`, `2021-07-20`, `2021.7.20`
        if len(line) > 80 or not ("年" in line or "-" in line or "." in line or "/" in line or "－" in line):
            continue
        match = _DATE_LINE_RE.match(line)
        if not match:
            continue
        prefix = clean_inline(match.group("pre"))
        if prefix and (len(prefix) > 40 or _SENTENCE_PUNCT_RE.search(prefix)):
            continue
        date = date_of_match(match, 2)  # after the groups `pre` and `date`
        if date:
            return index, date, prefix or None
    return None, None, None


_CLOSING_RE = re.compile(f"[。！!？?；;，,]$|^(?:特此|专此|此复|感谢)|[{_DIGITS}]{{7,}}")


def _extract_signer(lines: list[str], date_at: int | None) -> str | None:
    """The line just above the date, passing over contact, seal and 抄送 lines."""
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
