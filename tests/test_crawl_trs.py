"""End to end through Scrapy: `proposals crawl` against replicas of two static TRS WCM sites.

Every letter page is archived as its expected record; the summaries and notices of the columns
are skipped, never archived; a second crawl costs the column pages only; records published on top
of a list are found; blocks and faults behave as on the Hanweb sites.
"""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.error
import urllib.request
import zlib

import pytest
from conftest import FIXTURES, field_diffs, site_json
from crawlkit import FAST, Crawl, expected_at
from sqlalchemy import select

from archive.db import session_factory
from archive.models import Capture, CrawlRun, Revision
from crawler.platforms.trs_static import DETAIL_RE
from replica import Fault, StaticReplica

SUMMARY = ("crawled 2 sites: 43 listed, 37 fetched, 0 not modified; 37 new, 0 changed, 0 unchanged, 6 skipped; "
           "0 blocked, 0 failed")
JIANGLIN_PAGE = "zfxxgk/fdzdgknr/jytabl/202307/t20230718_123084.shtml"   # list page 2, a letter with a PDF
XISHAN_DEEP = "xxgk/zfxxgkml/jytabl/zxwyta/202202/t20220224_3476108.shtml"  # list page 2 of 3 (10 a page)


def _records(slug: str, letters: bool = True) -> list[str]:
    """The pages (paths without the leading slash) of a fixture site's letters, or of its non-records."""
    return [r["path"].lstrip("/") for c in site_json(slug)["columns"] for r in c["records"]
            if r.get("record", True) == letters]


@pytest.fixture
def xishan():
    with StaticReplica(FIXTURES / "xishan") as replica:
        yield replica


@pytest.fixture
def jianglin():
    with StaticReplica(FIXTURES / "jianglin") as replica:
        yield replica


def _assert_archived(crawl: Crawl, replica: StaticReplica, missing: frozenset[str] = frozenset()) -> None:
    records = crawl.records()
    for rel in _records(replica.dir.name):
        url = replica.url(rel)
        if rel in missing:
            assert url not in records, rel
            continue
        assert url in records, f"{rel}: not archived"
        diffs = field_diffs(records[url], expected_at(replica, rel))
        assert not diffs, f"{rel}: fields that differ:\n" + "\n".join(diffs)
    for rel in _records(replica.dir.name, letters=False):
        assert replica.url(rel) not in records, f"{rel}: a summary or notice became a record"


def _details(replica: StaticReplica) -> list:
    return [r for r in replica.requests() if DETAIL_RE.search(r.path)]


def _lists(replica: StaticReplica) -> list[str]:
    """The list requests: neither robots.txt, nor pages, nor the records' attached files (.doc …)."""
    return [r.path for r in replica.requests() if r.path != "/robots.txt" and not DETAIL_RE.search(r.path)
            and not r.path.lower().endswith((".pdf", ".doc", ".docx", ".wps", ".xls", ".xlsx", ".ofd"))]


def _captures(crawl: Crawl) -> dict[str, list[Capture]]:
    with session_factory(crawl.engine())() as session:
        found: dict[str, list[Capture]] = {}
        for capture in session.scalars(select(Capture).order_by(Capture.id)):
            found.setdefault(capture.url, []).append(capture)
        return found


def test_every_letter_archived_and_summaries_skipped(tmp_path, xishan, jianglin):
    crawl = Crawl(tmp_path, {"xishan": xishan, "jianglin": jianglin})
    result = crawl.run()
    _assert_archived(crawl, xishan)
    _assert_archived(crawl, jianglin)
    assert result.returncode == 0, result.stderr
    assert SUMMARY in result.stderr
    assert len(crawl.records()) == 37
    # the static protocol: every list page once, in its own file; nothing else but robots.txt and pages
    assert sorted(_lists(xishan)) == sorted(["/xxgk/zfxxgkml/jytabl/zxwyta/index.shtml",
                                             "/xxgk/zfxxgkml/jytabl/zxwyta/index_1.shtml",
                                             "/xxgk/zfxxgkml/jytabl/zxwyta/index_2.shtml",
                                             "/xxgk/zfxxgkml/jytabl/rddbjy/index.shtml"])
    assert sorted(_lists(jianglin)) == ["/zfxxgk/fdzdgknr/jytabl/index.shtml", "/zfxxgk/fdzdgknr/jytabl/index_1.shtml",
                                        "/zfxxgk/fdzdgknr/jytabl/index_2.shtml"]
    assert xishan.requests("/robots.txt") and all("proposal-archive" in r.user_agent for r in xishan.requests())
    with session_factory(crawl.engine())() as session:
        runs = session.scalars(select(CrawlRun)).all()
        assert {(r.status, r.listed, r.fetched, r.new, r.skipped, r.failed) for r in runs} == {
            ("ok", 33, 29, 29, 4, 0), ("ok", 10, 8, 8, 2, 0)}
    skipped = {url for url, captures in _captures(crawl).items() if captures[-1].outcome == "skipped"}
    assert skipped == {site.url(rel) for site in (xishan, jianglin) for rel in _records(site.dir.name, letters=False)}


def test_a_second_crawl_without_changes_costs_the_column_pages(tmp_path, xishan, jianglin):
    crawl = Crawl(tmp_path, {"xishan": xishan, "jianglin": jianglin})
    assert crawl.run().returncode == 0
    xishan.clear_log()
    jianglin.clear_log()
    result = crawl.run()
    assert result.returncode == 0, result.stderr
    assert "0 new, 0 changed" in result.stderr and "0 blocked, 0 failed" in result.stderr
    # letters with a reply are final and summaries are known: no page is fetched again, none needs a 304 …
    details = _details(xishan) + _details(jianglin)
    assert all(r.conditional and r.status == 304 for r in details), [(r.path, r.status) for r in details]
    assert not [r for r in details if r.status == 200]
    # … and a walk ends on list page 1 once it meets 5 known records (jianglin prints 4 a page: 2 pages)
    assert sorted(_lists(xishan)) == ["/xxgk/zfxxgkml/jytabl/rddbjy/index.shtml",
                                      "/xxgk/zfxxgkml/jytabl/zxwyta/index.shtml"]
    assert _lists(jianglin) == ["/zfxxgk/fdzdgknr/jytabl/index.shtml", "/zfxxgk/fdzdgknr/jytabl/index_1.shtml"]


def test_a_record_published_on_top_of_the_list_is_found(tmp_path):
    column = next(c for c in site_json("xishan")["columns"] if c["id"] == "zxwyta")
    newest, older = column["records"][0], column["records"][1:]
    with StaticReplica(FIXTURES / "xishan", records={"zxwyta": older}) as replica:
        crawl = Crawl(tmp_path, {"xishan": replica})
        result = crawl.run()
        assert result.returncode == 0, result.stderr
        assert "28 new" in result.stderr and replica.url(newest["path"]) not in crawl.records()
        replica.publish("zxwyta", newest, (FIXTURES / "xishan/pages" / newest["path"].lstrip("/")).read_bytes())
        replica.clear_log()
        result = crawl.run()
        assert result.returncode == 0, result.stderr
        assert "; 1 new, 0 changed" in result.stderr
        _assert_archived(crawl, replica)
        assert [r.path for r in _details(replica)] == [newest["path"]]


def test_full_refetches_every_page_and_sees_a_changed_letter(tmp_path, jianglin):
    crawl = Crawl(tmp_path, {"jianglin": jianglin})
    assert crawl.run().returncode == 0
    page = jianglin.page(JIANGLIN_PAGE)
    jianglin.set_page(JIANGLIN_PAGE, page.replace("2023年7月5日".encode("gb18030"), "2023年7月6日".encode("gb18030")))
    jianglin.clear_log()
    result = crawl.run("--full")
    assert result.returncode == 0, result.stderr
    assert "1 changed, 7 unchanged, 2 skipped" in result.stderr
    details = _details(jianglin)
    assert len(details) == 10 and not any(r.conditional for r in details)
    with session_factory(crawl.engine())() as session:
        revisions = {r.field: (json.loads(r.old_value), json.loads(r.new_value))
                     for r in session.scalars(select(Revision))}
    assert set(revisions) == {"reply.text", "reply.date"}  # the date line is a line of the letter too
    assert revisions["reply.date"] == ("2023-07-05", "2023-07-06")
    assert crawl.records()[jianglin.url(JIANGLIN_PAGE)]["reply"]["date"] == "2023-07-06"


def test_captures_keep_the_page_and_its_validators(tmp_path, jianglin):
    crawl = Crawl(tmp_path, {"jianglin": jianglin})
    assert crawl.run().returncode == 0
    (capture,) = _captures(crawl)[jianglin.url(JIANGLIN_PAGE)]
    assert capture.http_status == 200 and capture.etag and capture.last_modified
    assert capture.content_type == "text/html; charset=GB2312"
    assert zlib.decompress(capture.body) == jianglin.rewrite(jianglin.page(JIANGLIN_PAGE))


# --- faults ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("fault", "why", "outcome"), [
    (Fault("ruishu", times=None), "blocked by a Ruishu challenge (HTTP 412", "blocked"),
    (Fault("jsl", times=None), "blocked by a JiaSuLe challenge (HTTP 521", "blocked"),
    (Fault("too-frequent", times=None), "blocked: block page saying 访问受限", "blocked"),
    (Fault("truncate", times=None), "truncated body", "failed"),  # a cut body is retried, then fails
], ids=["412-ruishu", "521-jsl", "200-too-frequent", "truncated"])
def test_blocked_pages_are_reported_kept_and_never_records(tmp_path, jianglin, fault, why, outcome):
    jianglin.inject(JIANGLIN_PAGE, fault)
    crawl = Crawl(tmp_path, {"jianglin": jianglin})
    result = crawl.run()
    assert result.returncode == 1
    counts = "1 blocked, 0 failed" if outcome == "blocked" else "0 blocked, 1 failed"
    assert "7 new" in result.stderr and counts in result.stderr and why in result.stderr, result.stderr
    _assert_archived(crawl, jianglin, frozenset({JIANGLIN_PAGE}))
    (capture,) = _captures(crawl)[jianglin.url(JIANGLIN_PAGE)]
    assert capture.outcome == outcome and why in capture.error and zlib.decompress(capture.body)
    jianglin.faults.clear()
    result = crawl.run()
    assert result.returncode == 0, result.stderr
    _assert_archived(crawl, jianglin)


@pytest.mark.parametrize("fault", [Fault("status", times=2, status=500), Fault("too-frequent", times=1),
                                   Fault("slow", times=1, delay=4.0)], ids=["500-twice", "too-frequent-once",
                                                                             "slow-once"])
def test_passing_faults_lose_nothing(tmp_path, jianglin, fault):
    attempts = 1 + fault.times
    jianglin.inject(JIANGLIN_PAGE, fault)
    crawl = Crawl(tmp_path, {"jianglin": jianglin})
    result = crawl.run()
    assert result.returncode == 0, result.stderr
    assert "8 new" in result.stderr and "0 blocked, 0 failed" in result.stderr
    _assert_archived(crawl, jianglin)
    assert len([r for r in jianglin.requests() if r.path == "/" + JIANGLIN_PAGE]) == attempts


def test_a_blocked_list_page_is_reported_and_the_rerun_completes(tmp_path, jianglin):
    jianglin.inject("/zfxxgk/fdzdgknr/jytabl/index_1.shtml", Fault("ruishu", times=None))
    crawl = Crawl(tmp_path, {"jianglin": jianglin})
    result = crawl.run()
    assert result.returncode == 1
    assert "1 blocked, 0 failed" in result.stderr  # one block, not also a count that disagrees
    # the pager says how many pages there are: the walk goes on past the blocked one (issue 9)
    assert jianglin.requests("/zfxxgk/fdzdgknr/jytabl/index_2.shtml")
    jianglin.faults.clear()
    result = crawl.run()
    assert result.returncode == 0, result.stderr
    _assert_archived(crawl, jianglin)


def test_a_page_blocked_deep_in_a_long_list_is_archived_by_the_next_crawl(tmp_path, xishan):
    """Ten records a page: the next walk meets five known ones on page 1 and stops there, so the
    page blocked on page 2 must be asked again for its own sake."""
    xishan.inject(XISHAN_DEEP, Fault("ruishu", times=None))
    crawl = Crawl(tmp_path, {"xishan": xishan})
    assert crawl.run().returncode == 1
    xishan.faults.clear()
    result = crawl.run()
    assert result.returncode == 0, result.stderr
    _assert_archived(crawl, xishan)


# --- the command line ------------------------------------------------------------------------------


def test_a_trs_column_url_is_crawled_and_detected(tmp_path, xishan):
    column = xishan.url("xxgk/zfxxgkml/jytabl/rddbjy/")  # the bare folder serves the column page
    sets = [item for name, value in FAST.items() for item in ("--set", f"{name}={value}")]
    result = subprocess.run([sys.executable, "-m", "cli", "crawl", "--url", column, "--db", str(tmp_path / "a.db"),
                             *sets], capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr
    assert "crawled 1 site: 5 listed, 4 fetched, 0 not modified; 4 new, 0 changed, 0 unchanged, 1 skipped" \
        in result.stderr


# --- the replica -----------------------------------------------------------------------------------------


def _get(url: str, headers: dict[str, str] | None = None) -> tuple[int, bytes, dict]:
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request) as response:
            return response.status, response.read(), dict(response.headers)
    except urllib.error.HTTPError as error:
        return error.code, error.read(), dict(error.headers)


@pytest.mark.parametrize("slug", ["xishan", "jianglin"])
def test_the_replica_serves_the_documented_list_pages(slug):
    with StaticReplica(FIXTURES / slug) as replica:
        captured = sorted((FIXTURES / slug / "examples").rglob("index*.shtml"))
        assert len(captured) == {"xishan": 4, "jianglin": 3}[slug]
        for file in captured:
            path = file.relative_to(FIXTURES / slug / "examples").as_posix()
            status, body, headers = _get(replica.url(path))
            assert (status, body) == (200, replica.rewrite(file.read_bytes())), path
            assert headers["Content-Type"] == site_json(slug)["content_type"]
        folder = replica.columns[0].path
        assert _get(replica.base_url + folder)[1] == _get(replica.base_url + folder + "index.shtml")[1]
        assert _get(replica.base_url + folder + f"index_{replica.columns[0].pages()}.shtml")[0] == 404


def test_the_replica_answers_conditional_gets_and_shifts_lists(xishan):
    url = xishan.url(XISHAN_DEEP)
    status, body, headers = _get(url)
    assert status == 200 and headers["ETag"] and headers["Last-Modified"]
    assert b"http://www.xishan.example" not in body and xishan.base_url.encode() in body
    assert _get(url, {"If-None-Match": headers["ETag"]})[0] == 304
    assert _get(url, {"If-Modified-Since": headers["Last-Modified"]})[0] == 304
    page_2 = xishan.url("xxgk/zfxxgkml/jytabl/zxwyta/index_1.shtml")
    before = _get(page_2)[1]
    record = {"path": "/xxgk/zfxxgkml/jytabl/zxwyta/202210/t20221010_3525001.shtml", "title": "新的答复函",
              "date": "2022-10-10"}
    xishan.publish("zxwyta", record, xishan.page(XISHAN_DEEP))
    after = _get(page_2)[1]
    assert after != before and _get(xishan.url(record["path"]))[0] == 200
    # the last record of page 1 now opens page 2
    assert after.index(b"t20220402_3483390") < after.index(b"t20220318_3480017")
    assert _get(xishan.url("robots.txt"))[1].startswith(b"User-agent: *")
