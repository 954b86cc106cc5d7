"""Injected faults lose no record that could be fetched; blocks are reported, kept, never archived as records."""

from __future__ import annotations

import json
import zlib

import pytest
from conftest import FIXTURES
from crawlkit import Crawl, Replica, expected_at, fixture_paths
from replica import Fault
from sqlalchemy import select

from archive.db import session_factory
from archive.models import Capture, CrawlRun

PAGE = "art/2023/9/8/art_1229395011_4090552.html"
OTHER = "art/2023/9/22/art_1229395011_4096107.html"
UNIT = "/api-gateway/jpaas-publish-server/front/page/build/unit"


@pytest.fixture
def haidao():
    with Replica(FIXTURES / "haidao") as replica:
        yield replica


def _archived_except(crawl: Crawl, replica: Replica, missing: set[str]) -> None:
    records = crawl.records()
    for rel in fixture_paths("haidao"):
        url = replica.url(rel)
        if rel in missing:
            assert url not in records, rel
        else:
            assert records.get(url) == expected_at(replica, rel), rel


def _captures(crawl: Crawl) -> dict[str, list[Capture]]:
    with session_factory(crawl.engine())() as session:
        found: dict[str, list[Capture]] = {}
        for capture in session.scalars(select(Capture)):
            found.setdefault(capture.url, []).append(capture)
        return found


@pytest.mark.parametrize("fault", [
    Fault("status", times=2, status=500),
    Fault("status", times=1, status=503),
    Fault("too-frequent", times=1),
    Fault("truncate", times=1),
    Fault("slow", times=1, delay=4.0),
], ids=["500-twice", "503-once", "too-frequent-once", "truncated-once", "slow-once"])
def test_passing_faults_lose_nothing(tmp_path, haidao, fault):
    attempts = 1 + fault.times  # each faulty answer, then the page
    haidao.inject(PAGE, fault)
    crawl = Crawl(tmp_path, {"haidao": haidao})
    result = crawl.run()
    assert result.returncode == 0, result.stderr
    assert "13 new" in result.stderr and "0 blocked, 0 failed" in result.stderr
    _archived_except(crawl, haidao, set())
    assert len([r for r in haidao.requests() if r.path == "/" + PAGE]) == attempts


@pytest.mark.parametrize(("fault", "why"), [
    (Fault("ruishu", times=None), "HTTP 412 challenge: Ruishu"),
    (Fault("jsl", times=None), "HTTP 521 challenge: cookie-setting challenge script (JiaSuLe"),
    (Fault("too-frequent", times=None), "访问受限"),
    (Fault("truncate", times=None), "truncated body"),
], ids=["412-ruishu", "521-jsl", "200-too-frequent", "truncated"])
def test_blocked_pages_are_reported_kept_and_never_records(tmp_path, haidao, fault, why):
    haidao.inject(PAGE, fault)
    crawl = Crawl(tmp_path, {"haidao": haidao})
    result = crawl.run()
    assert result.returncode == 1
    assert "12 new" in result.stderr and "1 blocked, 0 failed" in result.stderr
    assert why in result.stderr
    _archived_except(crawl, haidao, {PAGE})
    (capture,) = _captures(crawl)[haidao.url(PAGE)]
    assert capture.outcome == "blocked" and why in capture.error
    assert zlib.decompress(capture.body)  # kept for inspection
    with session_factory(crawl.engine())() as session:
        run = session.scalars(select(CrawlRun)).one()
        assert (run.status, run.blocked, run.new) == ("incomplete", 1, 12)
    # the next crawl asks again, and archives the page once the block is gone
    haidao.faults.clear()
    result = crawl.run()
    assert result.returncode == 0, result.stderr
    _archived_except(crawl, haidao, set())


def test_a_page_failing_for_good_is_reported_and_the_rest_archived(tmp_path, haidao):
    haidao.inject(PAGE, Fault("status", times=None, status=500))
    crawl = Crawl(tmp_path, {"haidao": haidao})
    result = crawl.run()
    assert result.returncode == 1
    assert "12 new" in result.stderr and "0 blocked, 1 failed" in result.stderr
    _archived_except(crawl, haidao, {PAGE})
    assert haidao.url(PAGE) not in _captures(crawl)  # nothing was fetched, nothing is kept


def test_a_blocked_list_is_reported(tmp_path, haidao):
    haidao.inject(UNIT, Fault("ruishu", times=None))
    crawl = Crawl(tmp_path, {"haidao": haidao})
    result = crawl.run()
    assert result.returncode == 1
    assert "0 new" in result.stderr and "2 blocked" in result.stderr


def test_the_host_is_backed_off_after_a_block(tmp_path, haidao):
    haidao.inject(PAGE, Fault("ruishu", times=None))
    crawl = Crawl(tmp_path, {"haidao": haidao})
    result = crawl.run(settings={"PROPOSALS_BLOCK_BACKOFF": "0.5", "CONCURRENT_REQUESTS_PER_DOMAIN": "1"})
    assert result.returncode == 1
    assert "backing off 127.0.0.1: 0.5 s between requests" in result.stderr
    log = haidao.requests()
    blocked = [i for i, r in enumerate(log) if r.status == 412]
    assert len(blocked) == 2  # asked once more after the backoff, then reported
    assert log[blocked[1]].at - log[blocked[0]].at >= 0.5


def test_robots_txt_is_obeyed(tmp_path):
    site = json.loads((FIXTURES / "haidao" / "site.json").read_text(encoding="utf-8"))
    column = site["columns"][1]
    private = {"path": "/private/art_1.html", "title": "（第99号）关于内部事项的建议", "date": "2023-10-01"}
    with Replica(FIXTURES / "haidao", records={column["column_id"]: [private, *column["records"]]},
                 pages={"/private/art_1.html": (FIXTURES / "haidao" / "pages" / PAGE).read_bytes()}) as replica:
        crawl = Crawl(tmp_path, {"haidao": replica})
        result = crawl.run()
        assert not replica.requests("/private/")
        assert result.returncode == 1 and "1 failed" in result.stderr
        assert "robots.txt" in result.stderr
