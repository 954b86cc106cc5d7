"""A crawl killed outright (SIGKILL) or stopped (Ctrl-C) is finished by the next one."""

from __future__ import annotations

import json
import signal
import sqlite3
import time

from conftest import FIXTURES
from crawlkit import Crawl, Replica, expected_at
from sqlalchemy import select

from archive.db import session_factory
from archive.models import CrawlColumn, CrawlRun
from replica import Fault, copies

RECORDS = 150


def _site(count: int, delay: float):
    listed, pages, source = copies(FIXTURES / "haidao", count)
    site = json.loads((FIXTURES / "haidao" / "site.json").read_text(encoding="utf-8"))
    first, second = (c["column_id"] for c in site["columns"])
    replica = Replica(FIXTURES / "haidao", records={first: listed, second: []}, pages=pages)
    for record in listed:
        replica.inject(record["path"], Fault("slow", times=None, delay=delay))
    return replica, source


def _archived(crawl: Crawl) -> int:
    with sqlite3.connect(crawl.db, timeout=30) as connection:
        return connection.execute("SELECT count(*) FROM proposal").fetchone()[0]


def _kill_when(crawl: Crawl, ready, deadline: float = 90) -> None:
    process = crawl.popen()
    limit = time.monotonic() + deadline
    while not ready() and time.monotonic() < limit and process.poll() is None:
        time.sleep(0.05)
    assert process.poll() is None, "the crawl ended before it could be killed"
    process.send_signal(signal.SIGKILL)
    process.communicate(timeout=30)  # reaped: its pid is gone
    assert process.returncode == -signal.SIGKILL


def _assert_whole(crawl: Crawl, replica: Replica, source: dict[str, str]) -> None:
    for url, record in crawl.records().items():  # every archived record whole
        path = "/" + url.split("/", 3)[3]
        assert record == expected_at(replica, source[path], path), url


def test_a_crawl_killed_at_several_points_is_finished_by_the_next(tmp_path):
    replica, source = _site(RECORDS, delay=0.1)
    with replica:
        crawl = Crawl(tmp_path, {"haidao": replica})
        # killed after the column page and list, before any batch was written
        _kill_when(crawl, lambda: any("/art/" in r.path for r in replica.requests()))
        _assert_whole(crawl, replica, source)
        # killed after its first batches, then again further on
        for target in (_archived(crawl) + 50, 100):
            _kill_when(crawl, lambda target=target: _archived(crawl) >= target)
            _assert_whole(crawl, replica, source)
        assert 50 <= _archived(crawl) < RECORDS
        replica.clear_log()
        result = crawl.run()
        assert result.returncode == 0, result.stderr
        assert "interrupted crawl" in result.stderr
    records = crawl.records()
    assert len(records) == RECORDS
    _assert_whole(crawl, replica, source)
    # nothing archived was fetched again
    fetched = [r.path for r in replica.requests() if "/art/" in r.path and not r.conditional]
    assert len(fetched) == len(set(fetched)) <= RECORDS - 50
    with session_factory(crawl.engine())() as session:
        runs = session.scalars(select(CrawlRun).order_by(CrawlRun.id)).all()
        assert [run.status for run in runs] == ["interrupted"] * 3 + ["ok"]
        assert all(run.finished_at is not None for run in runs)
        assert all(column.complete for column in session.scalars(select(CrawlColumn)))


def test_a_complete_walk_lets_the_next_crawl_stop_early(tmp_path):
    replica, _ = _site(45, delay=0)
    with replica:
        crawl = Crawl(tmp_path, {"haidao": replica})
        assert crawl.run().returncode == 0
        replica.clear_log()
        result = crawl.run()
        assert result.returncode == 0, result.stderr
        # five archived records in a row on page 1 end the walk: pages 2 and 3 are not asked
        assert len(replica.requests("/api-gateway/")) == 2  # page 1 of each column


def test_ctrl_c_stops_cleanly_and_the_next_crawl_finishes(tmp_path):
    replica, source = _site(60, delay=0.5)
    with replica:
        crawl = Crawl(tmp_path, {"haidao": replica})
        process = crawl.popen(settings={"PROPOSALS_BATCH": "1", "CONCURRENT_REQUESTS_PER_DOMAIN": "2"})
        deadline = time.monotonic() + 60
        while _archived(crawl) < 3 and time.monotonic() < deadline:
            time.sleep(0.1)
        process.send_signal(signal.SIGINT)
        _out, err = process.communicate(timeout=90)
        assert process.returncode == 1
        assert "stopped: shutdown" in err and "Traceback" not in err
        archived = _archived(crawl)
        assert 3 <= archived < 60
        _assert_whole(crawl, replica, source)
        with session_factory(crawl.engine())() as session:
            run = session.scalars(select(CrawlRun)).one()
            assert run.status == "interrupted" and run.finished_at is not None and run.new == archived
        for record in replica.columns[0].records:
            replica.faults.pop(record["path"], None)
        result = crawl.run()
        assert result.returncode == 0, result.stderr
        assert f"{60 - archived} new" in result.stderr
        assert len(crawl.records()) == 60
