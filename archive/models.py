"""The archive's ORM classes, mapped onto the Core tables of `tables` (the schema is written there).

Ingest, crawls and imports work with these; the read path uses the tables alone.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import DeclarativeBase, Mapped, relationship

from . import tables
from .tables import NAMING_CONVENTION, PublishedDay, UTCDateTime

__all__ = ["NAMING_CONVENTION", "PublishedDay", "UTCDateTime"]


class Base(DeclarativeBase):
    metadata = tables.metadata


class Site(Base):
    __table__ = tables.site

    id: Mapped[int]
    slug: Mapped[str]
    name: Mapped[str]
    base_url: Mapped[str | None]
    platform: Mapped[str | None]


class CrawlRun(Base):
    __table__ = tables.crawl_run

    id: Mapped[int]
    site_id: Mapped[int | None]
    started_at: Mapped[dt.datetime]
    finished_at: Mapped[dt.datetime | None]
    status: Mapped[str]
    full: Mapped[bool]
    listed: Mapped[int]
    fetched: Mapped[int]
    not_modified: Mapped[int]
    new: Mapped[int]
    changed: Mapped[int]
    unchanged: Mapped[int]
    skipped: Mapped[int]
    failed: Mapped[int]
    blocked: Mapped[int]
    # crawl state: the process that runs it, so that the next crawl can tell a killed run from a live one
    host: Mapped[str | None]
    pid: Mapped[int | None]

    site: Mapped[Site | None] = relationship()


class CrawlColumn(Base):
    """Crawl state: a column's list walks, and whether the last one left the archive holding the whole list.

    `complete` is set only when a walk reached the end of the list (or archived records known
    to be followed by a complete list) with every entry it listed archived; a walk that is
    killed, interrupted or meets a failure leaves it false, and the next crawl walks the whole
    list again instead of stopping at the first archived records.
    """

    __table__ = tables.crawl_column

    id: Mapped[int]
    site_id: Mapped[int]
    url: Mapped[str]
    complete: Mapped[bool]
    walked_at: Mapped[dt.datetime | None]
    completed_at: Mapped[dt.datetime | None]
    total: Mapped[int | None]              # records the list stated at its last walk
    error: Mapped[str | None]


class Capture(Base):
    """One fetched or imported page, byte for byte (zlib), with what the parser made of it."""

    __table__ = tables.capture

    id: Mapped[int]
    site_id: Mapped[int]
    url: Mapped[str]
    fetched_at: Mapped[dt.datetime]
    last_seen_at: Mapped[dt.datetime]
    source: Mapped[str]
    http_status: Mapped[int | None]
    etag: Mapped[str | None]
    last_modified: Mapped[str | None]
    content_type: Mapped[str | None]
    sha256: Mapped[str]
    size: Mapped[int]
    body: Mapped[bytes]
    parser_version: Mapped[str | None]
    outcome: Mapped[str]
    error: Mapped[str | None]
    crawl_run_id: Mapped[int | None]


class Proposal(Base):
    """One published proposal or suggestion: the scalar fields of the record contract."""

    __table__ = tables.proposal

    id: Mapped[int]
    site_id: Mapped[int]
    url: Mapped[str]
    kind: Mapped[str | None]
    raw_title: Mapped[str]
    title: Mapped[str]
    number: Mapped[str | None]
    year: Mapped[int | None]
    session: Mapped[str | None]
    category: Mapped[str | None]
    content: Mapped[str | None]
    adoption_label: Mapped[str | None]
    adoption_class: Mapped[str | None]
    implementation_status: Mapped[str | None]
    impact_scope: Mapped[str | None]
    approved_by: Mapped[str | None]
    index_no: Mapped[str | None]
    disclosure_category: Mapped[str | None]
    publisher: Mapped[str | None]
    generated_on: Mapped[dt.date | None]
    disclosure_mode: Mapped[str | None]
    published_at: Mapped[str | None]
    source: Mapped[str | None]
    first_seen: Mapped[dt.datetime]
    last_seen: Mapped[dt.datetime]
    last_changed: Mapped[dt.datetime]
    capture_id: Mapped[int | None]
    # analyst: computed by the database from published_at / generated_on (see PublishedDay below)
    published_day: Mapped[str | None]
    published_year: Mapped[int | None]

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

    __table__ = tables.person

    id: Mapped[int]
    site_id: Mapped[int]
    name: Mapped[str]


class Organization(Base):
    """A handling unit: one row per normalized name within a site."""

    __table__ = tables.organization

    id: Mapped[int]
    site_id: Mapped[int]
    name: Mapped[str]


class ProposalSponsor(Base):
    __table__ = tables.proposal_sponsor

    proposal_id: Mapped[int]
    role: Mapped[str]
    position: Mapped[int]
    person_id: Mapped[int]

    proposal: Mapped[Proposal] = relationship(back_populates="sponsors")
    person: Mapped[Person] = relationship(lazy="joined")


class ProposalUnit(Base):
    __table__ = tables.proposal_unit

    proposal_id: Mapped[int]
    role: Mapped[str]
    position: Mapped[int]
    organization_id: Mapped[int]

    proposal: Mapped[Proposal] = relationship(back_populates="units")
    organization: Mapped[Organization] = relationship(lazy="joined")


class Reply(Base):
    """The government's reply letter (答复函)."""

    __table__ = tables.reply

    proposal_id: Mapped[int]
    text: Mapped[str]
    title: Mapped[str | None]
    doc_number: Mapped[str | None]
    addressee: Mapped[str | None]
    signer: Mapped[str | None]
    date: Mapped[dt.date | None]
    # where the letter was read: on the page, or in an attached file (whose URL is kept)
    source: Mapped[str]
    attachment_url: Mapped[str | None]

    proposal: Mapped[Proposal] = relationship(back_populates="reply")


class Attachment(Base):
    __table__ = tables.attachment

    proposal_id: Mapped[int]
    position: Mapped[int]
    url: Mapped[str]
    name: Mapped[str]

    proposal: Mapped[Proposal] = relationship(back_populates="attachments")


class AttachmentFile(Base):
    """An attached file of a site's records as fetched: its bytes are a capture (outcome `attachment`;
    files of the same bytes share one), its text as read, and what became of it.

    status: read (text read), scanned (a PDF without a text layer), not-read (a format no reader
    here reads, or no converter installed), unreadable (corrupt), too-large, failed (HTTP error,
    network), blocked (a challenge page instead of the file)."""

    __table__ = tables.attachment_file

    id: Mapped[int]
    site_id: Mapped[int]
    url: Mapped[str]
    capture_id: Mapped[int | None]
    status: Mapped[str]
    format: Mapped[str | None]
    detail: Mapped[str | None]
    text: Mapped[str | None]
    etag: Mapped[str | None]
    last_modified: Mapped[str | None]
    fetched_at: Mapped[dt.datetime | None]
    checked_at: Mapped[dt.datetime]
    reader_version: Mapped[str | None]


class ExtraField(Base):
    """A label/value row of the page that maps to no field of the record (代表团, 满意度 …)."""

    __table__ = tables.extra_field

    proposal_id: Mapped[int]
    label: Mapped[str]
    position: Mapped[int]
    value: Mapped[str | None]

    proposal: Mapped[Proposal] = relationship(back_populates="extra_fields")


class Revision(Base):
    """One field of a record changed by a later capture: old and new values as JSON."""

    __table__ = tables.revision

    id: Mapped[int]
    proposal_id: Mapped[int]
    capture_id: Mapped[int | None]
    changed_at: Mapped[dt.datetime]
    field: Mapped[str]
    old_value: Mapped[str | None]
    new_value: Mapped[str | None]
