"""Ingest throughput against a bare sqlite3 executemany of the same rows, and text-query latency.

    python bench/ingest.py [--records 10000] [--batch 500] [--query-records 100000]

Records are copies of the fixture pages with varied URLs and fields (titles, numbers, sponsor
names), built before any clock starts. The measured path is `ingest_batch` in transactions of
`--batch` records, into a fresh archive. The floor writes the very same rows into the same tables
of another fresh archive with `sqlite3` `executemany`, full-text index included, in transactions
of the same size: no lookups, no diffing, ids known in advance. Then an archive of
`--query-records` records answers typical full-text queries; the median time of each is printed.
Targets: ingest within 5x of the floor; a text query under 50 ms median at 100,000 records.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

from parse import load_pages  # noqa: E402

from archive.db import make_engine, session_factory, upgrade  # noqa: E402
from archive.ingest import CaptureIn, ensure_site, ingest_batch  # noqa: E402
from archive.records import child_rows, proposal_row  # noqa: E402
from archive.search import search_ids  # noqa: E402
from crawler.parsers import ProposalRecord, parse_detail  # noqa: E402

FIXTURES = HERE.parent / "tests" / "fixtures"
QUERIES = ("电信网络诈骗", "养老保障", "停车设施", "海水淡化 工程", "县财政局")
WHEN = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)


def fixture_pages() -> list[tuple[bytes, ProposalRecord]]:
    return [(body, parse_detail(body, url)) for body, url in load_pages(FIXTURES)]


def variant(index: int, body: bytes, record: ProposalRecord) -> tuple[bytes, ProposalRecord]:
    """Copy `index` of a page: its own URL, title, number and sponsors, and so its own bytes."""
    url = record.url.replace(".html", f"_{index}.html")
    sponsors = tuple(f"{name}{index % 997}" for name in record.lead_sponsors)
    return (body + f"<!-- copy {index} -->".encode(),
            dataclasses.replace(record, url=url, raw_title=f"{record.raw_title}（{index}）",
                                title=f"{record.title}（{index}）", number=str(100000 + index),
                                lead_sponsors=sponsors))


def build(count: int, site_id: int, start: int = 0) -> list[tuple[ProposalRecord, CaptureIn]]:
    pages = _PAGES or _PAGES.extend(fixture_pages()) or _PAGES
    items = []
    for index in range(start, start + count):
        body, record = variant(index, *pages[index % len(pages)])
        items.append((record, CaptureIn(site_id, record.url, body, WHEN, source="import")))
    return items


_PAGES: list[tuple[bytes, ProposalRecord]] = []


def fresh_archive(directory: Path, name: str):
    engine = make_engine(f"sqlite:///{directory / name}")
    upgrade(engine)
    with session_factory(engine)() as session, session.begin():
        site_id = ensure_site(session, "bench", name="bench", base_url="https://bench.example").id
    return engine, site_id


def run_ingest(engine, items, batch: int) -> float:
    start = time.perf_counter()
    for offset in range(0, len(items), batch):
        with session_factory(engine)() as session, session.begin():
            ingest_batch(session, items[offset:offset + batch])
    return time.perf_counter() - start


class Floor:
    """A bare loader: every row ingest would write, ids assigned up front, `executemany` per table."""

    def __init__(self, path: Path, site_id: int) -> None:
        self.site_id = site_id
        self.people: dict[str, int] = {}
        self.units: dict[str, int] = {}
        self.next_id = 1
        self.connection = sqlite3.connect(path, isolation_level=None)
        for pragma in ("journal_mode=WAL", "synchronous=NORMAL", "foreign_keys=ON"):
            self.connection.execute(f"PRAGMA {pragma}")

    def rows(self, items) -> dict[str, list[dict]]:
        tables: dict[str, list[dict]] = {name: [] for name in (
            "person", "organization", "capture", "proposal", "proposal_sponsor", "proposal_unit", "reply",
            "attachment", "extra_field", "fts")}
        created = WHEN.replace(tzinfo=None).isoformat(sep=" ")
        for record, capture in items:
            proposal_id, self.next_id = self.next_id, self.next_id + 1
            data = record.to_dict()
            for name in data["lead_sponsors"] + data["co_sponsors"]:
                if name not in self.people:
                    self.people[name] = len(self.people) + 1
                    tables["person"].append({"id": self.people[name], "site_id": self.site_id, "name": name})
            for name in data["lead_units"] + data["co_units"]:
                if name not in self.units:
                    self.units[name] = len(self.units) + 1
                    tables["organization"].append({"id": self.units[name], "site_id": self.site_id, "name": name})
            row = proposal_row(data)
            row["generated_on"] = row["generated_on"].isoformat() if row["generated_on"] else None
            for name, child in child_rows(proposal_id, data, self.people, self.units).items():
                for child_row in child:
                    if name == "reply":
                        child_row["date"] = child_row["date"].isoformat() if child_row["date"] else None
                tables[name].extend(child)
            tables["capture"].append(capture.row("record") | {"id": proposal_id, "fetched_at": created,
                                                              "last_seen_at": created})
            tables["proposal"].append(row | {"id": proposal_id, "site_id": self.site_id, "url": capture.url,
                                             "first_seen": created, "last_seen": created, "last_changed": created,
                                             "capture_id": proposal_id})
            tables["fts"].append({"id": proposal_id, "title": data["title"], "content": data["content"],
                                  "reply": data["reply"]["text"] if data["reply"] else None})
        return tables

    def write(self, tables: dict[str, list[dict]]) -> None:
        """One transaction: the rows of a batch, table by table."""
        self.connection.execute("BEGIN")
        for table, rows in tables.items():
            if not rows:
                continue
            if table == "fts":
                self.connection.executemany("INSERT INTO proposal_fts(rowid, title, content, reply) "
                                            "VALUES (:id, :title, :content, :reply)", rows)
                continue
            columns = list(rows[0])
            self.connection.executemany(
                f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join(':' + c for c in columns)})", rows)
        self.connection.execute("COMMIT")

    def close(self) -> None:
        self.connection.close()


def run_floor(path: Path, items, site_id: int, batch: int) -> float:
    floor = Floor(path, site_id)
    prepared = [floor.rows(items[offset:offset + batch]) for offset in range(0, len(items), batch)]
    start = time.perf_counter()
    for tables in prepared:
        floor.write(tables)
    elapsed = time.perf_counter() - start
    floor.close()
    return elapsed


def query_latency(directory: Path, count: int, batch: int, repeat: int) -> dict[str, float]:
    engine, site_id = fresh_archive(directory, "query.db")
    engine.dispose()
    floor = Floor(directory / "query.db", site_id)
    for offset in range(0, count, batch):  # filled by the bare loader, a batch at a time
        floor.write(floor.rows(build(min(batch, count - offset), site_id, offset)))
    floor.close()
    engine = make_engine(f"sqlite:///{directory / 'query.db'}")
    medians = {}
    with session_factory(engine)() as session:
        for query in QUERIES:
            search_ids(session, query, limit=50)
            times = []
            for _ in range(repeat):
                start = time.perf_counter()
                search_ids(session, query, limit=50)
                times.append(time.perf_counter() - start)
            medians[query] = statistics.median(times)
    engine.dispose()
    return medians


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=10_000)
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--query-records", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=21)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="bench-ingest-") as tmp:
        directory = Path(tmp)
        engine, site_id = fresh_archive(directory, "ingest.db")
        floor_engine, floor_site = fresh_archive(directory, "floor.db")
        floor_engine.dispose()
        items = build(args.records, site_id)
        floor_items = build(args.records, floor_site)
        ingest_time = run_ingest(engine, items, args.batch)
        engine.dispose()
        floor_time = run_floor(directory / "floor.db", floor_items, floor_site, args.batch)
        print(f"ingest of {args.records} records in transactions of {args.batch}")
        print(f"{'':34s}{'records/s':>12s}{'seconds':>10s}")
        print(f"{'bare sqlite3 executemany (floor)':34s}{args.records / floor_time:12.0f}{floor_time:10.2f}")
        print(f"{'ingest_batch':34s}{args.records / ingest_time:12.0f}{ingest_time:10.2f}")
        print(f"ratio ingest/floor: {ingest_time / floor_time:.2f}x (target <= 5x)")
        del items, floor_items
        medians = query_latency(directory, args.query_records, 2000, args.repeat)
        print(f"\nfull-text queries at {args.query_records} records "
              f"(median of {args.repeat}, first 50 ids, newest first)")
        for query, seconds in medians.items():
            print(f"  {query:16s}{seconds * 1000:8.1f} ms")
        worst = max(medians.values())
        print(f"slowest median: {worst * 1000:.1f} ms (target < 50 ms)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
