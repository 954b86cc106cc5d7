"""The reply letter of a record whose page gives none: read from the attached file that is the letter.

Where the page's reply is empty (`reply: null`), a bare pointer (`见附件`, `详见附件`, `答复函见附件`) or
was read from an attachment before, `with_attachment_reply(record, texts)` reads the texts of the
record's attachments (its own `attachments`, in page order, those named like a reply letter first:
答复, 复函, 函, 意见) by the same letter rules as pages (`letter.parse_letter`), and the first that
reads as a reply letter about one proposal becomes the reply, with `source: "attachment"` and the
file's URL. A record whose page prints a letter of its own keeps it (`source: "page"`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import replace

from .letter import parse_letter
from .records import ProposalRecord, Reply

# a reply cell that only points at the attachments
_POINTER_RE = re.compile(r"^[（(【\[]?(?:答复(?:函|意见|内容)?|办理(?:答复|情况)|复函|具体内容|详细内容|全文)?"
                         r"[:：,，\s]*"
                         r"(?:详|请|具体|详细)?(?:见|参见|阅|查看|下载)(?:下方|以下|下列)?附件[0-9０-９一二三四五六七八九十]*"
                         r"[。.!！]?[）)】\]]?$")
# what stands around attachment names in a cell that only lists them: 附件1：, numbering, punctuation
_FILLER_RE = re.compile(r"附件[0-9０-９一二三四五六七八九十]*[:：]|^[0-9０-９]+[.．、]|[、,，;；]")
_LETTER_NAME_RE = re.compile(r"答复|复函|函|意见|回复")
_EXTENSION_RE = re.compile(r"[（(]可编辑版[）)]|\.[A-Za-z0-9]{2,5}$")


def is_pointer(text: str | None, names: Sequence[str] = ()) -> bool:
    """Does this reply text only point at the attachments (`见附件`, `见附件：答复函.pdf`), or only
    name them (`names`: the attachments' link texts)?"""
    if not text:
        return True
    compact = re.sub(r"[\s\u3000]+", "", text)
    for name in sorted(names, key=len, reverse=True):
        if name:
            compact = compact.replace(re.sub(r"[\s\u3000]+", "", name), "")
    compact = _FILLER_RE.sub("", compact)
    return not compact or (len(compact) <= 30 and bool(_POINTER_RE.match(compact)))


def wants_attachment(reply: Reply | None, names: Sequence[str] = ()) -> bool:
    """Is the reply to come from an attachment: none on the page, a pointer, or read from one before?"""
    return reply is None or reply.source == "attachment" or is_pointer(reply.text, names)


def _heading(name: str) -> str:
    return _EXTENSION_RE.sub("", _EXTENSION_RE.sub("", name.strip())).strip()


def with_attachment_reply(record: ProposalRecord, texts: Mapping[str, Sequence[str]]) -> ProposalRecord:
    """The record with its reply read from its attached letter, where its page gives no letter.

    `texts`: the text lines of the record's attachments that could be read, by URL."""
    if not record.attachments or not wants_attachment(record.reply, [a.name for a in record.attachments]):
        return record
    page_reply = None if record.reply is None or record.reply.source == "attachment" else record.reply
    ordered = sorted(enumerate(record.attachments),
                     key=lambda item: (not _LETTER_NAME_RE.search(item[1].name or ""), item[0]))
    for _, attachment in ordered:
        lines = texts.get(attachment.url)
        if not lines:
            continue
        letter = parse_letter(list(lines), heading=_heading(attachment.name or "") or None)
        if letter.reply is None or letter.refusal is not None:
            continue
        found = letter.reply
        reply = Reply(found.text, found.title, found.doc_number, found.addressee, found.signer, found.date,
                      source="attachment", attachment_url=attachment.url)
        # what the page leaves empty and the letter says (a letter page whose letter is the file)
        return replace(record, reply=reply, session=record.session or letter.session,
                       kind=record.kind or letter.kind, number=record.number or letter.number,
                       lead_sponsors=record.lead_sponsors or letter.lead_sponsors,
                       lead_units=record.lead_units or (() if record.co_units else letter.lead_units),
                       co_units=record.co_units or (() if record.lead_units else letter.co_units),
                       adoption_label=record.adoption_label or letter.adoption_label,
                       adoption_class=record.adoption_class or letter.adoption_class)
    return record if record.reply is page_reply else replace(record, reply=page_reply)
