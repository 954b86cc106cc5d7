"""The analyst's commands on an archive of the fixture pages: each filter returns exactly the records
the expected JSON implies, in every format; exports read back in pandas and pyarrow."""

from __future__ import annotations

import csv
import io
import json
import sys
import unicodedata
from collections import Counter

import pytest
from conftest import expected_record, fixture_items, fixture_pages
from typer.testing import CliRunner

from archive.db import session_factory
from archive.ingest import ingest_batch
from cli import app

runner = CliRunner()
EXPECTED = {expected_record(slug, rel)["url"]: (slug, expected_record(slug, rel)) for slug, rel in fixture_pages()}
SLUGS = sorted({slug for slug, _ in EXPECTED.values()})


@pytest.fixture
def archive(engine, archive_url):
    with session_factory(engine)() as session, session.begin():
        ingest_batch(session, fixture_items(session))
    return archive_url


def run(archive_url: str, *args: str):
    result = runner.invoke(app, [*args, "--db", archive_url])
    assert result.exit_code == 0, result.output
    return result


def _norm(name: str) -> str:
    return "".join(unicodedata.normalize("NFKC", name).split())


def _published(record: dict) -> str:
    return (record["disclosure"]["published_at"] or record["disclosure"]["generated_on"] or "")[:10]


def _text(record: dict) -> str:
    reply = record["reply"]["text"] if record["reply"] else ""
    return " ".join(filter(None, [record["title"], record["content"], reply])).lower()


def implied(**f) -> set[str]:
    """The URLs of the expected records that pass every filter, judged in Python from the JSON."""
    found = set()
    for url, (slug, r) in EXPECTED.items():
        sponsors = r["lead_sponsors"] + ([] if f.get("lead_only") else r["co_sponsors"])
        checks = [
            "sponsor" not in f or _norm(f["sponsor"]) in sponsors,
            "unit" not in f or _norm(f["unit"]) in r["lead_units"] + r["co_units"],
            "adoption" not in f or r["adoption_class"] in {a.upper() for a in f["adoption"]},
            "year" not in f or r["year"] in f["year"],
            "kind" not in f or r["kind"] == {"cppcc": "cppcc_proposal", "npc": "npc_suggestion"}[f["kind"]],
            "category" not in f or r["category"] == f["category"],
            "status" not in f or r["implementation_status"] == f["status"],
            "site" not in f or slug == f["site"],
            "since" not in f or _published(r) >= f["since"],
            "text" not in f or all(unicodedata.normalize("NFKC", t).lower() in _text(r) for t in f["text"].split()),
        ]
        if all(checks):
            found.add(url)
    return found


def args_for(f: dict) -> list[str]:
    args = [f["text"]] if "text" in f else []
    for key in ("sponsor", "unit", "kind", "category", "status", "site", "since"):
        if key in f:
            args += [f"--{key}", f[key]]
    args += [x for a in f.get("adoption", ()) for x in ("--adoption", a)]
    args += [x for y in f.get("year", ()) for x in ("--year", str(y))]
    return args + (["--lead-only"] if f.get("lead_only") else [])


CASES = [
    {},
    {"sponsor": "魏巍"},
    {"sponsor": "王　伟"},                       # a query padded like the page finds the normalized name
    {"sponsor": "陈佳"},
    {"sponsor": "陈佳", "lead_only": True},
    {"sponsor": "张敏", "lead_only": True},      # 张敏 only ever co-sponsors
    {"sponsor": "张敏"},
    {"sponsor": "ＷａｎｇＷｅｉ"},               # full width folds (and finds nobody)
    {"adoption": ("A",)},
    {"adoption": ("B", "C")},
    {"adoption": ("a",)},
    {"year": (2023,)},
    {"year": (2021, 2022)},
    {"kind": "cppcc"},
    {"kind": "npc"},
    {"unit": "县财政局"},
    {"unit": "海岛县教育局"},
    {"category": "社会建设方面"},
    {"status": "落实中"},
    {"status": "已落实", "kind": "cppcc"},
    {"site": "gucheng"},
    {"since": "2023-09-01"},
    {"text": "养老"},
    {"text": "电信网络诈骗"},
    {"text": "渔民 养老"},
    {"text": "海人社函"},                         # in the reply only
    {"text": "县财政局", "adoption": ("B",), "year": (2023,)},
    {"adoption": ("B",), "year": (2023,), "kind": "cppcc", "unit": "县财政局"},
    {"sponsor": "魏巍", "adoption": ("A",)},     # nothing
]


def _ids(case):
    return json.dumps(case, ensure_ascii=False)


@pytest.mark.parametrize("case", CASES, ids=_ids)
def test_query_returns_exactly_the_implied_records(archive, case):
    records = json.loads(run(archive, "query", *args_for(case), "--limit", "0", "--format", "json").stdout)
    assert {r["url"] for r in records} == implied(**case)
    for record in records:  # each one whole: the record's keys and the archive's
        expected = EXPECTED[record["url"]][1]
        assert {k: record[k] for k in expected} == expected
        assert {"id", "site", "first_seen", "last_seen", "last_changed"} <= set(record)


@pytest.mark.parametrize("case", [CASES[2], CASES[9], CASES[22], CASES[26]], ids=_ids)
def test_every_format_returns_the_same_records(archive, case):
    args = [*args_for(case), "--limit", "0"]
    want = implied(**case)
    jsonl = [json.loads(line) for line in run(archive, "query", *args, "-f", "jsonl").stdout.splitlines()]
    assert {r["url"] for r in jsonl} == want
    rows = list(csv.DictReader(io.StringIO(run(archive, "query", *args, "-f", "csv").stdout)))
    assert {r["url"] for r in rows} == want
    table = run(archive, "query", *args, "-f", "table").stdout.splitlines()
    ids = {str(r["id"]) for r in jsonl}
    assert {line.split("\t")[0] for line in table[1:]} == ids


def test_csv_reads_back_in_pandas(archive, tmp_path):
    import pandas

    out = tmp_path / "all.csv"
    result = runner.invoke(app, ["export", "--format", "csv", "--out", str(out), "--db", archive])
    assert result.exit_code == 0, result.output
    frame = pandas.read_csv(out, dtype=str, keep_default_na=False)
    assert len(frame) == len(EXPECTED) and set(frame["url"]) == set(EXPECTED)
    for _, row in frame.iterrows():
        expected = EXPECTED[row["url"]][1]
        assert row["title"] == expected["title"] and row["content"] == (expected["content"] or "")
        assert row["lead_sponsors"].split("; ") == expected["lead_sponsors"] or not expected["lead_sponsors"]
        assert json.loads(row["extra_fields"]) == expected["extra_fields"]
        assert row["reply_date"] == ((expected["reply"] or {}).get("date") or "")
        assert row["number"] == (expected["number"] or "")  # leading zeros kept: 0015


def test_parquet_reads_back_in_pyarrow_with_the_same_rows(archive, tmp_path):
    import pyarrow.parquet as pq

    out = tmp_path / "a.parquet"
    result = runner.invoke(app, ["export", "-f", "parquet", "-o", str(out), "--adoption", "B", "--db", archive])
    assert result.exit_code == 0, result.output
    rows = pq.read_table(out).to_pylist()
    assert {r["url"] for r in rows} == implied(adoption=("B",))
    for row in rows:
        expected = EXPECTED[row["url"]][1]
        assert row["lead_sponsors"] == expected["lead_sponsors"] and row["co_units"] == expected["co_units"]
        assert row["attachments"] == expected["attachments"] and row["year"] == expected["year"]
        assert json.loads(row["extra_fields"]) == expected["extra_fields"]


def test_jsonl_export_is_the_query_json(archive, tmp_path):
    out = tmp_path / "a.jsonl"
    assert runner.invoke(app, ["export", "-f", "jsonl", "-o", str(out), "--db", archive]).exit_code == 0
    exported = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    queried = json.loads(run(archive, "query", "--limit", "0", "--sort", "id", "-f", "json").stdout)
    assert exported == queried


def test_show_prints_the_whole_record_with_its_reply(archive):
    records = json.loads(run(archive, "query", "--sponsor", "魏巍", "-f", "json").stdout)
    shown = json.loads(run(archive, "show", str(records[0]["id"]), "-f", "json").stdout)
    assert shown == records[0]
    table = run(archive, "show", str(records[0]["id"])).stdout
    assert "reply.signer\t嵊泗县人民政府办公室" in table and "感谢您对政府工作的关心和支持。" in table


def _counted(field: str) -> dict[tuple, int]:
    """What `stats --by field` must count, judged from the expected JSON."""
    values = {"adoption_class": lambda slug, r: r["adoption_class"] or "none", "kind": lambda slug, r: r["kind"],
              "site": lambda slug, r: slug}[field]
    return dict(Counter((values(slug, r),) for slug, r in EXPECTED.values()))


@pytest.mark.parametrize("by", [["adoption_class"], ["kind"], ["site"]])
def test_stats_count_and_share(archive, by):
    result = json.loads(run(archive, "stats", *[x for b in by for x in ("--by", b)], "-f", "json").stdout)
    assert {tuple(r[b] for b in by): r["count"] for r in result["rows"]} == _counted(by[0])
    assert result["total"] == len(EXPECTED)
    assert sum(r["share"] for r in result["rows"]) == pytest.approx(1.0)


def test_stats_crosstab_with_filters(archive):
    result = json.loads(run(archive, "stats", "--by", "adoption_class", "--by", "year", "--kind", "cppcc",
                            "-f", "json").stdout)
    counts = {(r["adoption_class"], r["year"]): r["count"] for r in result["rows"]}
    want: dict = {}
    for url in implied(kind="cppcc"):
        record = EXPECTED[url][1]
        key = (record["adoption_class"] or "none", record["year"])
        want[key] = want.get(key, 0) + 1
    assert counts == want and result["total"] == len(implied(kind="cppcc"))
    table = run(archive, "stats", "--by", "adoption_class", "--by", "year", "--kind", "cppcc").stdout
    assert table.splitlines()[0].startswith("adoption_class \\ year")


def test_stats_by_sponsor_and_lead_unit(archive):
    by_sponsor = json.loads(run(archive, "stats", "--by", "sponsor", "-f", "json").stdout)
    counts = {r["sponsor"]: r["count"] for r in by_sponsor["rows"]}
    assert counts["魏巍"] == 1 and counts["陈佳"] == 1
    by_unit = json.loads(run(archive, "stats", "--by", "lead_unit", "-f", "json").stdout)
    assert {r["lead_unit"]: r["count"] for r in by_unit["rows"]}["海岛县教育局"] == 2


def test_sponsors_and_units_with_class_breakdown(archive):
    sponsors = json.loads(run(archive, "sponsors", "-f", "json").stdout)
    everyone = {n for _, r in EXPECTED.values() for n in r["lead_sponsors"] + r["co_sponsors"]}
    assert {s["name"] for s in sponsors} == everyone
    wei = next(s for s in sponsors if s["name"] == "魏巍")
    assert (wei["records"], wei["B"], wei["A"]) == (1, 1, 0)
    units = json.loads(run(archive, "units", "--adoption", "B", "-f", "json").stdout)
    finance = next(u for u in units if u["name"] == "县财政局")
    implied_b = [u for u in implied(adoption=("B",)) if "县财政局" in
                 EXPECTED[u][1]["lead_units"] + EXPECTED[u][1]["co_units"]]
    assert finance["records"] == finance["B"] == len(implied_b)
    leads = json.loads(run(archive, "sponsors", "--lead-only", "-f", "json").stdout)
    assert {s["name"] for s in leads} == {n for _, r in EXPECTED.values() for n in r["lead_sponsors"]}


def test_history_lists_revisions(archive):
    records = json.loads(run(archive, "query", "-f", "json", "--limit", "1").stdout)
    result = json.loads(run(archive, "history", str(records[0]["id"]), "-f", "json").stdout)
    assert result == []


def run_main(args: list[str], capsys, monkeypatch) -> tuple[int, str, str]:
    """The real entry point (its error handling included): exit code, stdout, stderr."""
    from cli import main

    capsys.readouterr()
    monkeypatch.setattr(sys, "argv", ["proposals", *args])
    with pytest.raises(SystemExit) as exit_info:
        main()
    captured = capsys.readouterr()
    return exit_info.value.code, captured.out, captured.err


@pytest.mark.parametrize(("args", "message"), [
    (["stats", "--by", "colour"], "cannot group by colour"),
    (["query", "--since", "2023-02-30"], "--since takes a date"),
    (["query", "--changed-since", "yesterday"], "--changed-since takes a date"),
    (["query", "--adoption", "E"], "'E' is not one of 'a', 'b', 'c', 'd'"),
    (["query", "--kind", "both"], "'both' is not one of 'cppcc', 'npc'"),
    (["query", "--format", "yaml"], "'yaml' is not one of 'table', 'json', 'jsonl', 'csv'"),
    (["query", "--sort", "colour"], "--sort takes"),
    (["query", "--site", "atlantis"], f"no site 'atlantis' in the archive (sites: {', '.join(SLUGS)})"),
    (["query", "--year", "99999999999"], "a year is a number from 1000 to 9999, not 99999999999"),
    (["query", "--published-year", "-3"], "a year is a number from 1000 to 9999, not -3"),
    (["show", "99999999999999999999"], "a record id is a number from 1 to 2147483647"),
    (["history", "0"], "a record id is a number from 1 to 2147483647, not 0"),
    (["query", " ".join(f"渔民{i}" for i in range(13))], "a text search takes at most 12 terms, not 13"),
    (["query", "养" * 201], "a text search takes at most 200 characters, not 201"),
    (["query", '"海岛 渔民'], "unbalanced quote"),
    (["query", "OR 养老"], "OR stands between two terms"),
    (["query", "养老 OR"], "OR stands between two terms"),
    (["query", "--columns", "title,colour"], "--columns takes"),
    (["export", "--format", "csv", "--out", "a.parquet"], "--format csv contradicts the extension of a.parquet"),
    (["export", "--out", "a.txt"], "cannot tell the format of a.txt"),
])
def test_bad_input_exits_2_with_one_line(archive, args, message, capsys, monkeypatch):
    code, _out, err = run_main([*args, "--db", archive], capsys, monkeypatch)
    assert code == 2, err
    assert message in err and len(err.strip().splitlines()) == 1, err


@pytest.mark.parametrize("command", ["query", "stats --by year", "sponsors", "units", "show 1", "history 1"])
def test_a_missing_database_file_exits_2(tmp_path, command):
    result = runner.invoke(app, [*command.split(), "--db", str(tmp_path / "missing.db")])
    assert result.exit_code == 2 and "no archive at" in result.stderr
    assert not (tmp_path / "missing.db").exists()


def test_unknown_ids_exit_1(archive):
    assert runner.invoke(app, ["show", "999999", "--db", archive]).exit_code == 1
    assert runner.invoke(app, ["history", "999999", "--db", archive]).exit_code == 1


@pytest.mark.parametrize("command", ["query", "show", "history", "stats", "sponsors", "units", "export"])
def test_help_has_an_example(command):
    result = runner.invoke(app, [command, "--help"])
    assert result.exit_code == 0 and "Example: proposals " + command in result.stdout
