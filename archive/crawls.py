"""What a crawl needs from the archive, and what it leaves there: known pages, crawl_run rows.

A record is final once it has a reply and its 落实情况 no longer says the work goes on (落实中,
计划落实, 办理中 …). Records that are not final are revalidated on every crawl until they are, or
until they pass an age (two years after publication by default).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from .models import Capture, CrawlRun, Proposal, Reply

# 落实情况 values that mean the work is still going on
_ONGOING_RE = re.compile(r"中$|计划|正在|未|待|拟|部分")
SKIPPED = "skipped"  # capture outcome of a page that holds no single record
RUN_COUNTS = ("listed", "fetched", "not_modified", "new", "changed", "unchanged", "skipped", "failed", "blocked")


def is_final(implementation_status: str | None, has_reply: bool) -> bool:
    """No reply yet, or a status that says the work goes on: not final."""
    if not has_reply:
        return False
    return implementation_status is None or not _ONGOING_RE.search(implementation_status)


@dataclass(frozen=True, slots=True)
class KnownPage:
    url: str
    final: bool
    published: dt.date | None     # publication date (else generation date, else first seen)
    etag: str | None              # validators of the newest capture, for conditional GET
    last_modified: str | None
    record: bool = True           # False: a page that holds no record (skipped)

    def revalidate(self, today: dt.date, max_age_days: int) -> bool:
        """Should a crawl ask again (conditionally) whether this page changed?"""
        if self.final:
            return False
        return self.published is None or (today - self.published).days <= max_age_days


def known_pages(session: Session, site_id: int) -> dict[str, KnownPage]:
    """Every archived record of a site: its finality and the validators of the capture it reflects."""
    pages = {}
    rows = session.execute(
        select(Proposal.url, Proposal.implementation_status, Proposal.published_at, Proposal.generated_on,
               Proposal.first_seen, Reply.proposal_id.is_not(None).label("has_reply"), Capture.etag,
               Capture.last_modified)
        .outerjoin(Reply, Reply.proposal_id == Proposal.id)
        .outerjoin(Capture, Capture.id == Proposal.capture_id)
        .where(Proposal.site_id == site_id))
    for row in rows:
        published = (dt.date.fromisoformat(row.published_at[:10]) if row.published_at
                     else row.generated_on or row.first_seen.date())
        pages[row.url] = KnownPage(row.url, is_final(row.implementation_status, bool(row.has_reply)), published,
                                   row.etag, row.last_modified)
    # pages of a column that hold no record (summaries, notices): known, so not fetched every night
    skipped = (select(Capture.url, Capture.fetched_at, Capture.etag, Capture.last_modified)
               .where(Capture.site_id == site_id, Capture.outcome == SKIPPED)
               .order_by(Capture.id))
    for row in session.execute(skipped):
        if row.url not in pages or not pages[row.url].record:
            pages[row.url] = KnownPage(row.url, True, row.fetched_at.date(), row.etag, row.last_modified,
                                       record=False)
    return pages


def start_run(session: Session, site_id: int, *, full: bool, started_at: dt.datetime) -> int:
    run = CrawlRun(site_id=site_id, started_at=started_at, status="running", full=full,
                   **dict.fromkeys(RUN_COUNTS, 0))
    session.add(run)
    session.flush()
    return run.id


def finish_run(session: Session, run_id: int, counts: Mapping[str, int], *, status: str,
               finished_at: dt.datetime) -> None:
    session.execute(update(CrawlRun).where(CrawlRun.id == run_id).values(
        status=status, finished_at=finished_at, **{key: int(counts.get(key, 0)) for key in RUN_COUNTS}))


def seen_unchanged(session: Session, site_id: int, urls: Iterable[str], when: dt.datetime) -> None:
    """Pages answered 304 Not Modified: their newest capture and their record were seen again."""
    urls = list(urls)
    if not urls:
        return
    newest = (select(func.max(Capture.id)).where(Capture.site_id == site_id, Capture.url.in_(urls))
              .group_by(Capture.url))
    session.execute(update(Capture).where(Capture.id.in_(newest)).values(last_seen_at=when))
    session.execute(update(Proposal).where(Proposal.site_id == site_id, Proposal.url.in_(urls))
                    .values(last_seen=when))
