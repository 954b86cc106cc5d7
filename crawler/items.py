"""What the spiders hand to the pipeline: one item per page answer (no Scrapy types inside)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from .parsers import ProposalRecord

RECORD, NOT_MODIFIED, BLOCKED, FAILED, SKIPPED = "record", "not-modified", "blocked", "failed", "skipped"


@dataclass
class PageItem:
    kind: str                                  # record, not-modified, blocked, failed, skipped
    site: str                                  # site slug
    url: str
    fetched_at: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.UTC))
    status: int | None = None
    body: bytes | None = field(default=None, repr=False)  # the bytes as fetched (none for 304s, failures)
    etag: str | None = None
    last_modified: str | None = None
    content_type: str | None = None
    record: ProposalRecord | None = field(default=None, repr=False)
    reason: str | None = None                  # why blocked, failed or skipped
    column: str | None = None                  # the column URL whose walk listed the page (None: revalidated)
    ack: str | None = None                     # shared crawls: the request to acknowledge once this is archived

    def feed(self) -> dict:
        """What `scrapy crawl … -o items.jsonl` writes for a record: its site and the record's keys."""
        return {"site": self.site, "fetched_at": self.fetched_at.isoformat(), **self.record.to_dict()}


@dataclass
class FileItem:
    """One answer for an attached file: fetched (200), not modified (304), or a problem (too-large,
    failed, blocked) with its reason."""

    outcome: str                               # fetched, not-modified, too-large, failed, blocked
    site: str
    url: str
    page: str | None = None                    # the record's page that links to it
    name: str | None = None                    # the link's text
    fetched_at: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.UTC))
    status: int | None = None
    body: bytes | None = field(default=None, repr=False)
    etag: str | None = None
    last_modified: str | None = None
    content_type: str | None = None
    reason: str | None = None
