"""`proposals crawl` and `proposals sites`: usage errors, ad-hoc columns, Ctrl-C."""

from __future__ import annotations

import signal
import subprocess
import sys
import time

import pytest
from conftest import FIXTURES
from crawlkit import FAST, Crawl, Replica, expected_at, fixture_paths
from replica import Fault
from sqlalchemy import select

from archive.db import session_factory
from archive.models import CrawlRun, Proposal


def proposals(*args: str, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "cli", *args], capture_output=True, text=True, check=False,
                          timeout=120, **kwargs)


@pytest.mark.parametrize(("args", "message"), [
    (["crawl"], "nothing to crawl"),
    (["crawl", "atlantis"], "unknown site: atlantis"),
    (["crawl", "--all", "--sites", "no/such/sites.toml"], "no such sites file"),
    (["crawl", "--url", "not-a-url"], "absolute column URL"),
    (["crawl", "--url", "http://127.0.0.1:9/x", "--set", "oops"], "NAME=VALUE"),
    (["sites", "list", "--sites", "no/such/sites.toml"], "no such sites file"),
])
def test_bad_usage_exits_2(tmp_path, args, message):
    result = proposals(*args, "--db", str(tmp_path / "x.db")) if args[0] == "crawl" else proposals(*args)
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
        result = proposals("crawl", "--url", replica.column_urls[0], "--db", str(db), *sets)
        assert result.returncode == 0, result.stderr
        assert "6 new" in result.stderr
        crawl = Crawl.__new__(Crawl)
        crawl.db = db
        records = crawl.records()
        for rel in fixture_paths("gucheng"):
            assert records[replica.url(rel)] == expected_at(replica, rel)


def test_ctrl_c_stops_cleanly_and_keeps_what_was_archived(tmp_path):
    # a column of 60 slow pages (copies of a fixture page under their own paths)
    import json

    site = json.loads((FIXTURES / "haidao" / "site.json").read_text(encoding="utf-8"))
    column = site["columns"][0]
    body = (FIXTURES / "haidao" / "pages" / "art/2023/9/8/art_1229395011_4090552.html").read_bytes()
    copies = [{"path": f"/art/2023/9/8/copy_{i}.html", "title": f"（第{i}号）关于复制页面的建议", "date": "2023-09-08"}
              for i in range(60)]
    with Replica(FIXTURES / "haidao", records={column["column_id"]: copies, site["columns"][1]["column_id"]: []},
                 pages={c["path"]: body for c in copies}) as replica:
        for copy in copies:
            replica.inject(copy["path"], Fault("slow", times=None, delay=0.5))
        crawl = Crawl(tmp_path, {"haidao": replica})
        sets = [x for k, v in (FAST | {"PROPOSALS_BATCH": "1", "CONCURRENT_REQUESTS_PER_DOMAIN": "2"}).items()
                for x in ("--set", f"{k}={v}")]
        process = subprocess.Popen([sys.executable, "-m", "cli", "crawl", "haidao", "--sites", str(crawl.sites),
                                    "--db", str(crawl.db), *sets], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                   text=True)
        deadline = time.monotonic() + 60
        while len(crawl.records()) < 3 and time.monotonic() < deadline:
            time.sleep(0.1)
        process.send_signal(signal.SIGINT)
        _out, err = process.communicate(timeout=90)
    assert process.returncode == 1
    assert "stopped: shutdown" in err and "Traceback" not in err
    records = crawl.records()
    assert 3 <= len(records) < 60
    for url, record in records.items():  # each archived record whole
        assert record["lead_sponsors"] == ["王伟"] and record["reply"]["date"] == "2023-07-12", url
    with session_factory(crawl.engine())() as session:
        run = session.scalars(select(CrawlRun)).one()
        assert run.status == "interrupted" and run.finished_at is not None
        assert run.new == session.query(Proposal).count() == len(records)


def test_a_column_url_of_an_archived_site_joins_that_site(tmp_path):
    from archive.models import Site

    with Replica(FIXTURES / "shengsi") as replica:
        crawl = Crawl(tmp_path, {"shengsi": replica})
        assert crawl.run().returncode == 0
        sets = [x for k, v in FAST.items() for x in ("--set", f"{k}={v}")]
        result = proposals("crawl", "--url", replica.column_urls[0], "--db", str(crawl.db), *sets)
        assert result.returncode == 0, result.stderr
        assert "0 new" in result.stderr
    with session_factory(crawl.engine())() as session:
        assert session.scalars(select(Site.slug)).all() == ["shengsi"]
        assert len(session.scalars(select(CrawlRun)).all()) == 2
