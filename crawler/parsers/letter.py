"""Letter pages: where the reply letter is the record (RECORD.md, "Letter pages").

`parse_letter(lines, heading=...)` reads a reply letter from plain text lines, whatever they were
read from (a page's article body today; the text of a PDF or DOCX attachment later), and gives the
record fields a letter carries: the quoted proposal title, number, session, kind, sponsors from the
salutation, the signing unit as lead or co unit, the class mark, and the reply itself. It also says
when the lines are not a letter about one proposal (a yearly summary, a notice, a list of many
proposals, a news item), so that such a page is refused rather than archived.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from .records import Reply
from .reply import _TITLE_HINT_RE, LetterText, is_letter_title, names_salutation, read_letter
from .text import adoption_class, kind_from_text, normalize_adoption_label, normalize_name, parse_session, split_names

# 第49号提案  49号提案  第 44 号建议  “126号”建议  第20190017号
_NUMBER_BEFORE_KIND_RE = re.compile(
    r"第?[\s\u3000]*[“\"「『]?[\s\u3000]*([0-9０-９]+)[\s\u3000]*号[\s\u3000]*[”\"」』]?[\s\u3000]*(?:提案|建议|议案)")
_ANY_NUMBER_RE = re.compile(r"第[\s\u3000]*([0-9０-９]+)[\s\u3000]*号")
_DOC_NUMBER_RE = re.compile(
    r"[〔\[［【(（][\s\u3000]*(?:19|20)[0-9]{2}[\s\u3000]*[〕\]］】)）][\s\u3000]*第?[0-9０-９]+号")
_QUOTED_TITLE_RE = re.compile(r"《([^《》]+)》")
_QUOTES_RE = re.compile(r"《[^》]*》|“[^”]*”")
# Titles of what is not one letter: summaries, notices, reports, lists, news of meetings.
_NOT_A_LETTER_RE = re.compile(
    r"总结|汇总|一览|统计|通知|公告|通报|公示|报告|综述|名单|清单|目录|推进会|座谈会|交办会|召开|工作会|纪要|简报")
_CO_OPINION_RE = re.compile(r"会办意见|协办意见|会办函|协办函|会办答复|协办答复")
_OPENING_RE = re.compile(r"提出的|收悉|转来|转交|转办|答复如下|办理情况如下")
_PROPOSAL_NUMBERS_RE = re.compile(r"第[\s\u3000]*([0-9０-９]+)[\s\u3000]*号|([0-9０-９]+)号(?:提案|建议|议案)")


@dataclass(frozen=True, slots=True)
class Letter:
    """What a reply letter says about its record; `refusal` is why it is not one, else None."""

    reply: Reply | None
    title: str | None            # the letter's own title (its title line, else the page heading)
    proposal_title: str | None   # the first 《…》 of the opening paragraph, without the brackets
    number: str | None
    session: str | None
    kind: str | None
    lead_sponsors: tuple[str, ...]
    lead_units: tuple[str, ...]
    co_units: tuple[str, ...]
    adoption_label: str | None
    adoption_class: str | None
    refusal: str | None


def parse_letter(lines: list[str], *, heading: str | None = None) -> Letter:
    """A reply letter read from its text lines (one per paragraph, trimmed, no empty lines).

    `heading` is the title the letter is published under, when there is one (a page's heading):
    it stands in for the letter's title where the lines print none.
    """
    text = read_letter(lines)
    reply = text.reply
    title = reply.title if reply is not None and reply.title else None
    if title is None and heading and is_letter_title(heading):
        title = heading
    if reply is not None and reply.title is None and title is not None:
        reply = Reply(reply.text, title, reply.doc_number, reply.addressee, reply.signer, reply.date)
    number = letter_number(title) or (letter_number(heading) if heading and heading != title else None)
    proposal_title = None
    if text.opening:
        quoted = _QUOTED_TITLE_RE.search(text.opening)
        proposal_title = quoted.group(1).strip() if quoted else None
    addressee = reply.addressee if reply is not None else None
    signer = normalize_name(reply.signer) if reply is not None and reply.signer else None
    co_opinion = bool(title and _CO_OPINION_RE.search(title))
    units = (signer,) if signer else ()
    mark = normalize_adoption_label(text.class_mark.strip("（()）【】[]")) if text.class_mark else None
    kind = kind_from_text(title) or kind_from_text(heading)
    if kind is None and addressee and addressee.rstrip("们").endswith(("委员", "代表")):
        kind = "cppcc_proposal" if addressee.rstrip("们").endswith("委员") else "npc_suggestion"
    return Letter(
        reply=reply,
        title=title,
        proposal_title=proposal_title,
        number=number,
        session=parse_session(title),
        kind=kind,
        lead_sponsors=tuple(sponsors_of(addressee)),
        lead_units=() if co_opinion else units,
        co_units=units if co_opinion else (),
        adoption_label=mark,
        adoption_class=adoption_class(mark),
        refusal=_refusal(lines, text, title, heading, number),
    )


def letter_number(title: str | None) -> str | None:
    """The proposal's number as the letter's title prints it, digits only (a 文号 is never it)."""
    if not title or "号" not in title:
        return None
    title = _DOC_NUMBER_RE.sub("", title)
    match = _NUMBER_BEFORE_KIND_RE.search(title) or _ANY_NUMBER_RE.search(title)
    return unicodedata.normalize("NFKC", match.group(1)) if match else None


def sponsors_of(addressee: str | None) -> list[str]:
    """The names a salutation addresses (`贺文国、佟金菊委员` -> both); [] for a unit."""
    if not addressee:
        return []
    text = addressee.rstrip(":：").strip().removeprefix("尊敬的")
    bare = text[:-1] if text.endswith("们") else text
    if not bare.endswith(("委员", "代表", "同志")):
        return []
    names = []
    for name in split_names(bare[:-2]):
        name = name[:-2] if name.endswith(("委员", "代表", "同志")) else name
        if name and name not in ("各位", "全体") and name not in names:
            names.append(name)
    return names


def _refusal(lines: list[str], text: LetterText, title: str | None, heading: str | None,
             number: str | None) -> str | None:
    """Why these lines are not a reply letter about one proposal, or None if they are one."""
    for candidate in (heading, title):
        if candidate:
            found = _NOT_A_LETTER_RE.search(_QUOTES_RE.sub("", candidate))
            if found and number is None:
                return f"its title says {found.group(0)}: a summary, notice or report, not a reply letter"
    numbers = set()
    for line in lines:
        if "号" in line:
            for match in _PROPOSAL_NUMBERS_RE.finditer(_DOC_NUMBER_RE.sub("", line)):
                numbers.add(unicodedata.normalize("NFKC", match.group(1) or match.group(2)))
    if number:
        numbers.add(number)
    if len(numbers) >= 3:
        return f"it lists {len(numbers)} proposals, not a reply letter about one"
    reply = text.reply
    addressee = reply.addressee if reply is not None else None
    titled = title is not None or any(_TITLE_HINT_RE.search(t) for t in (heading or "",) if t)
    if titled and (addressee or number):
        return None
    if addressee and names_salutation(addressee) and text.opening and _OPENING_RE.search(text.opening):
        return None  # no title, but a letter all the same: `王五代表：您提出的…收悉`
    if not titled:
        return "no reply letter: neither its title nor its text reads as one"
    return "no reply letter: no salutation and no proposal number"


_LINK_NAME_FILLER_RE = re.compile(r"附件[0-9０-９一二三四五六七八九十]*|[:：、.．,，;；()（）\[\]【】0-9０-９\s]")


def only_link_names(lines: list[str], names: list[str]) -> bool:
    """Is this text nothing but the names of the links in it (`附件：答复函.pdf`)?

    Then the letter itself is in those files: the text holds no reply of its own. A text that says
    something besides the names (`见附件`) is a reply of its own.
    """
    if not lines or not names:
        return False
    rest = "".join(lines).replace(" ", "")
    for name in sorted(names, key=len, reverse=True):
        rest = rest.replace(name.replace(" ", ""), "")
    return not _LINK_NAME_FILLER_RE.sub("", rest)
