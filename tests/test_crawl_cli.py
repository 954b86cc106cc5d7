"""`proposals crawl` and `proposals sites`: usage errors, ad-hoc columns, the log, the display;
`scrapy crawl proposals` from a checkout (Ctrl-C and kills: test_crawl_resume.py)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import FIXTURES
from crawlkit import FAST, Crawl, Replica, expected_at, fixture_paths, guard_env, guarded
from sqlalchemy import select

from archive.db import session_factory
from archive.models import CrawlRun

ROOT = Path(__file__).resolve().parent.parent


def proposals(*args: str, tmp: Path | None = None, **kwargs) -> subprocess.CompletedProcess:
    """`proposals ARGS`; under the network guard when given a directory for its notes (crawls)."""
    if tmp is None:
        command = [sys.executable, "-m", "cli", *args]
    else:
        command, kwargs["env"] = guarded(list(args), tmp / "offloopback.txt"), guard_env(tmp)
    result = subprocess.run(command, capture_output=True, text=True, check=False, timeout=120, **kwargs)
    if tmp is not None:
        notes = tmp / "offloopback.txt"
        assert not notes.exists() or not notes.read_text(encoding="utf-8"), notes.read_text(encoding="utf-8")
    return result


@pytest.mark.parametrize(("args", "message"), [
    (["crawl"], "nothing to crawl"),
    (["crawl", "atlantis"], "unknown site: atlantis"),
    (["crawl", "--all", "--sites", "no/such/sites.toml"], "no such sites file"),
    (["crawl", "--url", "not-a-url"], "absolute column URL"),
    (["crawl", "--url", "http://127.0.0.1:9/x", "--set", "oops"], "NAME=VALUE"),
    (["sites", "list", "--sites", "no/such/sites.toml"], "no such sites file"),
])
def test_bad_usage_exits_2(tmp_path, args, message):
    result = proposals(*args, "--db", str(tmp_path / "x.db"), tmp=tmp_path) if args[0] == "crawl" \
        else proposals(*args)
    assert result.returncode == 2
    assert message in result.stderr and "Traceback" not in result.stderr


def test_a_sites_file_that_is_not_toml(tmp_path):
    bad = tmp_path / "sites.toml"
    bad.write_text("[sites.x\ncolumns = 1", encoding="utf-8")
    result = proposals("sites", "list", "--sites", str(bad))
    assert result.returncode == 2 and "not valid TOML" in result.stderr
    bad.write_text('[sites.x]\nname = "x"\ncolumns = ["relative/path"]\n', encoding="utf-8")
    assert "absolute URLs" in proposals("sites", "list", "--sites", str(bad)).stderr


def test_sites_list_shows_the_registry_and_yours(tmp_path):
    mine = tmp_path / "mine.toml"
    mine.write_text('[sites.qiandao]\nname = "千岛县人民政府"\n'
                    'columns = ["http://127.0.0.1:8123/col/col1229511203/index.html?number=W001-002"]\n',
                    encoding="utf-8")
    result = proposals("sites", "list", "--sites", str(mine))
    assert result.returncode == 0
    assert "zhoushan\t舟山市人民政府\tdetected\thttps://www.zhoushan.gov.cn/col/col1229895726/index.html" \
        in result.stdout
    assert "qiandao\t千岛县人民政府\tdetected\thttp://127.0.0.1:8123/col/col1229511203/index.html?number=W001-002" \
        in result.stdout


def test_all_means_the_sites_of_your_file(tmp_path):
    with Replica(FIXTURES / "shengsi") as replica:
        crawl = Crawl(tmp_path, {"shengsi": replica})
        result = crawl.run("--all")
        assert result.returncode == 0, result.stderr
        assert "crawled 1 site:" in result.stderr  # not the shipped zhoushan


def test_a_column_url_without_a_registry(tmp_path):
    with Replica(FIXTURES / "gucheng") as replica:
        db = tmp_path / "adhoc.db"
        assert proposals("db", "upgrade", "--db", str(db)).returncode == 0
        sets = [x for k, v in FAST.items() for x in ("--set", f"{k}={v}")]
        result = proposals("crawl", "--url", replica.column_urls[0], "--db", str(db), *sets, tmp=tmp_path)
        assert result.returncode == 0, result.stderr
        assert "6 new" in result.stderr
        crawl = Crawl.__new__(Crawl)
        crawl.db = db
        records = crawl.records()
        for rel in fixture_paths("gucheng"):
            assert records[replica.url(rel)] == expected_at(replica, rel)


def test_a_column_url_of_an_archived_site_joins_that_site(tmp_path):
    from archive.models import Site

    with Replica(FIXTURES / "shengsi") as replica:
        crawl = Crawl(tmp_path, {"shengsi": replica})
        assert crawl.run().returncode == 0
        sets = [x for k, v in FAST.items() for x in ("--set", f"{k}={v}")]
        result = proposals("crawl", "--url", replica.column_urls[0], "--db", str(crawl.db), *sets, tmp=tmp_path)
        assert result.returncode == 0, result.stderr
        assert "0 new" in result.stderr
    with session_factory(crawl.engine())() as session:
        assert session.scalars(select(Site.slug)).all() == ["shengsi"]
        assert len(session.scalars(select(CrawlRun)).all()) == 2


def test_the_log_goes_beside_the_archive_or_where_told(tmp_path):
    with Replica(FIXTURES / "shengsi") as replica:
        crawl = Crawl(tmp_path, {"shengsi": replica})
        result = crawl.run()
        assert result.returncode == 0, result.stderr
        assert f"log: {tmp_path / 'archive.crawl.log'}" in result.stderr
        assert "[scrapy.core.engine] INFO: Spider closed (finished)" in crawl.log_text()
        assert "[scrapy" not in result.stderr  # Scrapy's log is not the console's
        elsewhere = tmp_path / "logs" / "night.log"
        result = crawl.run(f"--log={elsewhere}")
        assert result.returncode == 0 and elsewhere.read_text(encoding="utf-8").count("Spider closed") == 1
        # the summary: counts, then the time taken and the rate
        lines = result.stderr.strip().splitlines()
        assert lines[0].startswith("crawled 1 site: 1 listed") and lines[-1].startswith("took 0:00:")
        assert " pages, " in lines[-1] and " a minute" in lines[-1]


def test_the_live_display_shows_elapsed_time_and_rate():
    import datetime as dt
    from collections import Counter

    from rich.console import Console

    from commands.crawling import _crawl_table
    from crawler.sites import SiteConfig
    from crawler.state import Clock, CrawlState, SiteState

    site = SiteState(SiteConfig("qiandao", "千岛", ("http://x.example/col/col1/index.html",)), 1, 1, {},
                     counts=Counter(listed=40, fetched=30, not_modified=6, new=30))
    state = CrawlState(None, {"qiandao": site}, False, 730, 30, Clock(), dt.datetime.now(dt.UTC))
    console = Console(width=120, record=True)
    console.print(_crawl_table(state, 90.0))
    shown = console.export_text()
    assert "qiandao" in shown and "0:01:30 elapsed" in shown and "36 pages, 24 a minute" in shown


def _scrapy(tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    notes = tmp_path / "offloopback.txt"
    result = subprocess.run(guarded(["crawl", "proposals", *args], notes, module="scrapy"), cwd=ROOT,
                            capture_output=True, text=True, check=False, timeout=120, env=guard_env(tmp_path))
    assert not notes.exists() or not notes.read_text(encoding="utf-8")
    return result


def test_scrapy_crawl_from_a_checkout_writes_the_archive_and_a_feed(tmp_path):
    with Replica(FIXTURES / "haidao") as replica:
        crawl = Crawl(tmp_path, {"haidao": replica})
        sets = [x for k, v in FAST.items() for x in ("-s", f"{k}={v}")]
        feed = tmp_path / "items.jsonl"
        result = _scrapy(tmp_path, "-a", "sites=haidao", "-a", f"sites_file={crawl.sites}",
                         "-s", f"PROPOSALS_DB={crawl.db}", "-o", str(feed), *sets)
        assert result.returncode == 0, result.stderr[-3000:]
        items = [json.loads(line) for line in feed.read_text(encoding="utf-8").splitlines()]
        assert len(items) == 13 and all(item["site"] == "haidao" for item in items)
        by_url = {item["url"]: item for item in items}
        for rel in fixture_paths("haidao"):
            expected = expected_at(replica, rel)
            assert {k: v for k, v in by_url[expected["url"]].items() if k not in ("site", "fetched_at")} == expected
        assert len(crawl.records()) == 13


@pytest.mark.parametrize(("args", "message"), [
    (["-a", "sites=atlantis"], "error: unknown site: atlantis (known: "),
    ([], "error: nothing to crawl: give -a sites=SLUG"),
    (["-a", "sites=x", "-a", "sites_file=no/such.toml"], "error: no such sites file: no/such.toml"),
])
def test_scrapy_crawl_with_bad_arguments_says_so_in_one_line(tmp_path, args, message):
    result = _scrapy(tmp_path, *args, "-s", f"PROPOSALS_DB={tmp_path / 'x.db'}")
    assert result.returncode == 2
    errors = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1 and errors[0].startswith(message) and "Traceback" not in result.stderr
