"""The archive's tables, in SQLAlchemy Core: the one place the schema is written.

site ─┬─ capture (every fetched or imported page, raw bytes compressed)
      ├─ proposal (one per published record; natural key site + url)
      │    ├─ proposal_sponsor ── person        (one person per normalized name and site)
      │    ├─ proposal_unit ───── organization  (one unit per normalized name and site)
      │    ├─ reply, attachment, extra_field
      │    └─ revision (each change a later capture brought: field, old, new)
      ├─ attachment_file (each attached file fetched: its capture, its text, what became of it)
      ├─ crawl_run (one per site and crawl: when, counts, status)
      └─ crawl_column (crawl state: one per column URL, did its last walk cover the whole list)

Core, not the ORM: the read path (query, show, stats, export) compiles its statements from these
tables and never imports sqlalchemy.orm, which costs a command about a third of its start-up.
`models` maps the ORM classes that ingest and crawls use onto these same tables.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Column,
    Computed,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql import ColumnElement
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
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


site = Table(
    "site", metadata,
    Column("id", Integer, primary_key=True),
    Column("slug", String(100), nullable=False, unique=True),
    Column("name", String(200), nullable=False),
    Column("base_url", String(500)),
    Column("platform", String(50)),
)

crawl_run = Table(
    "crawl_run", metadata,
    Column("id", Integer, primary_key=True),
    Column("site_id", Integer, ForeignKey("site.id"), index=True),
    Column("started_at", UTCDateTime(), nullable=False),
    Column("finished_at", UTCDateTime()),
    Column("status", String(20), nullable=False, default="running"),  # running, ok, failed, interrupted
    Column("full", Boolean, nullable=False, default=False),
    *(Column(name, Integer, nullable=False, default=0)
      for name in ("listed", "fetched", "not_modified", "new", "changed", "unchanged")),
    Column("skipped", Integer, nullable=False, default=0, server_default="0"),  # pages that hold no record
    Column("failed", Integer, nullable=False, default=0),
    Column("blocked", Integer, nullable=False, default=0),
    # crawl state: the process that runs it, so that the next crawl can tell a killed run from a live one
    Column("host", String(255)),
    Column("pid", Integer),
)

# Crawl state: a column's list walks, and whether the last one left the archive holding the whole
# list (see models.CrawlColumn).
crawl_column = Table(
    "crawl_column", metadata,
    Column("id", Integer, primary_key=True),
    Column("site_id", Integer, ForeignKey("site.id"), nullable=False),
    Column("url", String(1000), nullable=False),
    Column("complete", Boolean, nullable=False, default=False),
    Column("walked_at", UTCDateTime()),     # the last walk began
    Column("completed_at", UTCDateTime()),  # the last complete walk ended
    Column("total", Integer),               # records the list stated at its last walk
    Column("error", Text),                  # why the last walk did not complete
    UniqueConstraint("site_id", "url"),
)

capture = Table(
    "capture", metadata,
    Column("id", Integer, primary_key=True),
    Column("site_id", Integer, ForeignKey("site.id"), nullable=False),
    Column("url", String(1000), nullable=False),
    Column("fetched_at", UTCDateTime(), nullable=False),
    Column("last_seen_at", UTCDateTime(), nullable=False),
    Column("source", String(10), nullable=False),  # crawl, import
    Column("http_status", Integer),
    Column("etag", String(300)),
    Column("last_modified", String(100)),
    Column("content_type", String(200)),
    Column("sha256", String(64), nullable=False, index=True),
    Column("size", Integer, nullable=False),
    Column("body", LargeBinary, nullable=False),  # zlib-compressed page bytes
    Column("parser_version", String(20)),
    Column("outcome", String(20), nullable=False),  # record, blocked, truncated, not-a-record
    Column("error", Text),
    Column("crawl_run_id", Integer, ForeignKey("crawl_run.id"), index=True),
    UniqueConstraint("site_id", "url", "sha256"),
)

proposal = Table(
    "proposal", metadata,
    Column("id", Integer, primary_key=True),
    Column("site_id", Integer, ForeignKey("site.id"), nullable=False),
    Column("url", String(1000), nullable=False),
    Column("kind", String(20)),
    Column("raw_title", Text, nullable=False),
    Column("title", Text, nullable=False),
    Column("number", String(40)),
    Column("year", Integer),
    Column("session", String(40)),
    Column("category", String(200)),
    Column("content", Text),
    Column("adoption_label", String(100)),
    Column("adoption_class", String(1)),
    Column("implementation_status", String(100)),
    Column("impact_scope", String(200)),
    Column("approved_by", String(200)),
    Column("index_no", String(100)),
    Column("disclosure_category", String(200)),
    Column("publisher", String(200)),
    Column("generated_on", Date),
    Column("disclosure_mode", String(100)),
    Column("published_at", String(16)),  # ISO, local time as printed: 2022-08-18T09:41
    Column("source", String(200)),
    Column("first_seen", UTCDateTime(), nullable=False),
    Column("last_seen", UTCDateTime(), nullable=False),
    Column("last_changed", UTCDateTime(), nullable=False),
    Column("capture_id", Integer, ForeignKey("capture.id")),
    # analyst: computed by the database from published_at / generated_on (see PublishedDay)
    Column("published_day", String(10), Computed(PublishedDay())),
    Column("published_year", Integer, Computed(PublishedDay(year=True))),
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

# a sponsor: one row per normalized name within a site (the 魏巍 of two records is one person)
person = Table(
    "person", metadata,
    Column("id", Integer, primary_key=True),
    Column("site_id", Integer, ForeignKey("site.id"), nullable=False),
    Column("name", String(200), nullable=False),
    UniqueConstraint("site_id", "name"),
    Index(None, "name"),
)

# a handling unit: one row per normalized name within a site
organization = Table(
    "organization", metadata,
    Column("id", Integer, primary_key=True),
    Column("site_id", Integer, ForeignKey("site.id"), nullable=False),
    Column("name", String(300), nullable=False),
    UniqueConstraint("site_id", "name"),
    Index(None, "name"),
)

proposal_sponsor = Table(
    "proposal_sponsor", metadata,
    Column("proposal_id", Integer, ForeignKey("proposal.id", ondelete="CASCADE"), primary_key=True),
    Column("role", String(4), primary_key=True),
    Column("position", Integer, primary_key=True),
    Column("person_id", Integer, ForeignKey("person.id"), nullable=False),
    CheckConstraint("role IN ('lead', 'co')", name="role"),
    Index(None, "person_id"),
)

proposal_unit = Table(
    "proposal_unit", metadata,
    Column("proposal_id", Integer, ForeignKey("proposal.id", ondelete="CASCADE"), primary_key=True),
    Column("role", String(4), primary_key=True),
    Column("position", Integer, primary_key=True),
    Column("organization_id", Integer, ForeignKey("organization.id"), nullable=False),
    CheckConstraint("role IN ('lead', 'co')", name="role"),
    Index(None, "organization_id"),
)

# the government's reply letter (答复函)
reply = Table(
    "reply", metadata,
    Column("proposal_id", Integer, ForeignKey("proposal.id", ondelete="CASCADE"), primary_key=True),
    Column("text", Text, nullable=False),
    Column("title", Text),
    Column("doc_number", String(100)),
    Column("addressee", String(200)),
    Column("signer", String(200)),
    Column("date", Date),
    # where the letter was read: on the page, or in an attached file (whose URL is kept)
    Column("source", String(10), nullable=False, default="page", server_default="page"),
    Column("attachment_url", String(1000)),
    CheckConstraint("source IN ('page', 'attachment')", name="source"),
)

attachment = Table(
    "attachment", metadata,
    Column("proposal_id", Integer, ForeignKey("proposal.id", ondelete="CASCADE"), primary_key=True),
    Column("position", Integer, primary_key=True),
    Column("url", String(1000), nullable=False),
    Column("name", Text, nullable=False),
)

# an attached file as fetched (see models.AttachmentFile)
attachment_file = Table(
    "attachment_file", metadata,
    Column("id", Integer, primary_key=True),
    Column("site_id", Integer, ForeignKey("site.id"), nullable=False),
    Column("url", String(1000), nullable=False),
    Column("capture_id", Integer, ForeignKey("capture.id"), index=True),
    Column("status", String(20), nullable=False),
    Column("format", String(10)),   # pdf, docx, doc, wps, ofd …
    Column("detail", Text),         # why not read, why it failed
    Column("text", Text),           # the text read, one line per paragraph
    Column("etag", String(300)),
    Column("last_modified", String(100)),
    Column("fetched_at", UTCDateTime()),                 # the bytes last came in full
    Column("checked_at", UTCDateTime(), nullable=False),  # last asked (a 304 included)
    Column("reader_version", String(20)),
    UniqueConstraint("site_id", "url"),
    Index(None, "status"),
)

# a label/value row of the page that maps to no field of the record (代表团, 满意度 …)
extra_field = Table(
    "extra_field", metadata,
    Column("proposal_id", Integer, ForeignKey("proposal.id", ondelete="CASCADE"), primary_key=True),
    Column("label", String(100), primary_key=True),
    Column("position", Integer, nullable=False),
    Column("value", Text),
)

# one field of a record changed by a later capture: old and new values as JSON
revision = Table(
    "revision", metadata,
    Column("id", Integer, primary_key=True),
    Column("proposal_id", Integer, ForeignKey("proposal.id", ondelete="CASCADE"), nullable=False),
    Column("capture_id", Integer, ForeignKey("capture.id")),
    Column("changed_at", UTCDateTime(), nullable=False),
    Column("field", String(120), nullable=False),
    Column("old_value", Text),
    Column("new_value", Text),
    Index(None, "proposal_id", "changed_at"),
)
