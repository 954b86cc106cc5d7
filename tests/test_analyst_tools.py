"""The archive as other tools see it, and the analyst's newer answers: the short-term index against
a scan on a generated archive, Datasette and sqlite-utils search, proposal_flat, typed exports and
their data dictionary, publication years, people and units per site, narrow terminals."""

from __future__ import annotations

import asyncio
import csv
import dataclasses
import datetime as dt
import io
import json
import os
import random
import re
import sqlite3
import subprocess
import sys
import unicodedata
from pathlib import Path

import pytest
from conftest import expected_record, fixture_items, fixture_pages
from sqlalchemy import delete, insert, select, update
from test_cli_query import EXPECTED, _published, implied, run

from archive.db import session_factory
from archive.ingest import CaptureIn, ensure_site, ingest_batch
from archive.models import Proposal, Reply, Site
from archive.search import search_ids

ROOT = Path(__file__).resolve().parent.parent
T0 = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)


@pytest.fixture
def archive(engine, archive_url):
    with session_factory(engine)() as session, session.begin():
        ingest_batch(session, fixture_items(session, T0))
    return archive_url


# --- the short-term index answers as the scan did ---------------------------------------------------------

POOL = "养老保障渔民县财政局海岛医疗教育的一是在和了APPappWiFi0123，。、（）《》“”-_%\\'\" "


def _text(rng: random.Random, size: int) -> str:
    lines = ["".join(rng.choice(POOL) for _ in range(rng.randint(0, size))) for _ in range(rng.randint(1, 3))]
    return "\n".join(" ".join(line.split()) for line in lines)


def _like_scan(rows, term: str, dialect: str) -> set[int]:
    """LIKE '%term%' over title, content and reply, judged in Python: SQLite's LIKE folds ASCII only,
    PostgreSQL's ILIKE folds every letter."""
    def fold(text: str) -> str:
        return text.lower() if dialect != "sqlite" else text.translate(_ASCII_LOWER)

    term = unicodedata.normalize("NFKC", term)  # as the query folds it
    return {pid for pid, texts in rows.items() if any(fold(term) in fold(t) for t in texts if t)}


_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


def _generated(engine, count: int, seed: int):
    rng = random.Random(seed)
    with session_factory(engine)() as session, session.begin():
        site_id = ensure_site(session, "gen").id
        rows = [{"site_id": site_id, "url": f"https://gen.example/{i}.html", "raw_title": "t", "title": _text(rng, 12),
                 "content": _text(rng, 60) if rng.random() < 0.9 else None, "first_seen": T0, "last_seen": T0,
                 "last_changed": T0} for i in range(count)]
        ids = session.execute(insert(Proposal).returning(Proposal.id, sort_by_parameter_order=True), rows).scalars()
        ids = list(ids)
        replies = [{"proposal_id": pid, "text": _text(rng, 80)} for pid in ids if rng.random() < 0.6]
        session.execute(insert(Reply), replies)
    return rng, ids


def _texts(engine) -> dict[int, tuple]:
    with session_factory(engine)() as session:
        return {pid: (title, content, reply) for pid, title, content, reply in session.execute(
            select(Proposal.id, Proposal.title, Proposal.content, Reply.text).outerjoin(
                Reply, Reply.proposal_id == Proposal.id))}


def _short_terms(rng: random.Random) -> list[str]:
    singles = sorted(set(POOL) - {" ", '"'})
    pairs = ["养老", "渔民", "财政", "ap", "AP", "Fi", "，。", "%_", "老保", "县财", "\\'", "的一"]
    return singles + pairs + ["".join(rng.choice(POOL.replace(" ", "").replace('"', "")) for _ in range(2))
                              for _ in range(30)]


def _assert_index_equals_scan(engine, rng) -> None:
    rows = _texts(engine)
    with session_factory(engine)() as session:
        for term in _short_terms(rng):
            phrase = f'"{term}"' if term == "OR" else term
            got = set(search_ids(session, phrase))
            assert got == _like_scan(rows, term, engine.dialect.name), f"term {term!r}"


def test_short_terms_from_the_index_equal_the_scan(engine):
    rng, ids = _generated(engine, 300, seed=7)
    _assert_index_equals_scan(engine, rng)
    # and after every kind of change the triggers (SQLite) and expression indexes (PostgreSQL) follow
    with session_factory(engine)() as session, session.begin():
        for pid in ids[:60]:
            session.execute(update(Proposal).where(Proposal.id == pid).values(
                title=_text(rng, 12), content=_text(rng, 40)))
        session.execute(delete(Reply).where(Reply.proposal_id.in_(ids[60:120])))
        session.execute(insert(Reply), [{"proposal_id": pid, "text": _text(rng, 50)} for pid in ids[60:90]])
        session.execute(update(Reply).where(Reply.proposal_id.in_(ids[120:150])).values(text="改了的答复 APP"))
        session.execute(delete(Proposal).where(Proposal.id.in_(ids[150:170])))
    _assert_index_equals_scan(engine, rng)


def test_counts_of_short_terms_come_from_the_index(engine):
    from archive.query import Filters, count

    _generated(engine, 200, seed=11)
    rows = _texts(engine)
    with session_factory(engine)() as session:
        for term in ("养", "养老", "AP", "，"):
            assert count(session, Filters(text=term)) == len(_like_scan(rows, term, engine.dialect.name))


def test_the_sqlite_short_term_query_reads_the_index(engine):
    if engine.dialect.name != "sqlite":
        pytest.skip("SQLite's plan")
    from archive.query import Filters, clauses

    with engine.connect() as connection:
        statement = select(Proposal.id).where(*clauses(Filters(text="养老 OR 渔"), "sqlite"))
        compiled = statement.compile(engine)
        plan = " ".join(row[-1] for row in connection.exec_driver_sql(
            "EXPLAIN QUERY PLAN " + str(compiled), tuple(compiled.params.values())))
    assert "SCAN proposal_fts_grams VIRTUAL TABLE INDEX" in plan and "SCAN proposal " not in plan + " "


@pytest.mark.parametrize(("query", "expected"), [
    ("养老 OR 诈骗", lambda: implied(text="养老") | implied(text="诈骗")),
    ('"渔民" 养老', lambda: implied(text="渔民 养老")),
    ("渔民 OR 县财政局 养老", lambda: (implied(text="渔民") | implied(text="县财政局")) & implied(text="养老")),
])
def test_or_and_phrases(archive, query, expected):
    records = json.loads(run(archive, "query", query, "--limit", "0", "-f", "json").stdout)
    assert {r["url"] for r in records} == expected()


# --- Datasette, sqlite-utils, DuckDB, pandas -----------------------------------------------------------------


def _sqlite_archive(tmp_path) -> str:
    from archive.db import make_engine, upgrade

    url = f"sqlite:///{tmp_path / 'archive.db'}"
    engine = make_engine(url)
    upgrade(engine)
    with session_factory(engine)() as session, session.begin():
        ingest_batch(session, fixture_items(session, T0))
    engine.dispose()
    return url


def test_datasette_search_returns_what_query_returns(tmp_path):
    pytest.importorskip("datasette")
    from datasette.app import Datasette

    url = _sqlite_archive(tmp_path)
    datasette = Datasette([str(tmp_path / "archive.db")])

    async def searched(term: str) -> set[int]:
        response = await datasette.client.get("/archive/proposal.json", params={
            "_search": term, "_shape": "array", "_col": "id", "_size": "max"})
        assert response.status_code == 200, response.text
        return {row["id"] for row in response.json()}

    for term in ("渔", "养老", "县财政局", "电信网络诈骗", "APP", "养老 渔民", "不存在的"):
        queried = {r["id"] for r in json.loads(run(url, "query", term, "--limit", "0", "-f", "json").stdout)}
        assert asyncio.run(searched(term)) == queried, term
    assert queried == set() and len(asyncio.run(searched("养老"))) >= 2


def test_sqlite_utils_detects_the_search_table(tmp_path):
    sqlite_utils = pytest.importorskip("sqlite_utils")
    _sqlite_archive(tmp_path)
    database = sqlite_utils.Database(tmp_path / "archive.db")
    assert database["proposal"].detect_fts() == "proposal_fts_grams"


def _str(value) -> str:
    return value if isinstance(value, str) else ""  # pandas reads NULL as None or NaN


def test_proposal_flat_reads_in_pandas_with_one_row_per_record(archive):
    import pandas

    from archive.db import make_engine

    engine = make_engine(archive)
    with engine.connect() as connection:
        frame = pandas.read_sql("SELECT * FROM proposal_flat", connection)
    engine.dispose()
    assert len(frame) == len(EXPECTED) and set(frame["url"]) == set(EXPECTED)
    for _, row in frame.iterrows():
        slug, record = EXPECTED[row["url"]]
        assert row["site"] == slug and row["title"] == record["title"]
        assert _str(row["lead_sponsors"]) == "; ".join(record["lead_sponsors"])
        assert _str(row["co_units"]) == "; ".join(record["co_units"])
        assert (_str(row["reply_signer"]) or None) == (record["reply"] or {}).get("signer")
        assert row["published_day"] == (_published(record) or None)


def test_duckdb_reads_the_archive_and_a_parquet_export(tmp_path):
    duckdb = pytest.importorskip("duckdb")
    url = _sqlite_archive(tmp_path)
    out = tmp_path / "all.parquet"
    assert run(url, "export", "-o", str(out)).exit_code == 0
    rows = duckdb.sql(f"SELECT url, year(published_at) AS y, generated_on FROM '{out}'").fetchall()
    assert {u: y for u, y, _ in rows} == {u: int(r["disclosure"]["published_at"][:4]) if r["disclosure"][
        "published_at"] else None for u, (_, r) in EXPECTED.items()}
    connection = duckdb.connect(config={"autoinstall_known_extensions": False})
    installed = connection.execute("SELECT installed FROM duckdb_extensions() WHERE extension_name = 'sqlite'")
    if not (installed.fetchone() or [False])[0]:  # never downloaded by a test
        pytest.skip("DuckDB's sqlite extension is not installed here (INSTALL sqlite needs the network)")
    connection.execute(f"ATTACH '{tmp_path / 'archive.db'}' AS archive (TYPE sqlite, READ_ONLY)")
    flat = connection.execute("SELECT url, lead_sponsors FROM archive.proposal_flat").fetchall()
    assert {u: s or "" for u, s in flat} == {u: "; ".join(r["lead_sponsors"]) for u, (_, r) in EXPECTED.items()}


# --- exports ----------------------------------------------------------------------------------------------------


def test_parquet_columns_have_real_types(archive, tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    out = tmp_path / "a.parquet"
    run(archive, "export", "-o", str(out))
    table = pq.read_table(out)
    schema = table.schema
    assert schema.field("generated_on").type == pa.date32() and schema.field("reply_date").type == pa.date32()
    assert schema.field("published_at").type == pa.timestamp("ms")
    assert schema.field("first_seen").type == pa.timestamp("ms", tz="UTC")
    assert schema.field("lead_sponsors").type == pa.list_(pa.string())
    for row in table.to_pylist():
        record = EXPECTED[row["url"]][1]
        published = record["disclosure"]["published_at"]
        assert row["published_at"] == (dt.datetime.fromisoformat(published) if published else None)
        reply_date = (record["reply"] or {}).get("date")
        assert row["reply_date"] == (dt.date.fromisoformat(reply_date) if reply_date else None)
        assert row["first_seen"] == T0


def test_csv_with_its_data_dictionary_keeps_number_as_text(archive, tmp_path):
    import pandas

    out = tmp_path / "all.csv"
    run(archive, "export", "-o", str(out))
    package = json.loads((tmp_path / "datapackage.json").read_text(encoding="utf-8"))
    (resource,) = package["resources"]
    assert resource["path"] == "all.csv"
    fields = {f["name"]: f["type"] for f in resource["schema"]["fields"]}
    assert fields["number"] == "string" and fields["year"] == "integer" and fields["generated_on"] == "date"
    dtypes = {name: "string" if kind == "string" else "Int64" for name, kind in fields.items()
              if kind in ("string", "integer")}
    frame = pandas.read_csv(out, dtype=dtypes, parse_dates=[n for n, k in fields.items() if k == "date"])
    numbers = dict(zip(frame["url"], frame["number"], strict=True))
    assert numbers[next(u for u, (_, r) in EXPECTED.items() if r["number"] == "0015")] == "0015"
    assert {u: (None if pandas.isna(n) else n) for u, n in numbers.items()} == {
        u: r["number"] for u, (_, r) in EXPECTED.items()}
    schema = json.loads(run(archive, "export", "--schema").stdout)
    assert schema == resource["schema"]


def test_export_to_stdout(archive):
    rows = list(csv.DictReader(io.StringIO(run(archive, "export", "--format", "csv", "--out", "-").stdout)))
    assert {r["url"] for r in rows} == set(EXPECTED)
    lines = run(archive, "export", "-f", "jsonl", "-o", "-", "--adoption", "A").stdout.splitlines()
    assert {json.loads(line)["url"] for line in lines} == implied(adoption=("A",))


@pytest.mark.parametrize("table", ["sponsorships", "units"])
def test_related_tables_export_keyed_by_url(archive, tmp_path, table):
    out = tmp_path / f"{table}.csv"
    run(archive, "export", "--table", table, "-o", str(out))
    rows = list(csv.DictReader(out.open(encoding="utf-8")))
    kind = "sponsors" if table == "sponsorships" else "units"
    want = sorted((url, role, position, name) for url, (_, r) in EXPECTED.items() for role in ("lead", "co")
                  for position, name in enumerate(r[f"{role}_{kind}"]))
    assert sorted((r["proposal_url"], r["role"], int(r["position"]), r["name"]) for r in rows) == want
    key = "person_key" if table == "sponsorships" else "unit_key"
    assert all(r[key] == f"{r['site']}/{r['name']}" for r in rows)


def test_revisions_export(engine, archive_url, tmp_path):
    slug, rel = next((s, r) for s, r in fixture_pages() if "4090552" in r)
    with session_factory(engine)() as session, session.begin():
        items = fixture_items(session, T0)
        record, capture = next((rec, cap) for rec, cap in items if cap.url.endswith(rel))
        ingest_batch(session, [(record, capture)])
        changed = dataclasses.replace(record, title=record.title + "（修订）")
        later = CaptureIn(capture.site_id, capture.url, capture.body + b"<!-- 2 -->", T0 + dt.timedelta(days=1))
        ingest_batch(session, [(changed, later)])
    rows = [json.loads(line) for line in run(archive_url, "export", "--table", "revisions", "-o", "-", "-f",
                                             "jsonl").stdout.splitlines()]
    assert [(r["proposal_url"], r["field"], json.loads(r["new_value"])) for r in rows] == [
        (capture.url, "title", record.title + "（修订）")]
    assert rows[0]["changed_at"] == "2026-11-02T00:00:00Z" and slug == rows[0]["site"]


# --- publication years; people and units per site -------------------------------------------------------------


def _published_year(record: dict) -> int | None:
    day = _published(record)
    return int(day[:4]) if day else None


def test_published_year_filter_and_stats(archive):
    years = {u: _published_year(r) for u, (_, r) in EXPECTED.items()}
    for year in sorted({y for y in years.values() if y}):
        records = json.loads(run(archive, "query", "--published-year", str(year), "--limit", "0", "-f",
                                 "json").stdout)
        assert {r["url"] for r in records} == {u for u, y in years.items() if y == year}
    result = json.loads(run(archive, "stats", "--by", "published_year", "-f", "json").stdout)
    want: dict = {}
    for year in years.values():
        want[year] = want.get(year, 0) + 1
    assert {r["published_year"]: r["count"] for r in result["rows"]} == want


def test_people_and_units_belong_to_a_site(engine, archive_url):
    with session_factory(engine)() as session, session.begin():
        items = fixture_items(session, T0)
        ingest_batch(session, items)
        other = ensure_site(session, "xinhai", name="新海县", base_url="https://www.xinhai.example").id
        record, capture = next((r, c) for r, c in items if "魏巍" in r.lead_sponsors)
        url = "https://www.xinhai.example/art/1.html"
        ingest_batch(session, [(dataclasses.replace(record, url=url), CaptureIn(other, url, capture.body, T0))])
    sponsors = json.loads(run(archive_url, "sponsors", "-f", "json").stdout)
    wei = sorted((s["site"], s["records"]) for s in sponsors if s["name"] == "魏巍")
    assert wei == [("shengsi", 1), ("xinhai", 1)]
    merged = json.loads(run(archive_url, "sponsors", "--merge-sites", "-f", "json").stdout)
    assert [(s["site"], s["records"]) for s in merged if s["name"] == "魏巍"] == [(None, 2)]
    by_sponsor = json.loads(run(archive_url, "stats", "--by", "sponsor", "-f", "json").stdout)
    assert sorted((r["site"], r["count"]) for r in by_sponsor["rows"] if r["sponsor"] == "魏巍") == wei
    lead_unit = record.lead_units[0]
    by_unit = json.loads(run(archive_url, "stats", "--by", "lead_unit", "--merge-sites", "-f", "json").stdout)
    assert [r["count"] for r in by_unit["rows"] if r["lead_unit"] == lead_unit] == [
        1 + sum(lead_unit in r["lead_units"][:1] for _, r in EXPECTED.values())]
    table = run(archive_url, "units", "--site", "xinhai").stdout.splitlines()
    assert table[0].split("\t")[:3] == ["site", "name", "records"] and all(
        line.startswith("xinhai\t") for line in table[1:])


def test_unit_and_category_substrings_with_like(archive):
    records = json.loads(run(archive, "query", "--unit", "财政", "--like", "--limit", "0", "-f", "json").stdout)
    assert {r["url"] for r in records} == {u for u, (_, r) in EXPECTED.items()
                                           if any("财政" in n for n in r["lead_units"] + r["co_units"])}
    records = json.loads(run(archive, "query", "--category", "社会", "--like", "--limit", "0", "-f",
                             "json").stdout)
    assert {r["url"] for r in records} == {u for u, (_, r) in EXPECTED.items() if "社会" in (r["category"] or "")}
    assert records
    exact = json.loads(run(archive, "query", "--unit", "财政", "--limit", "0", "-f", "json").stdout)
    assert exact == []


# --- terminals ---------------------------------------------------------------------------------------------------


def test_narrow_terminals_drop_the_least_useful_columns_first():
    from commands.analysis import DEFAULT_COLUMNS, fit_columns

    cells = [["12345"], ["2023-09-08"], ["提案"], ["0015"], ["关于完善海岛渔民养老保障体系的建议"], ["魏巍、陈佳"],
             ["B"], ["落实中"], ["haidao"]]
    assert fit_columns(list(DEFAULT_COLUMNS), cells, 200) == list(DEFAULT_COLUMNS)
    at_80 = fit_columns(list(DEFAULT_COLUMNS), cells, 80)
    assert at_80 == ["id", "published", "title", "sponsors", "class", "status"]
    assert fit_columns(list(DEFAULT_COLUMNS), cells, 60) == ["id", "published", "title", "class"]
    assert fit_columns(list(DEFAULT_COLUMNS), cells, 30) == ["title"]


def test_an_80_column_terminal_shows_whole_titles(tmp_path):
    url = _sqlite_archive(tmp_path)
    env = {**os.environ, "FORCE_COLOR": "1", "COLUMNS": "80", "NO_COLOR": "1", "TTY_COMPATIBLE": "1"}
    result = subprocess.run([sys.executable, "-m", "cli", "query", "--sponsor", "魏巍", "--db", url], cwd=ROOT,
                            capture_output=True, text=True, env=env, check=False)
    assert result.returncode == 0, result.stderr
    lines = re.sub(r"\x1b\[[0-9;]*m", "", result.stdout).splitlines()
    assert lines and max(len(line) for line in lines) <= 80
    title = expected_record(*next(p for p in fixture_pages() if "魏巍" in expected_record(*p)["lead_sponsors"]))[
        "title"]
    # wrapped over lines in its own column, never cut
    column = "".join(line.split("│")[-5].strip() for line in lines if line.count("│") >= 5)
    assert "…" not in result.stdout and title in column, "\n".join(lines)


def test_crosstab_numbers_are_right_aligned(archive):
    from commands import common
    from commands.analysis import _emit_rows

    buffer = io.StringIO()
    console = common.stdout
    from rich.console import Console

    common.stdout._console = Console(file=buffer, force_terminal=True, width=60, color_system=None)
    try:
        _emit_rows(["class \\ year", "2021", "total"], [["A", 3, 13], ["B", 12, 120]], numeric=(1, 2))
    finally:
        console._console = None
    lines = [line for line in buffer.getvalue().splitlines() if "│" in line]
    assert any(line.endswith("│    3 │    13 │") for line in lines), buffer.getvalue()


def test_sites_table_is_there(engine):
    with session_factory(engine)() as session:
        assert session.scalars(select(Site.slug)).all() == []
    with sqlite3.connect(":memory:") as connection:  # a plain connection gets the index's function
        from archive.textindex import grams, register

        register(connection)
        assert connection.execute("SELECT proposals_grams('养老 保障')").fetchone()[0] == grams("养老 保障")
