"""The parsed record (../shared/RECORD.md) as frozen dataclasses."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from types import MappingProxyType
from typing import Any

KINDS = ("cppcc_proposal", "npc_suggestion")


class NotAProposalPage(ValueError):
    """Raised by `parse_detail` for a page that holds no proposal record.

    `reason` is one of:
    - ``"blocked"``: an anti-bot challenge or block page (访问过于频繁, 安全验证, Ruishu `$_ts`, JSL);
    - ``"truncated"``: the document stops before its end (no ``</body>`` / ``</html>``);
    - ``"too-complex"``: the document nests elements deeper than `limits.MAX_DEPTH` or holds more
      than `limits.MAX_TAGS` tags (refused before parsing, so that no page holds the parser long);
    - ``"no-title"``: the page prints no title;
    - ``"no-fields"``: the page has no label/value rows of a proposal and no article text to read;
    - ``"not-a-record"``: the page has no label/value rows and its article is not a reply letter about
      one proposal (a yearly 办理工作总结, a 办理情况 summary or list of many proposals, a notice, a
      news item): a page of a proposal column that holds no record, which the crawler counts as
      skipped (neither failed nor archived);
    - ``"empty"``: the body holds no bytes at all.
    """

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{detail} ({reason})")
        self.reason = reason
        self.detail = detail


@dataclass(frozen=True, slots=True)
class Reply:
    text: str
    title: str | None = None
    doc_number: str | None = None
    addressee: str | None = None
    signer: str | None = None
    date: str | None = None
    source: str = "page"                 # "page", or "attachment": read from the attached letter
    attachment_url: str | None = None    # the attachment it was read from (source "attachment")

    def to_dict(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in REPLY_KEYS}


# the reply's keys, in RECORD.md's order: the one list the archive, exports and views derive theirs from
REPLY_KEYS = tuple(f.name for f in fields(Reply))
REPLY_SOURCES = ("page", "attachment")


@dataclass(frozen=True, slots=True)
class Disclosure:
    index_no: str | None = None
    category: str | None = None
    publisher: str | None = None
    generated_on: str | None = None
    disclosure_mode: str | None = None
    published_at: str | None = None
    source: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"index_no": self.index_no, "category": self.category, "publisher": self.publisher,
                "generated_on": self.generated_on, "disclosure_mode": self.disclosure_mode,
                "published_at": self.published_at, "source": self.source}


@dataclass(frozen=True, slots=True)
class Attachment:
    url: str
    name: str

    def to_dict(self) -> dict[str, Any]:
        return {"url": self.url, "name": self.name}


@dataclass(frozen=True, slots=True)
class ProposalRecord:
    url: str
    kind: str | None
    raw_title: str
    title: str
    number: str | None
    year: int | None
    session: str | None
    category: str | None
    lead_sponsors: tuple[str, ...]
    co_sponsors: tuple[str, ...]
    content: str | None
    lead_units: tuple[str, ...]
    co_units: tuple[str, ...]
    reply: Reply | None
    adoption_label: str | None
    adoption_class: str | None
    implementation_status: str | None
    impact_scope: str | None
    approved_by: str | None
    disclosure: Disclosure = field(default_factory=Disclosure)
    attachments: tuple[Attachment, ...] = ()
    extra_fields: Mapping[str, str | None] = field(default_factory=lambda: MappingProxyType({}))

    def to_dict(self) -> dict[str, Any]:
        """Exactly the keys of RECORD.md, in its order, as JSON-ready values."""
        return {
            "url": self.url,
            "kind": self.kind,
            "raw_title": self.raw_title,
            "title": self.title,
            "number": self.number,
            "year": self.year,
            "session": self.session,
            "category": self.category,
            "lead_sponsors": list(self.lead_sponsors),
            "co_sponsors": list(self.co_sponsors),
            "content": self.content,
            "lead_units": list(self.lead_units),
            "co_units": list(self.co_units),
            "reply": self.reply.to_dict() if self.reply else None,
            "adoption_label": self.adoption_label,
            "adoption_class": self.adoption_class,
            "implementation_status": self.implementation_status,
            "impact_scope": self.impact_scope,
            "approved_by": self.approved_by,
            "disclosure": self.disclosure.to_dict(),
            "attachments": [a.to_dict() for a in self.attachments],
            "extra_fields": dict(self.extra_fields),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ProposalRecord:
        """The inverse of `to_dict` (for records read back from JSON)."""
        reply = data.get("reply")
        return cls(
            url=data["url"], kind=data.get("kind"), raw_title=data["raw_title"], title=data["title"],
            number=data.get("number"), year=data.get("year"), session=data.get("session"),
            category=data.get("category"),
            lead_sponsors=tuple(data.get("lead_sponsors") or ()), co_sponsors=tuple(data.get("co_sponsors") or ()),
            content=data.get("content"),
            lead_units=tuple(data.get("lead_units") or ()), co_units=tuple(data.get("co_units") or ()),
            reply=Reply(**reply) if reply else None,
            adoption_label=data.get("adoption_label"), adoption_class=data.get("adoption_class"),
            implementation_status=data.get("implementation_status"), impact_scope=data.get("impact_scope"),
            approved_by=data.get("approved_by"),
            disclosure=Disclosure(**(data.get("disclosure") or {})),
            attachments=tuple(Attachment(**a) for a in data.get("attachments") or ()),
            extra_fields=MappingProxyType(dict(data.get("extra_fields") or {})),
        )
