"""`proposals sites discover`: from a never-seen site's home page to its proposal columns, and on to a crawl.

The sites are tests/replica_nav.py's: a JPaaS, a jpage and a TRS site, each with dozens of columns in
its navigation and decoys among them (信箱 / 信访 / 征集 columns, single articles titled like proposals,
links to another host, a matching column with an empty list, a page robots.txt forbids, a page named
like a column that is none, a parent 建议提案办理 column). Every run goes through the network guard.
"""

from __future__ import annotations

import itertools
import json
import subprocess
import tomllib
from pathlib import Path

import pytest
from conftest import site_json
from crawlkit import FAST, Crawl, expected_at, fixture_paths, guard_env, guarded
from replica_nav import OTHER_HOST, jpaas_site, jpage_site, trs_site

from crawler.discover import column_key, discover_settings, page_links, site_name, slug_for
from crawler.parsers.labels import column_name, excluded_name, fold_name
from crawler.sites import FoundSite, SitesError, load_file, merge_into, read_for_writing, render

SITES = {"hanweb-jpaas": jpaas_site, "hanweb-jpage": jpage_site, "trs-static": trs_site}
NAMES = {"hanweb-jpaas": "海岛县人民政府", "hanweb-jpage": "古城县人民政府", "trs-static": "溪山县人民政府"}


def _sets(settings: dict[str, str]) -> list[str]:
    return [item for name, value in settings.items() for item in ("--set", f"{name}={value}")]


def discover(tmp_path: Path, *args: str, settings: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """`proposals sites discover ARGS` under the network guard (loopback speed unless `settings` say)."""
    attempts = tmp_path / "offloopback.txt"
    command = guarded(["sites", "discover", *args, *_sets(FAST if settings is None else settings)], attempts)
    result = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False,
                            env=guard_env(tmp_path))
    tried = attempts.read_text(encoding="utf-8").splitlines() if attempts.exists() else []
    assert not tried, f"discovery reached beyond loopback: {tried}"
    return result


def _letters(replica) -> list[str]:
    """The fixture pages a crawl of the site's proposal columns must archive (TRS: its letters)."""
    if replica.platform == "trs-static":
        return [r["path"].lstrip("/") for c in site_json(replica.dir.name)["columns"] for r in c["records"]
                if r.get("record", True)]
    return fixture_paths(replica.dir.name)


# --- the table and the pure helpers ---------------------------------------------------------------------


@pytest.mark.parametrize(("text", "name"), [
    ("人大代表建议办理", "人大代表建议"), ("政协委员提案办理", "政协委员提案"), ("建议提案办理", "建议提案"),
    ("人大代表　建议 办理", "人大代表建议"), ("ＸＸ县政协委员提案（２０２３）", "政协委员提案"),
    ("建议提案复文", "建议提案"), ("代表建议", "代表建议"), ("委员提案", "委员提案"), ("议案建议办理", "议案建议"),
    ("政策解读", None), ("意见建议征集", None), ("县长信箱", None), ("政府信息公开", None),
])
def test_the_table_knows_proposal_column_names_folded(text, name):
    assert column_name(text) == name


def test_mailboxes_petitions_and_consultations_are_no_columns():
    assert [excluded_name(t) for t in ("人大代表建议信箱", "代表建议信访件", "政协委员提案征集", "人大代表建议办理")] \
        == ["信箱", "信访", "征集", None]
    assert fold_name("人大代表　建议·办理（2023）") == "人大代表建议办理2023"


def test_slugs_names_and_keys():
    assert slug_for("https://www.shengsi.gov.cn/") == "shengsi"
    assert slug_for("http://zjj.jianglin.example/index.html") == "zjj-jianglin"
    assert slug_for("http://127.0.0.1:8123/") == "site-127-0-0-1-8123"
    assert site_name("<title>政府信息公开_海岛县人民政府</title>") == "海岛县人民政府"
    assert site_name('<meta name="SiteName" content="溪山县人民政府"><title>首页</title>') == "溪山县人民政府"
    assert column_key("http://H:1/a/zxwyta/index.shtml") == column_key("http://h:1/a/zxwyta/")
    assert column_key("http://h/col/col1/index.html?number=W1") != column_key("http://h/col/col1/index.html?number=W2")


def test_links_know_the_tree_node_they_sit_under():
    markup = ('<ul><li><a href="/p">建议提案办理</a><ul><li><a href="/a">人大代表建议</a></li>'
              '<li><a href="b#x">政协委员提案</a></li></ul></li><li><a href="javascript:;">更多</a></li></ul>')
    assert page_links(markup, "http://h/x/") == [("http://h/p", "建议提案办理", None),
                                                 ("http://h/a", "人大代表建议", "http://h/p"),
                                                 ("http://h/x/b", "政协委员提案", "http://h/p")]


def test_frames_and_titles():
    from crawler.discover import frame_sources, nav_score

    assert page_links('<a href="/a" title="人大代表建议办理">人大代表建...</a>', "http://h/") == [
        ("http://h/a", "人大代表建议办理", None)]
    assert frame_sources('<iframe src="tree.html#t"></iframe><frame src="javascript:;">', "http://h/x/") == [
        "http://h/x/tree.html"]
    assert nav_score("法定主动公开内容", "http://h/a/") > nav_score("政府信息公开", "http://h/a/") > 0
    assert nav_score("依申请公开", "http://h/a/") == nav_score("新闻中心", "http://h/a/") == 0
    assert nav_score("", "http://h/xxgk/", "http://h/") == 1
    assert nav_score("", "http://h/xxgk/zcwj/", "http://h/xxgk/") == 0  # inside, every link has it


def test_discovery_walks_with_the_crawlers_politeness():
    settings = discover_settings()
    assert settings.getbool("ROBOTSTXT_OBEY") and settings.getfloat("DOWNLOAD_DELAY") == 1.0
    assert settings.getbool("AUTOTHROTTLE_ENABLED") and settings["USER_AGENT"].startswith("proposal-archive/")
    assert settings.getdict("ITEM_PIPELINES") == {}
    assert discover_settings({"DOWNLOAD_DELAY": "0"}).getfloat("DOWNLOAD_DELAY") == 0


# --- sites files -------------------------------------------------------------------------------------------


FOUND = FoundSite("haidao", "海岛县人民政府", ("http://127.0.0.1:9/col/col1/index.html?number=W001-001",
                                               "http://127.0.0.1:9/col/col2/index.html"), "hanweb-jpaas")


def test_the_block_is_a_sites_file(tmp_path):
    path = tmp_path / "s.toml"
    path.write_text(render([FOUND]), encoding="utf-8")
    site = load_file(path)["haidao"]
    assert (site.name, site.columns, site.platform) == (FOUND.name, FOUND.columns, "hanweb-jpaas")


def test_write_merges_and_keeps_what_is_there(tmp_path):
    path = tmp_path / "s.toml"
    path.write_text('# my sites\n[sites.zhoushan]\nname = "舟山"  # kept\ncolumns = ["https://z.example/col/col7/index.html"]\n'
                    '\n[sites.haidao]\nname = "海岛（旧）"\ncolumns = ["http://127.0.0.1:9/col/col2/index.html"]\n'
                    'allowed_hosts = ["oss.example"]\n', encoding="utf-8")
    other = FoundSite("haidao", "别的站", ("http://127.0.0.1:10/a/index.shtml",))
    assert merge_into(path, [FOUND, other]) == ["[sites.haidao] was there: 1 new column added",
                                                "added [sites.haidao-2] with 1 column"]
    text = path.read_text(encoding="utf-8")
    assert text.startswith('# my sites\n[sites.zhoushan]\nname = "舟山"  # kept\n')
    sites = load_file(path)
    assert sites["zhoushan"].columns == ("https://z.example/col/col7/index.html",)
    assert sites["haidao"].name == "海岛（旧）" and sites["haidao"].allowed_hosts == ("oss.example",)
    assert sites["haidao"].columns == ("http://127.0.0.1:9/col/col2/index.html", FOUND.columns[0])
    assert sites["haidao-2"].columns == other.columns
    assert merge_into(path, [FOUND]) == ["[sites.haidao] was there: 0 new columns added"]
    assert path.read_text(encoding="utf-8") == text


@pytest.mark.parametrize("content", ["[sites.x\n", '[tool]\nname = "x"\n', '[sites.x]\nname = "x"\ncolumns = 3\n'])
def test_write_refuses_files_that_are_no_sites_files(tmp_path, content):
    path = tmp_path / "s.toml"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(SitesError):
        read_for_writing(path)
    with pytest.raises(SitesError):
        merge_into(path, [FOUND])
    assert path.read_text(encoding="utf-8") == content


# --- never-seen sites of each platform --------------------------------------------------------------------


@pytest.mark.parametrize("platform", list(SITES))
def test_discover_prints_exactly_the_proposal_columns(tmp_path, platform):
    with SITES[platform]() as nav:
        result = discover(tmp_path, nav.home, "-v")
        requested = [r.path for r in nav.replica.requests()]
    assert result.returncode == 0, result.stderr
    sites = tomllib.loads(result.stdout)["sites"]
    slug = slug_for(nav.home)
    assert sites == {slug: {"name": NAMES[platform], "columns": nav.expected, "platform": platform}}
    err = result.stderr
    assert f"{nav.home}: {len(nav.expected)} proposal column" in err
    for column in nav.expected:
        assert f"kept {column} (" in err
    # every decoy dropped, and why
    assert "(人大代表建议信箱): a 信箱 column, not proposals" in err
    assert "(代表建议信访件办理): a 信访 column, not proposals" in err
    assert "(政协委员提案征集): a 征集 column, not proposals" in err
    assert f"dropped {OTHER_HOST}/col/col2/index.html (人大代表建议办理（市本级）): on another host" in err
    assert "(建议提案办理内部件): forbidden by robots.txt" in err
    assert "(建议提案办理专题): not a column page of a known platform" in err
    assert "(我县召开人大代表建议和政协委员提案交办会): a single article" in err
    assert "but its list is empty" in err
    assert "(建议提案办理): a parent column: its sub-columns are kept" in err
    # never asked: what robots.txt forbids, what a verdict could give without fetching
    assert not [p for p in requested if p.startswith(("/private/", "/col/col910", "/art/2023/3/2/"))], requested
    assert "/robots.txt" in requested


def test_discover_then_crawl_archives_every_record(tmp_path):
    """One discovery of three sites into an existing sites file, then one crawl of that file."""
    with jpaas_site() as jpaas, jpage_site() as jpage, trs_site() as trs:
        navs = (jpaas, jpage, trs)
        crawl = Crawl(tmp_path, {})
        crawl.sites.write_text("# my file\n", encoding="utf-8")
        result = discover(tmp_path, *(nav.home for nav in navs), "--write", str(crawl.sites))
        assert result.returncode == 0, result.stderr
        written = load_file(crawl.sites)
        assert {slug: site.columns for slug, site in written.items()} == {
            slug_for(nav.home): tuple(nav.expected) for nav in navs}
        assert crawl.sites.read_text(encoding="utf-8").startswith("# my file\n")
        crawled = crawl.run("--all")
        assert crawled.returncode == 0, crawled.stderr
    records = crawl.records()
    expected = {}
    for nav in navs:
        expected |= {nav.replica.url(rel): expected_at(nav.replica, rel) for rel in _letters(nav.replica)}
    assert len(expected) == 13 + 6 + len(_letters(trs.replica))
    assert set(records) == set(expected)
    for url, record in expected.items():
        assert records[url] == record, url


def test_json_output(tmp_path):
    with jpage_site() as nav:
        result = discover(tmp_path, nav.home, "--format", "json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == [{"slug": slug_for(nav.home), "name": "古城县人民政府",
                                          "platform": "hanweb-jpage", "columns": nav.expected,
                                          "start_url": nav.home}]


def test_discovery_from_the_disclosure_index(tmp_path):
    with trs_site() as nav:
        result = discover(tmp_path, nav.replica.url("/xxgk/zfxxgkml/index.shtml"))
    assert result.returncode == 0, result.stderr
    (site,) = tomllib.loads(result.stdout)["sites"].values()
    assert site["columns"] == nav.expected and site["name"] == "溪山县人民政府"


# --- nothing found, bounds, politeness, bad usage ---------------------------------------------------------


def test_no_columns_is_exit_1_with_the_reason(tmp_path):
    with jpage_site() as nav:
        nav.replica.pages["/"] = "<html><head><title>古城县人民政府</title></head><body>新闻</body></html>".encode()
        result = discover(tmp_path, nav.home)
    assert result.returncode == 1
    assert result.stdout == ""
    said = f"error: {nav.home}: no proposal column found: no link named a proposal column in the 1 pages looked at"
    assert said in result.stderr


def test_the_page_budget_bounds_the_walk(tmp_path):
    with jpaas_site() as nav:
        result = discover(tmp_path, nav.home, "--max-pages", "2", "-v")
        pages = [r.path for r in nav.replica.requests() if r.path != "/robots.txt"]
    assert result.returncode == 1
    assert pages == ["/", "/col/col1229000100/index.html"]
    assert "not looked at, the page budget ran out" in result.stderr
    assert "none of" in result.stderr.splitlines()[-1]


def test_a_site_that_is_down_is_exit_1(tmp_path):
    with jpage_site() as nav:
        home = nav.home
    result = discover(tmp_path, home)
    assert result.returncode == 1
    assert f"error: {home}: no proposal column found: the start page {home}" in result.stderr


def test_the_delay_is_kept_between_pages(tmp_path):
    """The shipped delay, shortened (Scrapy waits 0.5 to 1.5 times DOWNLOAD_DELAY between requests to a host)."""
    with jpage_site() as nav:
        result = discover(tmp_path, nav.home, settings={"DOWNLOAD_DELAY": "0.2", "AUTOTHROTTLE_ENABLED": "False",
                                                        "CONCURRENT_REQUESTS_PER_DOMAIN": "1"})
        times = [r.at for r in nav.replica.requests() if r.path != "/robots.txt"]
    assert result.returncode == 0, result.stderr
    gaps = [later - earlier for earlier, later in itertools.pairwise(times)]
    assert len(gaps) >= 5 and min(gaps) >= 0.09, gaps


@pytest.mark.parametrize("args", [["notaurl"], ["ftp://h/"], [], ["http://h/", "--format", "xml"],
                                  ["http://h/", "--max-pages", "0"]])
def test_bad_usage_is_exit_2(tmp_path, args):
    result = discover(tmp_path, *args)
    assert result.returncode == 2
    assert result.stderr.startswith("error: ") and "Traceback" not in result.stderr


def test_a_bad_sites_file_is_refused_before_the_walk(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text("[sites.x\n", encoding="utf-8")
    with jpage_site() as nav:
        result = discover(tmp_path, nav.home, "--write", str(bad))
        asked = nav.replica.requests()
    assert result.returncode == 2 and "is not valid TOML" in result.stderr
    assert asked == [] and bad.read_text(encoding="utf-8") == "[sites.x\n"


def test_a_column_of_one_kind_holds_no_peer():
    from crawler.discover import may_hold

    assert may_hold("建议提案办理", "政协委员提案") and may_hold("建议提案办理", "人大代表建议")
    assert may_hold("人大代表建议", "2019年人大代表建议")
    assert not may_hold("人大代表建议办理", "政协委员提案办理")


def test_start_pages_of_one_site_make_one_table():
    from crawler.discover import KEPT, Candidate, Finding, found_sites

    def finding(start: str, *columns: str, platform: str = "trs-static") -> Finding:
        made = Finding(start, name="溪山县人民政府")
        for url in columns:
            made.candidates[url] = Candidate(url, "人大代表建议", start, status=KEPT, platform=platform)
        return made

    found, starts = found_sites([finding("http://www.a.example/", "http://www.a.example/x/"),
                                 finding("http://www.a.example/xxgk/", "http://www.a.example/x/",
                                         "http://www.a.example/y/", platform="hanweb-jpage"),
                                 finding("http://a.example/", "http://a.example/z/"),
                                 finding("http://www.b.example/")])
    assert found == {"a": FoundSite("a", "溪山县人民政府", ("http://www.a.example/x/", "http://www.a.example/y/")),
                     "a-2": FoundSite("a-2", "溪山县人民政府", ("http://a.example/z/",), "trs-static")}
    assert starts == {"a": "http://www.a.example/", "a-2": "http://a.example/"}
