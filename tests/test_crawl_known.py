"""What a crawl knows of a site before it starts: records, and pages that hold no record."""

from __future__ import annotations

import dataclasses
import datetime as dt

from archive.crawls import SKIPPED, KnownPage, known_pages, to_revalidate
from archive.db import transaction
from archive.ingest import CaptureIn, archive_failures, ensure_site

WHEN = dt.datetime(2026, 11, 30, 21, 0, tzinfo=dt.UTC)


def test_skipped_pages_are_known_and_final(engine):
    with transaction(engine) as session:
        site = ensure_site(session, "lianhe", base_url="http://www.lianhe.example")
        summary = CaptureIn(site.id, "http://www.lianhe.example/jytabl/202301/t20230105_1.shtml",
                            "<html><body>2022年建议提案办理工作总结</body></html>".encode(), WHEN, etag='"s1"',
                            last_modified="Tue, 03 Jan 2023 08:00:00 GMT")
        failed = CaptureIn(site.id, "http://www.lianhe.example/jytabl/202301/t20230106_2.shtml",
                           b"<html><body>blocked</body></html>", WHEN)
        archive_failures(session, [(summary, SKIPPED, "a yearly summary"), (failed, "blocked", "HTTP 412")])
        site_id = site.id
    with transaction(engine) as session:
        known = known_pages(session, site_id)
    page = known["http://www.lianhe.example/jytabl/202301/t20230105_1.shtml"]
    assert (page.final, page.record, page.etag, page.last_modified) == (
        True, False, '"s1"', "Tue, 03 Jan 2023 08:00:00 GMT")
    # a blocked page is not known: the next crawl asks for it again
    assert "http://www.lianhe.example/jytabl/202301/t20230106_2.shtml" not in known


def _page(n: int, *, final: bool, changed: dt.datetime, checked: dt.datetime) -> KnownPage:
    return KnownPage(f"http://x.example/art/{n}.html", final, None, None, changed_at=changed, checked_at=checked)


def test_unfinished_records_are_asked_every_crawl_until_they_go_two_years_unchanged():
    now = WHEN
    young = _page(1, final=False, changed=now - dt.timedelta(days=730), checked=now - dt.timedelta(days=1))
    old = _page(2, final=False, changed=now - dt.timedelta(days=731), checked=now - dt.timedelta(days=1))
    chosen = to_revalidate([young, old], now, max_age_days=730, cycle_days=30)
    assert chosen == [young, old]  # the old one only as the slice of one (ceil(1 / 30))
    # a day later both are past the limit: together they are the slice's, ceil(2 / 30) = 1 of them a night
    assert len(to_revalidate([young, old], now + dt.timedelta(days=1), max_age_days=730, cycle_days=30)) == 1


def test_every_archived_page_is_asked_again_within_thirty_nights():
    start = WHEN
    pages = {p.url: p for p in (_page(n, final=True, changed=start, checked=start - dt.timedelta(minutes=n))
                                 for n in range(100))}
    asked: dict[str, int] = {}
    for night in range(1, 31):
        now = start + dt.timedelta(days=night)
        chosen = to_revalidate(pages.values(), now, max_age_days=730, cycle_days=30)
        assert len(chosen) == 4  # ceil(100 / 30)
        for page in chosen:
            asked.setdefault(page.url, night)
            pages[page.url] = dataclasses.replace(page, checked_at=now)
    assert len(asked) == 100 and max(asked.values()) <= 30
    # oldest-checked first: the page checked longest ago goes on the first night
    assert asked["http://x.example/art/99.html"] == 1


def test_pages_checked_in_the_last_hours_wait_for_another_night():
    page = _page(1, final=True, changed=WHEN, checked=WHEN - dt.timedelta(hours=2))
    assert to_revalidate([page], WHEN, max_age_days=730, cycle_days=30) == []
    assert to_revalidate([page], WHEN + dt.timedelta(hours=11), max_age_days=730, cycle_days=30) == [page]


def test_a_dead_crawls_running_row_is_closed_and_a_live_ones_is_not(engine):
    import os
    import subprocess
    import sys

    from sqlalchemy import select

    from archive.crawls import close_dead_runs, start_run
    from archive.models import CrawlRun

    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    with transaction(engine) as session:
        site_id = ensure_site(session, "lianhe", base_url="http://www.lianhe.example").id
        live = start_run(session, site_id, full=False, started_at=WHEN)   # this process: alive
        dead = start_run(session, site_id, full=False, started_at=WHEN)
        session.get(CrawlRun, dead).pid = gone.pid
        foreign = start_run(session, site_id, full=False, started_at=WHEN)
        session.get(CrawlRun, foreign).host = "another-machine"
    with transaction(engine) as session:
        assert close_dead_runs(session, site_id, WHEN + dt.timedelta(hours=1)) == 1
    with transaction(engine) as session:
        status = dict(session.execute(select(CrawlRun.id, CrawlRun.status)).all())
        assert status == {live: "running", dead: "interrupted", foreign: "running"}
        assert close_dead_runs(session, site_id, WHEN + dt.timedelta(days=3)) == 1  # the other machine's, old
    assert os.getpid()


def test_a_column_is_incomplete_from_the_moment_a_walk_begins(engine):
    from archive.crawls import begin_walks, finish_walks

    url = "http://www.lianhe.example/col/col1/index.html"
    with transaction(engine) as session:
        site_id = ensure_site(session, "lianhe", base_url="http://www.lianhe.example").id
        assert begin_walks(session, site_id, [url], WHEN) == {url: False}
        finish_walks(session, site_id, {url: (True, 40, None)}, WHEN)
    with transaction(engine) as session:
        assert begin_walks(session, site_id, [url], WHEN) == {url: True}  # and now false until the walk ends
    with transaction(engine) as session:
        assert begin_walks(session, site_id, [url], WHEN) == {url: False}
