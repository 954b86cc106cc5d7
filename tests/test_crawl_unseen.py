"""Sites the crawler has never seen: column pages and lists of both Hanweb families, built from the
research notes (queryData without parseType/pageType, the nodeId or the 组配分类 code only in
queryData or a script, pager numbers on other elements or in the JSON, servers that repeat their
last page, other list markup, the other jpage proxy path, look-ahead records), nights passing by
the crawl's clock with the shipped revalidation settings."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys

import pytest
from conftest import FIXTURES
from crawlkit import Crawl, Replica, detail_requests, expected_at, fixture_paths

from replica import Variant

NIGHT = dt.timedelta(days=1)
T0 = dt.datetime(2027, 3, 1, 2, 0, tzinfo=dt.UTC)
NOT_REPLIED = "art/2023/10/16/art_1229395011_4102318.html"  # haidao: no reply yet
ONGOING = "art/2023/9/8/art_1229395011_4090552.html"       # haidao: 落实中

UNSEEN = {
    # JPaaS: bare queryData, nodeId and 组配分类 code only inside queryData.xxgkParams, pager on
    # div.page-content, the last page answered again past the end, Zhoushan-style list items
    "qiandao": (FIXTURES / "haidao", Variant(query_data="bare", node_id="query", code="query", pager="page-content",
                                             past_end="repeat", list_markup="page-content")),
    # JPaaS: ids written as numbers, the nodeId in a script, the code only in the tree, no pager at
    # all and the last page again past the end (only the repeat ends the walk)
    "yuhai": (FIXTURES / "haidao", Variant(query_data="numbers", node_id="script", code="tree", pager="none",
                                           past_end="repeat", list_markup="bt-left")),
    # JPaaS: the numbers in the JSON beside the html, table rows, count and rows only
    "dongshan": (FIXTURES / "shengsi", Variant(pager="json", list_markup="table")),
    # jpage: /module/web/jpage/, groups of 1 x 2, totalRecord only in <totalrecord>, look-ahead records,
    # Yuhang-style <li><a><span/><i>date</i></a></li> records
    "xiling": (FIXTURES / "gucheng", Variant(proxy="/module/web/jpage/dataproxy.jsp", per_page=1, group_size=2,
                                             total_in_call=False, lookahead=True, record_markup="li")),
}


@pytest.fixture
def unseen():
    replicas = {slug: Replica(directory, variant=variant).start() for slug, (directory, variant) in UNSEEN.items()}
    yield replicas
    for replica in replicas.values():
        replica.stop()


def _at(moment: dt.datetime) -> dict[str, str]:
    return {"PROPOSALS_NOW": moment.isoformat()}


def _field_share(crawl: Crawl, replicas: dict[str, Replica]) -> float:
    """The share of the expected records' fields the archive holds right (every field, nested ones flat)."""
    from conftest import field_diffs

    records = crawl.records()
    fields = wrong = 0
    for replica in replicas.values():
        for rel in fixture_paths(replica.dir.name):
            expected = expected_at(replica, rel)
            fields += len(expected)
            got = records.get(expected["url"])
            wrong += len(expected) if got is None else len({d.split(":")[0].split(".")[0]
                                                            for d in field_diffs(got, expected)})
    return 1 - wrong / fields


def test_every_record_of_never_seen_sites_then_only_lists_and_304s(tmp_path, unseen):
    crawl = Crawl(tmp_path, unseen)
    result = crawl.run(settings=_at(T0))
    assert result.returncode == 0, result.stderr
    assert "33 new" in result.stderr and "0 blocked, 0 failed" in result.stderr
    records = crawl.records()
    for replica in unseen.values():
        for rel in fixture_paths(replica.dir.name):
            expected = expected_at(replica, rel)
            assert records.get(expected["url"]) == expected, (replica.dir.name, rel)
    assert _field_share(crawl, unseen) == 1.0
    # the walks ended by themselves: the repeated last page ended yuhai's lists after one repeat each
    assert len(unseen["yuhai"].requests("/api-gateway/")) == 4
    assert [r.method for r in unseen["xiling"].requests("/module/web/jpage/dataproxy.jsp")] == ["POST", "POST"]

    # the same night again: list requests and conditional revalidations, every one a 304
    for replica in unseen.values():
        replica.clear_log()
    result = crawl.run(settings=_at(T0 + dt.timedelta(hours=1)))
    assert result.returncode == 0, result.stderr
    assert "0 new, 0 changed" in result.stderr
    for replica in unseen.values():
        details = detail_requests(replica)
        assert all(r.conditional and r.status == 304 for r in details), [(r.path, r.status) for r in details]
        assert all("/art/" in r.path or r.path.startswith(("/robots.txt", "/col/", "/api-gateway/", "/module/"))
                   for r in replica.requests())
    assert len(detail_requests(unseen["qiandao"])) == 7  # haidao's records without a reply or still 落实中


def test_a_night_later_new_records_and_edits_are_found(tmp_path):
    site = json.loads((FIXTURES / "haidao" / "site.json").read_text(encoding="utf-8"))
    column = site["columns"][0]
    directory, variant = UNSEEN["qiandao"]
    earlier = column["records"][:5] + column["records"][7:]  # two records are not published yet
    with Replica(directory, variant=variant, records={column["column_id"]: earlier}) as first:
        crawl = Crawl(tmp_path, {"qiandao": first})
        assert "11 new" in crawl.run(settings=_at(T0)).stderr
        port = int(first.base_url.rsplit(":", 1)[1])
    with Replica(directory, variant=variant, port=port) as later:  # the two published since
        body = later.page(ONGOING).decode().replace('<td class="value">落实中</td>', '<td class="value">已落实</td>')
        later.set_page(ONGOING, body.encode())
        reply = later.page(NOT_REPLIED).decode().replace(
            '<td class="label">答复意见：</td>\n        <td class="value"></td>',
            '<td class="label">答复意见：</td>\n        <td class="value"><p>海岛县交通运输局关于对县政协十一届二次会议'
            "第18号提案答复的函</p><p>陈明委员：</p><p>您提出的建议收悉，现答复如下：已列入年度计划。</p>"
            "<p>海岛县交通运输局</p><p>2023年12月1日</p></td>")
        later.set_page(NOT_REPLIED, reply.encode())
        result = crawl.run(settings=_at(T0 + NIGHT))
        assert result.returncode == 0, result.stderr
        assert "; 2 new, 2 changed" in result.stderr
        records = crawl.records()
        assert records[later.url(ONGOING)]["implementation_status"] == "已落实"
        assert records[later.url(NOT_REPLIED)]["reply"]["text"].startswith("海岛县交通运输局关于")
    ids = _ids(crawl)
    history = _history(crawl, ids[later.url(ONGOING)])
    assert [(h["field"], h["old"], h["new"]) for h in history] == [("implementation_status", "落实中", "已落实")]
    fields = {h["field"] for h in _history(crawl, ids[later.url(NOT_REPLIED)])}
    assert "reply.text" in fields or "reply" in fields, fields


def test_final_records_are_revisited_a_slice_each_night(tmp_path):
    directory, variant = UNSEEN["xiling"]
    with Replica(directory, variant=variant) as replica:  # 6 records, every one final
        crawl = Crawl(tmp_path, {"xiling": replica})
        assert "6 new" in crawl.run(settings=_at(T0)).stderr
        edited = "art/2020/10/20/art_40512_576893.html"
        body = replica.page(edited).replace("C类".encode("gb18030"), "B类".encode("gb18030"))
        replica.set_page(edited, body)
        asked: list[str] = []
        found = None
        for night in range(1, 7):
            replica.clear_log()
            result = crawl.run(settings=_at(T0 + night * NIGHT))
            assert result.returncode == 0, result.stderr
            details = detail_requests(replica)
            assert len(details) == 1 and details[0].conditional  # ceil(6 / 30) a night, conditionally
            asked.append(details[0].path)
            if found is None and "1 changed" in result.stderr:
                found = night
        assert sorted(asked) == sorted("/" + rel for rel in fixture_paths("gucheng"))  # each once, oldest first
        assert found is not None and crawl.records()[replica.url(edited)]["adoption_class"] == "B"


def test_revalidation_age_counts_from_the_archive_not_the_publication_date(tmp_path, unseen):
    replica = unseen["qiandao"]  # haidao's records were published in 2022 and 2023
    crawl = Crawl(tmp_path, {"qiandao": replica})
    assert crawl.run(settings=_at(T0)).returncode == 0
    replica.clear_log()
    # 700 days on, nothing changed: the 7 unfinished records are still asked every night (and one of
    # the 6 final ones, the nightly slice)
    assert crawl.run(settings=_at(T0 + 700 * NIGHT)).returncode == 0
    assert len(detail_requests(replica)) == 7 + 1
    replica.clear_log()
    # past PROPOSALS_REVALIDATE_DAYS (730) without a change: only the nightly slice, ceil(13 / 30)
    assert crawl.run(settings=_at(T0 + 740 * NIGHT)).returncode == 0
    assert len(detail_requests(replica)) == 1


def _ids(crawl: Crawl) -> dict[str, int]:
    from sqlalchemy import select

    from archive.db import session_factory
    from archive.models import Proposal

    with session_factory(crawl.engine())() as session:
        return dict(session.execute(select(Proposal.url, Proposal.id)).all())


def _history(crawl: Crawl, record_id: int) -> list[dict]:
    result = subprocess.run([sys.executable, "-m", "cli", "history", str(record_id), "--format", "json",
                             "--db", str(crawl.db)], capture_output=True, text=True, check=True)
    return json.loads(result.stdout)
