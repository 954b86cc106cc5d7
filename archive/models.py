"""The archive's tables: normalized, one row per real thing, every change kept.

site ─┬─ capture (every fetched or imported page, raw bytes compressed)
      ├─ proposal (one per published record; natural key site + url)
      │    ├─ proposal_sponsor ── person        (one person per normalized name and site)
      │    ├─ proposal_unit ───── organization  (one unit per normalized name and site)
      │    ├─ reply, attachment, extra_field
      │    └─ revision (each change a later capture brought: field, old, new)
      ├─ attachment_file (each attached file fetched: its capture, its text, what became of it)
      ├─ crawl_run (one per site and crawl: when, counts, status)
      └─ crawl_column (crawl state: one per column URL, did its last walk cover the whole list)
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    CheckConstraint,
    Computed,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.sql import ColumnElement
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class UTCDateTime(TypeDecorator):
    """An instant, stored in UTC. SQLite keeps no zone, so UTC is put back on the way out."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime for a UTC column: {value!r}")
        value = value.astimezone(dt.UTC)
        return value if dialect.name == "postgresql" else value.replace(tzinfo=None)

    def process_result_value(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


# --- analyst: the publication day and year, generated columns --------------------------------------

class PublishedDay(ColumnElement):
    """The day a record was published, as ISO text: 发布时间's date, else 生成日期 (year=True: its
    year as an integer). A generated column, so every writer fills it and an index can serve it;
    PostgreSQL needs immutable expressions, hence `proposals_iso_day` (created by the migration)."""

    inherit_cache = True

    def __init__(self, year: bool = False) -> None:
        self.year = year


_DAY = {"sqlite": "coalesce(substr(published_at, 1, 10), generated_on)",
        "postgresql": "coalesce(substr(published_at, 1, 10), proposals_iso_day(generated_on))"}
_YEAR = {"sqlite": "CASE WHEN substr({day}, 1, 4) GLOB '[0-9][0-9][0-9][0-9]' "
                   "THEN CAST(substr({day}, 1, 4) AS INTEGER) END",
         "postgresql": "CASE WHEN {day} ~ '^[0-9]{{4}}' THEN CAST(substr({day}, 1, 4) AS INTEGER) END"}


@compiles(PublishedDay)
def _published_day(element: PublishedDay, compiler, **_kw) -> str:
    dialect = compiler.dialect.name
    day = _DAY.get(dialect, _DAY["sqlite"])
    return _YEAR.get(dialect, _YEAR["sqlite"]).format(day=day) if element.year else day


class Site(Base):
    __tablename__ = "site"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(100), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    base_url: Mapped[str | None] = mapped_column(String(500))
    platform: Mapped[str | None] = mapped_column(String(50))


class CrawlRun(Base):
    __tablename__ = "crawl_run"

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int | None] = mapped_column(ForeignKey("site.id"), index=True)
    started_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    finished_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    status: Mapped[str] = mapped_column(String(20), default="running")  # running, ok, failed, interrupted
    full: Mapped[bool] = mapped_column(default=False)
    listed: Mapped[int] = mapped_column(default=0)
    fetched: Mapped[int] = mapped_column(default=0)
    not_modified: Mapped[int] = mapped_column(default=0)
    new: Mapped[int] = mapped_column(default=0)
    changed: Mapped[int] = mapped_column(default=0)
    unchanged: Mapped[int] = mapped_column(default=0)
    skipped: Mapped[int] = mapped_column(default=0, server_default="0")  # pages that hold no record
    failed: Mapped[int] = mapped_column(default=0)
    blocked: Mapped[int] = mapped_column(default=0)
    # crawl state: the process that runs it, so that the next crawl can tell a killed run from a live one
    host: Mapped[str | None] = mapped_column(String(255))
    pid: Mapped[int | None]

    site: Mapped[Site | None] = relationship()


class CrawlColumn(Base):
    """Crawl state: a column's list walks, and whether the last one left the archive holding the whole list.

    `complete` is set only when a walk reached the end of the list (or archived records known
    to be followed by a complete list) with every entry it listed archived; a walk that is
    killed, interrupted or meets a failure leaves it false, and the next crawl walks the whole
    list again instead of stopping at the first archived records.
    """

    __tablename__ = "crawl_column"
    __table_args__ = (UniqueConstraint("site_id", "url"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("site.id"))
    url: Mapped[str] = mapped_column(String(1000))
    complete: Mapped[bool] = mapped_column(default=False)
    walked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())     # the last walk began
    completed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())  # the last complete walk ended
    total: Mapped[int | None]              # records the list stated at its last walk
    error: Mapped[str | None] = mapped_column(Text)  # why the last walk did not complete


class Capture(Base):
    """One fetched or imported page, byte for byte (zlib), with what the parser made of it."""

    __tablename__ = "capture"
    __table_args__ = (UniqueConstraint("site_id", "url", "sha256"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("site.id"))
    url: Mapped[str] = mapped_column(String(1000))
    fetched_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    last_seen_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    source: Mapped[str] = mapped_column(String(10))  # crawl, import
    http_status: Mapped[int | None]
    etag: Mapped[str | None] = mapped_column(String(300))
    last_modified: Mapped[str | None] = mapped_column(String(100))
    content_type: Mapped[str | None] = mapped_column(String(200))
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    size: Mapped[int]
    body: Mapped[bytes] = mapped_column(LargeBinary)  # zlib-compressed page bytes
    parser_version: Mapped[str | None] = mapped_column(String(20))
    outcome: Mapped[str] = mapped_column(String(20))  # record, blocked, truncated, not-a-record
    error: Mapped[str | None] = mapped_column(Text)
    crawl_run_id: Mapped[int | None] = mapped_column(ForeignKey("crawl_run.id"), index=True)


class Proposal(Base):
    """One published proposal or suggestion: the scalar fields of the record contract."""

    __tablename__ = "proposal"
    __table_args__ = (
        UniqueConstraint("site_id", "url"),
        CheckConstraint("kind IN ('cppcc_proposal', 'npc_suggestion')", name="kind"),
        CheckConstraint("adoption_class IN ('A', 'B', 'C', 'D')", name="adoption_class"),
        Index(None, "adoption_class", "year"),
        Index(None, "year"),
        Index(None, "kind"),
        Index(None, "published_at"),
        Index(None, "last_changed"),
        # analyst: newest-first listings and --published-year served by an index
        Index(None, "published_day", "id"),
        Index(None, "published_year"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("site.id"))
    url: Mapped[str] = mapped_column(String(1000))
    kind: Mapped[str | None] = mapped_column(String(20))
    raw_title: Mapped[str] = mapped_column(Text)
    title: Mapped[str] = mapped_column(Text)
    number: Mapped[str | None] = mapped_column(String(40))
    year: Mapped[int | None] = mapped_column(Integer)
    session: Mapped[str | None] = mapped_column(String(40))
    category: Mapped[str | None] = mapped_column(String(200))
    content: Mapped[str | None] = mapped_column(Text)
    adoption_label: Mapped[str | None] = mapped_column(String(100))
    adoption_class: Mapped[str | None] = mapped_column(String(1))
    implementation_status: Mapped[str | None] = mapped_column(String(100))
    impact_scope: Mapped[str | None] = mapped_column(String(200))
    approved_by: Mapped[str | None] = mapped_column(String(200))
    index_no: Mapped[str | None] = mapped_column(String(100))
    disclosure_category: Mapped[str | None] = mapped_column(String(200))
    publisher: Mapped[str | None] = mapped_column(String(200))
    generated_on: Mapped[dt.date | None] = mapped_column(Date)
    disclosure_mode: Mapped[str | None] = mapped_column(String(100))
    published_at: Mapped[str | None] = mapped_column(String(16))  # ISO, local time as printed: 2022-08-18T09:41
    source: Mapped[str | None] = mapped_column(String(200))
    first_seen: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    last_seen: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    last_changed: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    capture_id: Mapped[int | None] = mapped_column(ForeignKey("capture.id"))
    # analyst: computed by the database from published_at / generated_on (see PublishedDay below)
    published_day: Mapped[str | None] = mapped_column(String(10), Computed(PublishedDay()))
    published_year: Mapped[int | None] = mapped_column(Integer, Computed(PublishedDay(year=True)))

    site: Mapped[Site] = relationship()
    sponsors: Mapped[list[ProposalSponsor]] = relationship(
        back_populates="proposal", cascade="all, delete-orphan", order_by="(ProposalSponsor.role.desc(), "
                                                                        "ProposalSponsor.position)")
    units: Mapped[list[ProposalUnit]] = relationship(
        back_populates="proposal", cascade="all, delete-orphan", order_by="(ProposalUnit.role.desc(), "
                                                                      "ProposalUnit.position)")
    reply: Mapped[Reply | None] = relationship(back_populates="proposal", cascade="all, delete-orphan")
    attachments: Mapped[list[Attachment]] = relationship(
        back_populates="proposal", cascade="all, delete-orphan", order_by="Attachment.position")
    extra_fields: Mapped[list[ExtraField]] = relationship(
        back_populates="proposal", cascade="all, delete-orphan", order_by="ExtraField.position")


class Person(Base):
    """A sponsor: one row per normalized name within a site (the 魏巍 of two records is one person)."""

    __tablename__ = "person"
    __table_args__ = (UniqueConstraint("site_id", "name"), Index(None, "name"))

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("site.id"))
    name: Mapped[str] = mapped_column(String(200))


class Organization(Base):
    """A handling unit: one row per normalized name within a site."""

    __tablename__ = "organization"
    __table_args__ = (UniqueConstraint("site_id", "name"), Index(None, "name"))

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("site.id"))
    name: Mapped[str] = mapped_column(String(300))


class ProposalSponsor(Base):
    __tablename__ = "proposal_sponsor"
    __table_args__ = (CheckConstraint("role IN ('lead', 'co')", name="role"), Index(None, "person_id"))

    proposal_id: Mapped[int] = mapped_column(ForeignKey("proposal.id", ondelete="CASCADE"), primary_key=True)
    role: Mapped[str] = mapped_column(String(4), primary_key=True)
    position: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"))

    proposal: Mapped[Proposal] = relationship(back_populates="sponsors")
    person: Mapped[Person] = relationship(lazy="joined")


class ProposalUnit(Base):
    __tablename__ = "proposal_unit"
    __table_args__ = (CheckConstraint("role IN ('lead', 'co')", name="role"), Index(None, "organization_id"))

    proposal_id: Mapped[int] = mapped_column(ForeignKey("proposal.id", ondelete="CASCADE"), primary_key=True)
    role: Mapped[str] = mapped_column(String(4), primary_key=True)
    position: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organization.id"))

    proposal: Mapped[Proposal] = relationship(back_populates="units")
    organization: Mapped[Organization] = relationship(lazy="joined")


class Reply(Base):
    """The government's reply letter (答复函)."""

    __tablename__ = "reply"
    __table_args__ = (CheckConstraint("source IN ('page', 'attachment')", name="source"),)

    proposal_id: Mapped[int] = mapped_column(ForeignKey("proposal.id", ondelete="CASCADE"), primary_key=True)
    text: Mapped[str] = mapped_column(Text)
    title: Mapped[str | None] = mapped_column(Text)
    doc_number: Mapped[str | None] = mapped_column(String(100))
    addressee: Mapped[str | None] = mapped_column(String(200))
    signer: Mapped[str | None] = mapped_column(String(200))
    date: Mapped[dt.date | None] = mapped_column(Date)
    # where the letter was read: on the page, or in an attached file (whose URL is kept)
    source: Mapped[str] = mapped_column(String(10), default="page", server_default="page")
    attachment_url: Mapped[str | None] = mapped_column(String(1000))

    proposal: Mapped[Proposal] = relationship(back_populates="reply")


class Attachment(Base):
    __tablename__ = "attachment"

    proposal_id: Mapped[int] = mapped_column(ForeignKey("proposal.id", ondelete="CASCADE"), primary_key=True)
    position: Mapped[int] = mapped_column(primary_key=True)
    url: Mapped[str] = mapped_column(String(1000))
    name: Mapped[str] = mapped_column(Text)

    proposal: Mapped[Proposal] = relationship(back_populates="attachments")


class AttachmentFile(Base):
    """An attached file of a site's records as fetched: its bytes are a capture (outcome `attachment`;
    files of the same bytes share one), its text as read, and what became of it.

    status: read (text read), scanned (a PDF without a text layer), not-read (a format no reader
    here reads, or no converter installed), unreadable (corrupt), too-large, failed (HTTP error,
    network), blocked (a challenge page instead of the file)."""

    __tablename__ = "attachment_file"
    __table_args__ = (UniqueConstraint("site_id", "url"), Index(None, "status"))

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("site.id"))
    url: Mapped[str] = mapped_column(String(1000))
    capture_id: Mapped[int | None] = mapped_column(ForeignKey("capture.id"), index=True)
    status: Mapped[str] = mapped_column(String(20))
    format: Mapped[str | None] = mapped_column(String(10))   # pdf, docx, doc, wps, ofd …
    detail: Mapped[str | None] = mapped_column(Text)         # why not read, why it failed
    text: Mapped[str | None] = mapped_column(Text)           # the text read, one line per paragraph
    etag: Mapped[str | None] = mapped_column(String(300))
    last_modified: Mapped[str | None] = mapped_column(String(100))
    fetched_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())  # the bytes last came in full
    checked_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())         # last asked (a 304 included)
    reader_version: Mapped[str | None] = mapped_column(String(20))


class ExtraField(Base):
    """A label/value row of the page that maps to no field of the record (代表团, 满意度 …)."""

    __tablename__ = "extra_field"

    proposal_id: Mapped[int] = mapped_column(ForeignKey("proposal.id", ondelete="CASCADE"), primary_key=True)
    label: Mapped[str] = mapped_column(String(100), primary_key=True)
    position: Mapped[int]
    value: Mapped[str | None] = mapped_column(Text)

    proposal: Mapped[Proposal] = relationship(back_populates="extra_fields")


class Revision(Base):
    """One field of a record changed by a later capture: old and new values as JSON."""

    __tablename__ = "revision"
    __table_args__ = (Index(None, "proposal_id", "changed_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    proposal_id: Mapped[int] = mapped_column(ForeignKey("proposal.id", ondelete="CASCADE"))
    capture_id: Mapped[int | None] = mapped_column(ForeignKey("capture.id"))
    changed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    field: Mapped[str] = mapped_column(String(120))
    old_value: Mapped[str | None] = mapped_column(Text)
    new_value: Mapped[str | None] = mapped_column(Text)
