"""Injected faults lose no record that could be fetched; blocks are reported, kept, never archived as records.

The block backoff is the shipped one (30 s) in every test here: a blocked page costs its host one
backoff, once, and the crawl goes on.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import re
import zlib

import pytest
from conftest import FIXTURES
from crawlkit import Crawl, Replica, archived_except, expected_at
from sqlalchemy import select

from archive.db import session_factory
from archive.models import Capture, CrawlRun
from replica import Fault, Variant

PAGE = "art/2023/9/8/art_1229395011_4090552.html"
OTHER = "art/2023/9/22/art_1229395011_4096107.html"
THIRD = "art/2023/8/30/art_1229395011_4087260.html"
FOURTH = "art/2023/8/11/art_1229395011_4079934.html"
UNIT = "/api-gateway/jpaas-publish-server/front/page/build/unit"


@pytest.fixture
def haidao():
    with Replica(FIXTURES / "haidao") as replica:
        yield replica


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
    archived_except(crawl, haidao, set())
    assert len([r for r in haidao.requests() if r.path == "/" + PAGE]) == attempts


# each kind of fault on a host of its own (127.0.0.1 … 127.0.0.4): what one host's backoff costs
# is tested below; here the four backoffs run side by side, as they would on four counties' hosts
KINDS = {"ruishu": (PAGE, "blocked by a Ruishu challenge (HTTP 412", "blocked"),
         "jsl": (OTHER, "blocked by a JiaSuLe challenge (HTTP 521", "blocked"),
         "too-frequent": (THIRD, "blocked: block page saying 访问受限", "blocked"),
         "truncate": (FOURTH, "truncated body", "failed")}


def test_blocked_pages_are_reported_kept_and_never_records(tmp_path):
    with contextlib.ExitStack() as stack:
        sites = {kind: stack.enter_context(Replica(FIXTURES / "haidao", host=f"127.0.0.{n}"))
                 for n, kind in enumerate(KINDS, 1)}
        for kind, (rel, _, _) in KINDS.items():
            sites[kind].inject(rel, Fault(kind, times=None))
        crawl = Crawl(tmp_path, {kind.replace("-", "_"): site for kind, site in sites.items()})
        result = crawl.run()
        assert result.returncode == 1
        assert "48 new" in result.stderr and "3 blocked, 1 failed" in result.stderr
        assert "Traceback" not in result.stderr
        captures = _captures(crawl)
        for kind, (rel, reason, outcome) in KINDS.items():
            site = sites[kind]
            # the summary names each host and its cause, in words
            host_line = next(line for line in result.stderr.splitlines() if line.strip().startswith(site.netloc))
            assert reason in host_line, kind
            archived_except(crawl, site, {rel})
            (capture,) = captures[site.url(rel)]
            assert capture.outcome == outcome and reason in capture.error, kind
            assert zlib.decompress(capture.body)  # kept for inspection
        # a challenge page is asked again once; a cut body is retried like a dropped connection
        asked = {kind: len([r for r in sites[kind].requests() if r.path == "/" + rel])
                 for kind, (rel, _, _) in KINDS.items()}
        assert asked == {"ruishu": 2, "jsl": 2, "too-frequent": 2, "truncate": 4}
        with session_factory(crawl.engine())() as session:
            runs = session.scalars(select(CrawlRun)).all()
            assert sorted((run.status, run.blocked, run.failed, run.new) for run in runs) == \
                [("incomplete", 0, 1, 12)] + [("incomplete", 1, 0, 12)] * 3
        # the next crawl asks again, and archives the pages once the blocks are gone
        for site in sites.values():
            site.faults.clear()
        result = crawl.run()
        assert result.returncode == 0, result.stderr
        for site in sites.values():
            archived_except(crawl, site, set())


def test_a_page_failing_for_good_is_reported_and_the_rest_archived(tmp_path, haidao):
    haidao.inject(PAGE, Fault("status", times=None, status=500))
    crawl = Crawl(tmp_path, {"haidao": haidao})
    result = crawl.run()
    assert result.returncode == 1
    assert "12 new" in result.stderr and "0 blocked, 1 failed" in result.stderr
    assert f"{haidao.netloc}: 1 × HTTP 500 (server error)" in result.stderr
    archived_except(crawl, haidao, {PAGE})
    assert haidao.url(PAGE) not in _captures(crawl)  # nothing was fetched, nothing is kept


def test_a_blocked_list_is_reported(tmp_path, haidao):
    haidao.inject(UNIT, Fault("ruishu", times=None))
    crawl = Crawl(tmp_path, {"haidao": haidao})
    result = crawl.run()
    assert result.returncode == 1
    assert "0 new" in result.stderr and "2 blocked" in result.stderr
    assert "blocked by a Ruishu challenge" in result.stderr


def test_a_block_backs_the_host_off_once_and_it_eases_back(tmp_path):
    from replica import copies

    listed, pages, _ = copies(FIXTURES / "haidao", 30)
    site = json.loads((FIXTURES / "haidao" / "site.json").read_text(encoding="utf-8"))
    first, second = (c["column_id"] for c in site["columns"])
    with Replica(FIXTURES / "haidao", records={first: listed, second: []}, pages=pages) as replica:
        replica.inject(listed[13]["path"], Fault("ruishu", times=None))  # among the first asked
        crawl = Crawl(tmp_path, {"haidao": replica})
        # one request at a time, 0.2 s apart: most pages are still to come when the block happens
        result = crawl.run(settings={"CONCURRENT_REQUESTS_PER_DOMAIN": "1", "DOWNLOAD_DELAY": "0.2"})
        log = replica.requests()
    assert result.returncode == 1 and "1 blocked" in result.stderr
    backoffs = re.findall(r"backing off (\S+): ([\d.]+) s between requests", crawl.log_text())
    assert backoffs == [(replica.netloc, "30.0")]  # once (a host: name and port), never doubled
    blocked = [i for i, r in enumerate(log) if r.status == 412]
    assert len(blocked) == 2  # asked once more after the backoff, then reported
    assert log[blocked[1]].at - log[blocked[0]].at >= 30
    # after the block the host waited (30 s, give or take half), then less and less, then not at all
    gaps = [b.at - a.at for a, b in itertools.pairwise(log[blocked[0]:])]
    assert len(gaps) >= 10 and gaps[0] >= 15 and max(gaps[-5:]) < 5, gaps
    assert sum(gaps) < 150  # the backoff punished one page, not the rest of the crawl


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
        assert "forbidden by robots.txt" in result.stderr


# --- the same faults on a site never seen, with every polite default ---------------------------------


def test_a_faulty_night_on_an_unseen_site_with_polite_defaults(tmp_path):
    """20 records, six faulty pages: 500s, a Ruishu 412, a JiaSuLe 521, a 200 访问过于频繁 page, a cut
    body, a slow page. Shipped settings throughout (delay, AutoThrottle, robots.txt, backoffs)."""
    from replica import copies

    listed, pages, source = copies(FIXTURES / "haidao", 20)
    site = json.loads((FIXTURES / "haidao" / "site.json").read_text(encoding="utf-8"))
    first, second = (c["column_id"] for c in site["columns"])
    variant = Variant(query_data="bare", node_id="query", pager="count-only", list_markup="bt-left")
    with Replica(FIXTURES / "haidao", records={first: listed, second: []}, pages=pages, variant=variant) as replica:
        paths = [r["path"] for r in listed]
        faults = {paths[1]: Fault("status", times=2, status=500), paths[4]: Fault("ruishu", times=None),
                  paths[8]: Fault("jsl", times=None), paths[11]: Fault("too-frequent", times=None),
                  paths[14]: Fault("truncate", times=1), paths[17]: Fault("slow", times=1, delay=5.0)}
        for path, fault in faults.items():
            replica.inject(path, fault)
        crawl = Crawl(tmp_path, {"unseen": replica})
        result = crawl.run(fast=False, timeout=600)
        assert result.returncode == 1
        assert "17 new" in result.stderr and "3 blocked, 0 failed" in result.stderr, result.stderr
        assert "Traceback" not in result.stderr
        for reason in ("blocked by a Ruishu challenge", "blocked by a JiaSuLe challenge", "block page saying 访问受限"):
            assert reason in result.stderr
        blocked = {paths[4], paths[8], paths[11]}
        records = crawl.records()
        for path in paths:  # every fetchable record whole, no block page a record
            if path in blocked:
                assert replica.url(path) not in records
            else:
                assert records[replica.url(path)] == expected_at(replica, source[path], path), path
        assert len(re.findall(r"backing off ", crawl.log_text())) == 3  # each blocked page once
        replica.faults.clear()
        result = crawl.run(fast=False, timeout=600)  # a clean night completes the archive
        assert result.returncode == 0, result.stderr
        assert "3 new" in result.stderr
        assert len(crawl.records()) == 20


# --- broken list answers -----------------------------------------------------------------------------


@pytest.mark.parametrize(("fault", "reason"), [
    (Fault("bad-json", page=2), "list page 2: not a JPaaS list answer: not JSON"),
    (Fault("deep-json", page=2), "list page 2: not a JPaaS list answer: JSON nested absurdly deep"),
], ids=["malformed", "nested"])
def test_a_broken_list_page_is_a_failure_and_the_walk_goes_on(tmp_path, fault, reason):
    from replica import copies

    listed, pages, _ = copies(FIXTURES / "haidao", 45)  # three list pages of 15
    site = json.loads((FIXTURES / "haidao" / "site.json").read_text(encoding="utf-8"))
    first, second = (c["column_id"] for c in site["columns"])
    with Replica(FIXTURES / "haidao", records={first: listed, second: []}, pages=pages) as replica:
        replica.inject(UNIT, fault)
        crawl = Crawl(tmp_path, {"haidao": replica})
        result = crawl.run()
        assert result.returncode == 1
        assert reason in result.stderr and "Traceback" not in result.stderr
        # page 3 was still walked (the list's page count is known): the records of pages 1 and 3 are in
        assert sorted(_page_numbers(replica)) == [1, 2, 3]
        assert "30 new" in result.stderr
        # the next crawl walks the column whole again (its walk was not complete) and archives the rest
        result = crawl.run()
        assert result.returncode == 0, result.stderr
        assert "15 new" in result.stderr and len(crawl.records()) == 45


def _page_numbers(replica: Replica) -> list[int]:
    from urllib.parse import parse_qs, urlsplit

    numbers = []
    for request in replica.requests(UNIT):
        param = json.loads(parse_qs(urlsplit(request.path).query)["paramJson"][0])
        if param.get("search") and json.loads(param["search"]).get("xxgkId") == "W001-002":
            numbers.append(param["pageNo"])
    return numbers


def test_a_count_that_disagrees_with_the_list_is_a_failure(tmp_path):
    with Replica(FIXTURES / "haidao", variant=Variant(count_bias=4)) as replica:
        crawl = Crawl(tmp_path, {"haidao": replica})
        result = crawl.run()
        assert result.returncode == 1
        assert "the list states 12 records but its pages listed 8" in result.stderr
        assert "the list states 9 records but its pages listed 5" in result.stderr
        assert "13 new" in result.stderr  # what was listed is archived
        with session_factory(crawl.engine())() as session:
            from archive.models import CrawlColumn

            assert not any(c.complete for c in session.scalars(select(CrawlColumn)))


def test_a_cut_jpage_datastore_is_a_failure_and_the_next_group_is_walked(tmp_path):
    variant = Variant(per_page=1, group_size=2)
    with Replica(FIXTURES / "gucheng", variant=variant) as replica:
        replica.inject(replica.proxy_path, Fault("cut", page=2))
        crawl = Crawl(tmp_path, {"gucheng": replica})
        result = crawl.run()
        assert result.returncode == 1
        assert "a jpage list answer cut short (no </datastore>)" in result.stderr
        assert "4 new" in result.stderr  # groups 1 and 3 (2 records each); group 2 is the next crawl's
        result = crawl.run()
        assert result.returncode == 0, result.stderr
        assert "2 new" in result.stderr and len(crawl.records()) == 6
