"""End to end through Scrapy: `proposals crawl` against replicas of both platforms."""

from __future__ import annotations

import json

import pytest
from conftest import FIXTURES
from crawlkit import Crawl, Replica, detail_requests, expected_at, fixture_paths
from sqlalchemy import select

from archive.db import session_factory
from archive.models import Capture, CrawlRun, Revision

PAGE = "art/2023/9/8/art_1229395011_4090552.html"  # haidao, 落实情况 落实中


@pytest.fixture
def haidao():
    with Replica(FIXTURES / "haidao") as replica:
        yield replica


@pytest.fixture
def gucheng():
    with Replica(FIXTURES / "gucheng") as replica:
        yield replica


@pytest.fixture
def shengsi():
    with Replica(FIXTURES / "shengsi") as replica:
        yield replica


def _assert_all_archived(crawl: Crawl, replica: Replica) -> None:
    records = crawl.records()
    for rel in fixture_paths(replica.dir.name):
        expected = expected_at(replica, rel)
        assert records.get(expected["url"]) == expected, rel


def test_every_record_of_both_platforms_with_the_right_fields(tmp_path, haidao, gucheng, shengsi):
    crawl = Crawl(tmp_path, {"haidao": haidao, "gucheng": gucheng, "shengsi": shengsi})
    result = crawl.run()
    assert result.returncode == 0, result.stderr
    assert "crawled 3 sites: 20 listed, 20 fetched, 0 not modified; 20 new" in result.stderr
    for replica in (haidao, gucheng, shengsi):
        _assert_all_archived(crawl, replica)
    assert len(crawl.records()) == 20
    # the platforms' protocols: JPaaS lists through paramJson, jpage groups through dataproxy POSTs
    assert all("paramJson=" in r.path for r in haidao.requests("/api-gateway/"))
    assert [r.method for r in gucheng.requests("/module/jpage/dataproxy.jsp")] == ["POST"]
    assert all("proposal-archive" in r.user_agent for r in haidao.requests())
    assert haidao.requests("/robots.txt")
    with session_factory(crawl.engine())() as session:
        runs = session.scalars(select(CrawlRun)).all()
        assert {(r.status, r.new, r.fetched) for r in runs} == {("ok", 13, 13), ("ok", 6, 6), ("ok", 1, 1)}


def test_a_second_crawl_without_changes_costs_lists_and_304s(tmp_path, haidao, gucheng):
    crawl = Crawl(tmp_path, {"haidao": haidao, "gucheng": gucheng})
    assert crawl.run().returncode == 0
    haidao.clear_log()
    gucheng.clear_log()
    result = crawl.run()
    assert result.returncode == 0, result.stderr
    details = detail_requests(haidao)
    # haidao's records without a reply, or 落实中 / 计划落实, are revalidated: each answered 304
    assert len(details) == 7
    assert all(r.conditional and r.status == 304 for r in details), [(r.path, r.status) for r in details]
    # gucheng's records all have replies and no 落实情况: final, never asked again
    assert not detail_requests(gucheng)
    assert "0 new, 0 changed" in result.stderr and "not modified" in result.stderr
    # haidao: a list page of 15 holds every record; the walk stops there
    assert len(haidao.requests("/api-gateway/")) == 2


def test_a_changed_status_becomes_a_revision(tmp_path, haidao):
    crawl = Crawl(tmp_path, {"haidao": haidao})
    assert crawl.run().returncode == 0
    page = haidao.page(PAGE).decode().replace('<td class="value">落实中</td>', '<td class="value">已落实</td>')
    haidao.set_page(PAGE, page.encode())
    result = crawl.run()
    assert result.returncode == 0, result.stderr
    assert "1 changed" in result.stderr
    with session_factory(crawl.engine())() as session:
        (revision,) = session.scalars(select(Revision)).all()
        assert (revision.field, json.loads(revision.old_value), json.loads(revision.new_value)) == (
            "implementation_status", "落实中", "已落实")
    assert crawl.records()[haidao.url(PAGE)]["implementation_status"] == "已落实"
    # now final: the third crawl leaves it alone
    haidao.clear_log()
    assert crawl.run().returncode == 0
    assert not [r for r in haidao.requests() if r.path == "/" + PAGE]


def test_full_refetches_every_page(tmp_path, gucheng):
    crawl = Crawl(tmp_path, {"gucheng": gucheng})
    assert crawl.run().returncode == 0
    gucheng.clear_log()
    result = crawl.run("--full")
    assert result.returncode == 0, result.stderr
    details = detail_requests(gucheng)
    assert len(details) == 6 and not any(r.conditional for r in details)
    assert "6 unchanged" in result.stderr


def test_new_records_on_top_of_the_list_are_found(tmp_path):
    site = json.loads((FIXTURES / "haidao" / "site.json").read_text(encoding="utf-8"))
    column = site["columns"][0]
    older = {column["column_id"]: column["records"][2:]}
    with Replica(FIXTURES / "haidao", records=older) as first:
        crawl = Crawl(tmp_path, {"haidao": first})
        assert "11 new" in crawl.run().stderr  # 6 of the first column, 5 of the second
        port = first.base_url.rsplit(":", 1)[1]
    with Replica(FIXTURES / "haidao", port=int(port)) as later:  # two records published since
        result = crawl.run()
        assert result.returncode == 0, result.stderr
        assert "; 2 new, 0 changed" in result.stderr
        _assert_all_archived(crawl, later)


def test_captures_keep_the_raw_page_and_its_validators(tmp_path, shengsi):
    crawl = Crawl(tmp_path, {"shengsi": shengsi})
    assert crawl.run().returncode == 0
    import zlib

    with session_factory(crawl.engine())() as session:
        capture = session.scalars(select(Capture)).one()
        assert capture.http_status == 200 and capture.source == "crawl"
        assert capture.etag and capture.last_modified and "charset=UTF-8" in capture.content_type
        assert zlib.decompress(capture.body) == shengsi.rewrite(shengsi.page(
            "art/2022/8/18/art_1229123456_12345678.html"))
        assert capture.crawl_run_id is not None
