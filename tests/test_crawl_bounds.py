"""A crawl stays on its site, and says in words why a host could not be crawled."""

from __future__ import annotations

import json
import re
import socket

import pytest
from conftest import FIXTURES
from crawlkit import Crawl, Replica, archived_except

from replica import Fault

PAGE = "art/2023/9/8/art_1229395011_4090552.html"
SHENGSI = "art/2022/8/18/art_1229123456_12345678.html"
UNIT = "/api-gateway/jpaas-publish-server/front/page/build/unit"
COLUMNS = json.loads((FIXTURES / "haidao" / "site.json").read_text(encoding="utf-8"))["columns"]


@pytest.fixture
def other():
    """Another host (a port of its own on loopback): whatever reaches it was fetched off the site."""
    with Replica(FIXTURES / "shengsi") as replica:
        yield replica


def test_an_off_site_redirect_of_a_page_is_never_followed(tmp_path, other):
    with Replica(FIXTURES / "haidao") as haidao:
        haidao.inject(PAGE, Fault("redirect", times=None, location=other.url(SHENGSI)))
        crawl = Crawl(tmp_path, {"haidao": haidao})
        result = crawl.run()
        assert result.returncode == 1
        assert f"redirected off the site to {other.netloc}: not fetched" in result.stderr
        assert "0 blocked, 1 failed" in result.stderr and "Traceback" not in result.stderr
        archived_except(crawl, haidao, {PAGE})
    assert other.requests() == []


def test_off_site_redirects_of_the_list_api_and_robots_txt_are_never_followed(tmp_path, other):
    with Replica(FIXTURES / "haidao") as haidao:
        haidao.inject("/robots.txt", Fault("redirect", times=None, location=other.url("robots.txt")))
        haidao.inject(UNIT, Fault("redirect", times=1, location=other.url(UNIT)))
        crawl = Crawl(tmp_path, {"haidao": haidao})
        result = crawl.run()
        assert result.returncode == 1
        assert f"redirected off the site to {other.netloc}: not fetched" in result.stderr
        # robots.txt that leads elsewhere counts as none; the other column's list was walked (whichever
        # of the two columns asked first met the redirect)
        assert re.search(r"; (5|8) new, 0 changed", result.stderr) and "0 blocked, 1 failed" in result.stderr
    assert other.requests() == []


def test_list_entries_on_another_host_are_not_fetched_unless_the_site_names_it(tmp_path, other):
    elsewhere = {"path": other.url(SHENGSI), "title": "（第1号）别处的建议",
                 "date": "2023-10-20"}
    records = {COLUMNS[0]["column_id"]: [elsewhere, *COLUMNS[0]["records"]]}
    with Replica(FIXTURES / "haidao", records=records) as haidao:
        (tmp_path / "strict").mkdir()
        crawl = Crawl(tmp_path / "strict", {"haidao": haidao})
        result = crawl.run()
        assert result.returncode == 0, result.stderr
        assert "13 new" in result.stderr and "1 on other hosts, not fetched" in result.stderr
        assert other.requests() == []
        assert elsewhere["path"] not in crawl.records()
        # a host the site names (a CDN, the provincial attachment store) is the site's
        (tmp_path / "named").mkdir()
        named = Crawl(tmp_path / "named", {"haidao": haidao}, allowed_hosts={"haidao": [other.netloc]})
        result = named.run()
        assert result.returncode == 0, result.stderr
        assert "14 new" in result.stderr
        assert [r.path for r in other.requests() if "/art/" in r.path] == ["/" + SHENGSI]
        assert elsewhere["path"] in named.records()


def test_a_redirect_loop_is_a_reported_failure(tmp_path):
    with Replica(FIXTURES / "haidao") as haidao:
        haidao.inject(PAGE, Fault("redirect", times=None, location=haidao.url("moved/a.html")))
        haidao.inject("/moved/a.html", Fault("redirect", times=None, location=haidao.url(PAGE)))
        crawl = Crawl(tmp_path, {"haidao": haidao})
        result = crawl.run()
        assert result.returncode == 1
        assert "redirect loop: " in result.stderr and "0 blocked, 1 failed" in result.stderr
        archived_except(crawl, haidao, {PAGE})


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_a_host_that_cannot_be_resolved_is_given_up_at_once(tmp_path):
    columns = [f"http://www.offline.example/col/col{n}/index.html" for n in (1, 2, 3)]
    crawl = Crawl(tmp_path, {}, extra_sites=f'[sites.offline]\nname = "离线县"\ncolumns = {json.dumps(columns)}\n')
    result = crawl.run("offline", may_look_up=frozenset({"www.offline.example"}))
    assert result.returncode == 1
    assert result.stderr.count("\n") <= 4 and "Traceback" not in result.stderr
    assert "www.offline.example: 3 × DNS lookup failed — offline?" in result.stderr
    # robots.txt was looked up twice (once more in case the resolver hiccuped), then the host was given up
    lookups = crawl.attempts.read_text(encoding="utf-8").splitlines()
    assert len(lookups) <= 2, lookups
    assert "log: " in result.stderr and "DNS lookup failed" in crawl.log_text()


def test_a_host_refusing_connections_is_given_up(tmp_path):
    port = _closed_port()
    columns = [f"http://127.0.0.1:{port}/col/col{n}/index.html" for n in (1, 2)]
    crawl = Crawl(tmp_path, {}, extra_sites=f'[sites.down]\nname = "down"\ncolumns = {json.dumps(columns)}\n')
    result = crawl.run("down")
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert f"127.0.0.1:{port}: 2 × connection refused" in result.stderr


@pytest.mark.parametrize(("fault", "cause"), [
    (Fault("status", times=None, status=503), "robots.txt unreachable: HTTP 503 (server error)"),
    (Fault("slow", times=None, delay=4.0), "robots.txt unreachable: timed out"),
], ids=["5xx", "timeout"])
def test_a_robots_txt_that_cannot_be_read_means_the_host_is_not_crawled(tmp_path, fault, cause):
    with Replica(FIXTURES / "haidao") as haidao:
        haidao.inject("/robots.txt", fault)
        crawl = Crawl(tmp_path, {"haidao": haidao})
        result = crawl.run()
        assert result.returncode == 1 and "Traceback" not in result.stderr
        assert f"{haidao.netloc}: 2 × {cause}" in result.stderr
        assert {r.path for r in haidao.requests()} == {"/robots.txt"}


def _guarded_python(tmp_path, code: str) -> list[str]:
    import subprocess
    import sys

    from crawlkit import HERE, guard_env

    notes = tmp_path / "notes.txt"
    boot = f"import sys; sys.path.insert(0, {str(HERE)!r}); import netguard; netguard.install({str(notes)!r}); "
    subprocess.run([sys.executable, "-c", boot + code], check=True, env=guard_env(tmp_path), capture_output=True)
    return notes.read_text(encoding="utf-8").splitlines() if notes.exists() else []


def test_the_guard_catches_a_public_suffix_list_download(tmp_path):
    # what Scrapy's cookie handling does on its own: tldextract fetches the list on first use
    tried = _guarded_python(tmp_path, "from tldextract import TLDExtract; TLDExtract()('www.haidao.example')")
    assert "lookup publicsuffix.org" in tried


def test_cookies_use_the_bundled_public_suffix_list(tmp_path):
    tried = _guarded_python(tmp_path, "import crawler.middlewares; from scrapy.downloadermiddlewares import cookies; "
                                      "assert not cookies._is_public_domain('www.haidao.example'); "
                                      "assert cookies._is_public_domain('gov.cn')")
    assert tried == []


def test_a_crawl_with_cookies_reaches_nothing_but_its_site(tmp_path):
    with Replica(FIXTURES / "haidao") as haidao:  # its column pages set a session cookie, as real ones do
        crawl = Crawl(tmp_path, {"haidao": haidao})
        result = crawl.run()  # Crawl.run fails on any lookup or connection beyond loopback
        assert result.returncode == 0, result.stderr
        assert crawl.attempts.exists() is False or crawl.attempts.read_text(encoding="utf-8") == ""
