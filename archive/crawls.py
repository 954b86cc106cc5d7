"""What a crawl needs from the archive, and what it leaves there: known pages, crawl_run rows, column state.

Revalidation (which archived pages a crawl asks again, with conditional GETs):

- a record that is not final (no reply yet, or a 落实情况 that says the work goes on: 落实中,
  计划落实, 办理中 …) is asked again on every crawl until it is final, or until it has gone
  `max_age_days` without a change (counted from when the archive first saw it or last saw it
  change, never from its publication date);
- every other archived page (final records, old unfinished ones, pages that hold no record) is
  revisited in a bounded slice each crawl: the oldest-checked first, ceil(n / cycle_days) of
  them, so that with one crawl a night each is asked again at least once every `cycle_days`
  nights; pages checked in the last 12 hours are left for a later crawl.

Resuming: a column's walk is `complete` only when it left the archive holding the whole list
(see models.CrawlColumn); a crawl that finds a column incomplete walks its whole list again. A
`running` crawl_run whose process is gone (killed) is closed as `interrupted` by the next crawl.
"""

from __future__ import annotations

import datetime as dt
import math
import os
import re
import socket
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from .models import Capture, CrawlColumn, CrawlRun, Proposal, Reply

# 落实情况 values that mean the work is still going on
_ONGOING_RE = re.compile(r"中$|计划|正在|未|待|拟|部分")
SKIPPED = "skipped"  # capture outcome of a page that holds no single record
RUN_COUNTS = ("listed", "fetched", "not_modified", "new", "changed", "unchanged", "skipped", "failed", "blocked")
RECENTLY_CHECKED = dt.timedelta(hours=12)  # the slice leaves pages asked this recently for a later night
FOREIGN_RUN_AGE = dt.timedelta(days=2)     # a `running` run of another machine older than this is dead


def is_final(implementation_status: str | None, has_reply: bool) -> bool:
    """No reply yet, or a status that says the work goes on: not final."""
    if not has_reply:
        return False
    return implementation_status is None or not _ONGOING_RE.search(implementation_status)


@dataclass(frozen=True, slots=True)
class KnownPage:
    url: str
    final: bool
    etag: str | None              # validators of the newest capture, for conditional GET
    last_modified: str | None
    record: bool = True           # False: a page that holds no record (skipped)
    changed_at: dt.datetime | None = None   # when the archive first saw it, or last saw it change
    checked_at: dt.datetime | None = None   # when a crawl last had it confirmed (200 or 304)


def known_pages(session: Session, site_id: int) -> dict[str, KnownPage]:
    """Every archived record of a site: its finality, its ages and the validators of the capture it reflects."""
    pages = {}
    rows = session.execute(
        select(Proposal.url, Proposal.implementation_status, Proposal.first_seen, Proposal.last_changed,
               Proposal.last_seen, Reply.proposal_id.is_not(None).label("has_reply"), Capture.etag,
               Capture.last_modified)
        .outerjoin(Reply, Reply.proposal_id == Proposal.id)
        .outerjoin(Capture, Capture.id == Proposal.capture_id)
        .where(Proposal.site_id == site_id))
    for row in rows:
        pages[row.url] = KnownPage(row.url, is_final(row.implementation_status, bool(row.has_reply)), row.etag,
                                   row.last_modified, changed_at=max(row.first_seen, row.last_changed),
                                   checked_at=row.last_seen)
    # pages of a column that hold no record (summaries, notices): known, so not fetched every night
    skipped = (select(Capture.url, Capture.fetched_at, Capture.last_seen_at, Capture.etag, Capture.last_modified)
               .where(Capture.site_id == site_id, Capture.outcome == SKIPPED)
               .order_by(Capture.id))
    for row in session.execute(skipped):
        if row.url not in pages or not pages[row.url].record:
            pages[row.url] = KnownPage(row.url, True, row.etag, row.last_modified, record=False,
                                       changed_at=row.fetched_at, checked_at=row.last_seen_at)
    return pages


def to_revalidate(pages: Iterable[KnownPage], now: dt.datetime, *, max_age_days: int,
                  cycle_days: int) -> list[KnownPage]:
    """The known pages a crawl at `now` asks again (the policy in this module's docstring)."""
    every_crawl, rest = [], []
    for page in pages:
        young = page.changed_at is None or (now - page.changed_at).days <= max_age_days
        (every_crawl if not page.final and young else rest).append(page)
    size = math.ceil(len(rest) / max(cycle_days, 1))
    oldest = dt.datetime.min.replace(tzinfo=dt.UTC)
    due = sorted((page for page in rest if page.checked_at is None or now - page.checked_at >= RECENTLY_CHECKED),
                 key=lambda page: (page.checked_at or oldest, page.url))
    return every_crawl + due[:size]


# --- crawl runs ------------------------------------------------------------------------------------


def _this_host() -> str:
    return socket.gethostname()[:255]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process
        return True
    return True


def close_dead_runs(session: Session, site_id: int, now: dt.datetime) -> int:
    """Close as `interrupted` the `running` runs of this site whose process is gone; how many were closed.

    A run of this machine is gone when its process is; a run of another machine when it started
    more than two days ago (nothing else can be known of it); a run with no process recorded is
    gone (it predates the record)."""
    here = _this_host()
    dead = []
    for run in session.scalars(select(CrawlRun).where(CrawlRun.site_id == site_id, CrawlRun.status == "running")):
        if run.pid is None or run.host is None:
            dead.append(run.id)
        elif run.host == here:
            if run.pid != os.getpid() and not _alive(run.pid):
                dead.append(run.id)
        elif now - run.started_at > FOREIGN_RUN_AGE:
            dead.append(run.id)
    if dead:
        session.execute(update(CrawlRun).where(CrawlRun.id.in_(dead)).values(status="interrupted", finished_at=now))
    return len(dead)


def start_run(session: Session, site_id: int, *, full: bool, started_at: dt.datetime) -> int:
    run = CrawlRun(site_id=site_id, started_at=started_at, status="running", full=full, host=_this_host(),
                   pid=os.getpid(), **dict.fromkeys(RUN_COUNTS, 0))
    session.add(run)
    session.flush()
    return run.id


def finish_run(session: Session, run_id: int, counts: Mapping[str, int], *, status: str,
               finished_at: dt.datetime) -> None:
    session.execute(update(CrawlRun).where(CrawlRun.id == run_id).values(
        status=status, finished_at=finished_at, **{key: int(counts.get(key, 0)) for key in RUN_COUNTS}))


# --- columns ---------------------------------------------------------------------------------------


def begin_walks(session: Session, site_id: int, urls: Iterable[str], now: dt.datetime) -> dict[str, bool]:
    """Whether each column's last walk was complete; and from now on each is incomplete until this
    crawl says otherwise (so that a crawl killed halfway leaves them incomplete)."""
    urls = list(dict.fromkeys(urls))
    rows = {row.url: row for row in session.scalars(
        select(CrawlColumn).where(CrawlColumn.site_id == site_id, CrawlColumn.url.in_(urls)))}
    complete = {url: bool(rows[url].complete) if url in rows else False for url in urls}
    for url in urls:
        row = rows.get(url)
        if row is None:
            session.add(CrawlColumn(site_id=site_id, url=url, complete=False, walked_at=now))
        else:
            row.complete, row.walked_at = False, now
    session.flush()
    return complete


def finish_walks(session: Session, site_id: int, walks: Mapping[str, tuple[bool, int | None, str | None]],
                 now: dt.datetime) -> None:
    """Record each column's walk: (complete, total the list stated, why not complete)."""
    for url, (complete, total, error) in walks.items():
        values = {"complete": complete, "error": None if complete else error}
        if complete:
            values["completed_at"] = now
        if total is not None:
            values["total"] = total
        session.execute(update(CrawlColumn).where(CrawlColumn.site_id == site_id, CrawlColumn.url == url)
                        .values(**values))


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


__all__ = ["KnownPage", "begin_walks", "close_dead_runs", "finish_run", "finish_walks", "is_final", "known_pages",
           "seen_unchanged", "start_run", "to_revalidate"]
