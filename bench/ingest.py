"""Ingest throughput against a bare sqlite3 floor, for new, unchanged and changed records, and storage.

    python bench/ingest.py [--records 10000] [--batch 500] [--repeat 3] [--query-records 100000]

Records are copies of the fixture pages with varied URLs and fields (titles, numbers, sponsor
names), built before any clock starts. Each repetition runs three sides, in an order that
rotates from one repetition to the next, each into a fresh archive and through three phases:

- new: every record for the first time;
- unchanged: the same records from the same bytes, seen again;
- changed: every record from new bytes with two fields changed (落实情况 and the sponsors).

The sides are `ingest_batch` in transactions of `--batch` records, and the floor: the very rows
`ingest_batch` writes, prepared before the clock starts, written with `sqlite3` `executemany` in
transactions of the same size, ids known in advance: no lookups, no diffing, no SQLAlchemy. For
unchanged and changed records the floor also reads the stored rows of the batch (proposal and
children), as any loader must to know what changed. The floor runs twice, with and without the
full-text index (FTS5, trigram) that both sides maintain: its cost, the difference, is shown, and
the ratio is given both with it and without it (that cost taken off both sides).

Then storage: the bytes of the ingest archive's file per record after the new phase and after
all three, and what they consist of (SQLite's dbstat: captures, the full-text index, indexes,
tables). Last, an archive of `--query-records` records answers typical full-text queries; the
median time of each is printed (0 skips it).
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
from archive.ingest import CaptureIn, _json, ensure_site, ingest_batch  # noqa: E402
from archive.records import child_rows, flatten, proposal_row  # noqa: E402
from archive.search import search_ids  # noqa: E402
from archive.textindex import register  # noqa: E402
from crawler.parsers import PARSER_VERSION, ProposalRecord, parse_detail  # noqa: E402

FIXTURES = HERE.parent / "tests" / "fixtures"
QUERIES = ("电信网络诈骗", "养老保障", "停车设施", "海水淡化 工程", "县财政局")
WHEN = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)
SEEN = dt.datetime(2026, 11, 2, tzinfo=dt.UTC)
LATER = dt.datetime(2026, 11, 3, tzinfo=dt.UTC)
PHASES = ("new", "unchanged", "changed")
CHILDREN = ("proposal_sponsor", "proposal_unit", "reply", "attachment", "extra_field")


def fixture_pages() -> list[tuple[bytes, ProposalRecord]]:
    return [(body, parse_detail(body, url)) for body, url in load_pages(FIXTURES)]


def variant(index: int, body: bytes, record: ProposalRecord) -> tuple[bytes, ProposalRecord]:
    """Copy `index` of a page: its own URL, title, number and sponsors, and so its own bytes."""
    stem, dot, ext = record.url.rpartition(".")  # .html and the TRS sites' .shtml alike
    url = f"{stem}_{index}{dot}{ext}"
    sponsors = tuple(f"{name}{index % 997}" for name in record.lead_sponsors)
    return (body + f"<!-- copy {index} -->".encode(),
            dataclasses.replace(record, url=url, raw_title=f"{record.raw_title}（{index}）",
                                title=f"{record.title}（{index}）", number=str(100000 + index),
                                lead_sponsors=sponsors))


def changed(record: ProposalRecord, body: bytes) -> tuple[bytes, ProposalRecord]:
    """The record as a later capture gives it: work done, one more co-sponsor."""
    status = "已落实" if record.implementation_status != "已落实" else "落实中"
    return (body + b"<!-- later -->",
            dataclasses.replace(record, implementation_status=status, co_sponsors=(*record.co_sponsors, "后来者")))


_PAGES: list[tuple[bytes, ProposalRecord]] = []


def build(count: int, site_id: int, start: int = 0) -> dict[str, list[tuple[ProposalRecord, CaptureIn]]]:
    """The items of every phase: new, the same again (unchanged), and changed."""
    pages = _PAGES or _PAGES.extend(fixture_pages()) or _PAGES
    phases: dict[str, list] = {phase: [] for phase in PHASES}
    for index in range(start, start + count):
        body, record = variant(index, *pages[index % len(pages)])
        phases["new"].append((record, CaptureIn(site_id, record.url, body, WHEN, source="import")))
        phases["unchanged"].append((record, CaptureIn(site_id, record.url, body, SEEN, source="import")))
        later_body, later = changed(record, body)
        phases["changed"].append((later, CaptureIn(site_id, record.url, later_body, LATER, source="import")))
    return phases


def fresh_archive(path: Path):
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    with session_factory(engine)() as session, session.begin():
        site_id = ensure_site(session, "bench", name="bench", base_url="https://bench.example").id
    return engine, site_id


def run_ingest(path: Path, phases, batch: int) -> dict[str, float]:
    engine, _ = fresh_archive(path)
    times = {}
    for phase in PHASES:
        items = phases[phase]
        start = time.perf_counter()
        for offset in range(0, len(items), batch):
            with session_factory(engine)() as session, session.begin():
                ingest_batch(session, items[offset:offset + batch])
        times[phase] = time.perf_counter() - start
    engine.dispose()
    return times


def _stamp(value: dt.datetime) -> str:
    return value.replace(tzinfo=None).isoformat(sep=" ")


def _fts(proposal_id: int, data: dict) -> dict:
    return {"id": proposal_id, "title": data["title"], "content": data["content"],
            "reply": data["reply"]["text"] if data["reply"] else None}


class Floor:
    """A bare loader: every row ingest writes, prepared before the clock, `executemany` per table."""

    def __init__(self, path: Path, site_id: int, *, fts: bool, stored: dict[str, ProposalRecord] | None = None) -> None:
        self.site_id, self.fts = site_id, fts
        self.stored = stored or {}  # url -> the record archived there (what a changed record replaces)
        self.people: dict[str, int] = {}
        self.units: dict[str, int] = {}
        self.connection = sqlite3.connect(path, isolation_level=None)
        register(self.connection)  # the short-term index's triggers fire on the floor's inserts too
        for pragma in ("journal_mode=WAL", "synchronous=NORMAL", "foreign_keys=ON"):
            self.connection.execute(f"PRAGMA {pragma}")

    def _names(self, data: dict, tables: dict) -> None:
        for key, names, table in (("sponsors", self.people, "person"), ("units", self.units, "organization")):
            for name in data[f"lead_{key}"] + data[f"co_{key}"]:
                if name not in names:
                    names[name] = len(names) + 1
                    tables.setdefault(table, []).append({"id": names[name], "site_id": self.site_id, "name": name})

    def _children(self, proposal_id: int, data: dict, tables: dict) -> None:
        for name, rows in child_rows(proposal_id, data, self.people, self.units).items():
            for row in rows:
                if name == "reply":
                    row["date"] = row["date"].isoformat() if row["date"] else None
            tables.setdefault(name, []).extend(rows)

    @staticmethod
    def _row(data: dict) -> dict:
        row = proposal_row(data)
        row["generated_on"] = row["generated_on"].isoformat() if row["generated_on"] else None
        return row

    def prepare(self, phase: str, items, first_id: int, capture_base: int) -> dict:
        """The statements of one batch: {"read": ids, "sql": [(statement, rows)]}."""
        tables: dict[str, list[dict]] = {}
        sql: list[tuple[str, list[dict]]] = []
        ids = list(range(first_id, first_id + len(items)))
        if phase == "new":
            for proposal_id, (record, capture) in zip(ids, items, strict=True):
                data = record.to_dict()
                self._names(data, tables)
                self._children(proposal_id, data, tables)
                created = _stamp(capture.fetched_at)
                tables.setdefault("capture", []).append(capture.row("record") | {
                    "id": proposal_id, "fetched_at": created, "last_seen_at": created})
                tables.setdefault("proposal", []).append(self._row(data) | {
                    "id": proposal_id, "site_id": self.site_id, "url": capture.url, "first_seen": created,
                    "last_seen": created, "last_changed": created, "capture_id": proposal_id})
                tables.setdefault("fts", []).append(_fts(proposal_id, data))
            order = ("person", "organization", "capture", "proposal", *CHILDREN, "fts")
            return {"read": [], "sql": [self._insert(t, tables[t]) for t in order if tables.get(t)]}
        if phase == "unchanged":
            seen = _stamp(items[0][1].fetched_at)
            sql.append(("UPDATE capture SET last_seen_at = ?, parser_version = ?, outcome = 'record', error = NULL "
                        "WHERE id = ?", [(seen, PARSER_VERSION, i) for i in ids]))
            sql.append(("UPDATE proposal SET last_seen = ?, capture_id = ? WHERE id = ?",
                        [(seen, i, i) for i in ids]))
            return {"read": ids, "sql": sql}
        # changed: a capture of its own, the proposal row, its children rewritten, a revision per field
        olds = {i: self.stored[capture.url].to_dict() for i, (_, capture) in zip(ids, items, strict=True)}
        revisions, updates, fts_old = [], [], []
        for proposal_id, (record, capture) in zip(ids, items, strict=True):
            data = record.to_dict()
            capture_id = capture_base + proposal_id
            when = _stamp(capture.fetched_at)
            self._names(data, tables)
            self._children(proposal_id, data, tables)
            tables.setdefault("capture", []).append(capture.row("record") | {
                "id": capture_id, "fetched_at": when, "last_seen_at": when})
            old_flat, new_flat = flatten(olds[proposal_id]), flatten(data)
            revisions += [{"proposal_id": proposal_id, "capture_id": capture_id, "changed_at": when, "field": name,
                           "old_value": _json(old_flat[name]), "new_value": _json(value)}
                          for name, value in new_flat.items() if old_flat[name] != value]
            updates.append(self._row(data) | {"id": proposal_id, "last_seen": when, "last_changed": when,
                                              "capture_id": capture_id})
            fts_old.append(_fts(proposal_id, olds[proposal_id]) | {"command": "delete"})
            tables.setdefault("fts", []).append(_fts(proposal_id, data))
        for table in ("person", "organization", "capture"):
            if tables.get(table):
                sql.append(self._insert(table, tables[table]))
        marks = ", ".join("?" * len(ids))
        sql += [(f"DELETE FROM {table} WHERE proposal_id IN ({marks})", [tuple(ids)]) for table in CHILDREN]
        columns = [c for c in updates[0] if c != "id"]
        sql.append((f"UPDATE proposal SET {', '.join(f'{c} = :{c}' for c in columns)} WHERE id = :id", updates))
        sql += [self._insert(table, tables[table]) for table in CHILDREN if tables.get(table)]
        sql.append(self._insert("revision", revisions))
        sql.append(("INSERT INTO proposal_fts(proposal_fts, rowid, title, content, reply) "
                    "VALUES (:command, :id, :title, :content, :reply)", fts_old))
        sql.append(self._insert("fts", tables["fts"]))
        return {"read": ids, "sql": sql}

    @staticmethod
    def _insert(table: str, rows: list[dict]) -> tuple[str, list[dict]]:
        if table == "fts":
            return "INSERT INTO proposal_fts(rowid, title, content, reply) VALUES (:id, :title, :content, :reply)", rows
        columns = list(rows[0])
        return f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join(':' + c for c in columns)})", rows

    def write(self, batch: dict) -> None:
        """One transaction: read what the batch replaces, then its rows, table by table."""
        connection = self.connection
        connection.execute("BEGIN IMMEDIATE")
        ids = batch["read"]
        if ids:
            marks = ", ".join("?" * len(ids))
            connection.execute(f"SELECT * FROM proposal WHERE id IN ({marks})", ids).fetchall()
            for table in CHILDREN:
                connection.execute(f"SELECT * FROM {table} WHERE proposal_id IN ({marks})", ids).fetchall()
        for statement, rows in batch["sql"]:
            if not self.fts and "proposal_fts" in statement:
                continue
            connection.executemany(statement, rows)
        connection.execute("COMMIT")

    def close(self) -> None:
        self.connection.close()


def run_floor(path: Path, phases, batch: int, *, fts: bool) -> dict[str, float]:
    _, site_id = fresh_archive(path)
    floor = Floor(path, site_id, fts=fts, stored={capture.url: record for record, capture in phases["new"]})
    count = len(phases["new"])
    times = {}
    for phase in PHASES:
        items = phases[phase]
        prepared = [floor.prepare(phase, items[o:o + batch], o + 1, count) for o in range(0, len(items), batch)]
        start = time.perf_counter()
        for statements in prepared:
            floor.write(statements)
        times[phase] = time.perf_counter() - start
    floor.close()
    return times


def storage(path: Path) -> tuple[int, dict[str, int], tuple[int, int]]:
    """(file bytes, bytes by part, (raw page bytes, compressed page bytes)) of an archive."""
    connection = sqlite3.connect(path)
    connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    parts: dict[str, int] = {}
    indexes = {name for (name,) in connection.execute("SELECT name FROM sqlite_master WHERE type = 'index'")}
    for name, size in connection.execute("SELECT name, sum(pgsize) FROM dbstat GROUP BY name"):
        if name.startswith("proposal_fts"):
            part = "full-text index (FTS5)"
        elif name in indexes:
            part = "indexes"
        elif name == "capture":
            part = "capture (page bytes compressed)"
        elif name == "proposal":
            part = "proposal"
        else:
            part = "other tables"
        parts[part] = parts.get(part, 0) + size
    pages = connection.execute("SELECT sum(size), sum(length(body)) FROM capture").fetchone()
    connection.close()
    return path.stat().st_size, parts, pages


def query_latency(directory: Path, count: int, batch: int, repeat: int) -> dict[str, float]:
    path = directory / "query.db"
    _, site_id = fresh_archive(path)
    floor = Floor(path, site_id, fts=True)
    for offset in range(0, count, batch):  # filled by the bare loader, a batch at a time
        floor.write(floor.prepare("new", build(min(batch, count - offset), site_id, offset)["new"], offset + 1, 0))
    floor.close()
    engine = make_engine(f"sqlite:///{path}", read_only=True)
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
    parser.add_argument("--repeat", type=int, default=3, help="repetitions of the three sides, interleaved")
    parser.add_argument("--query-records", type=int, default=100_000)
    parser.add_argument("--query-repeat", type=int, default=21)
    args = parser.parse_args(argv)
    n = args.records
    with tempfile.TemporaryDirectory(prefix="bench-ingest-") as tmp:
        directory = Path(tmp)
        phases = build(n, 1)  # every fresh archive's one site gets id 1
        sides = {"ingest_batch": lambda p: run_ingest(p, phases, args.batch),
                 "floor, FTS": lambda p: run_floor(p, phases, args.batch, fts=True),
                 "floor, no FTS": lambda p: run_floor(p, phases, args.batch, fts=False)}
        names = list(sides)
        times: dict[str, dict[str, list[float]]] = {name: {phase: [] for phase in PHASES} for name in names}
        for repetition in range(args.repeat):
            for name in names[repetition % 3:] + names[:repetition % 3]:
                path = directory / f"{name.split(',')[0].replace(' ', '')}-{repetition}.db"
                for phase, seconds in sides[name](path).items():
                    times[name][phase].append(seconds)
                if name == "ingest_batch" and repetition == 0:
                    kept_path = path
                elif path.exists():
                    for suffix in ("", "-wal", "-shm"):
                        Path(f"{path}{suffix}").unlink(missing_ok=True)
        med = {name: {phase: statistics.median(times[name][phase]) for phase in PHASES} for name in names}
        print(f"ingest of {n} records in transactions of {args.batch}, median of {args.repeat} interleaved "
              "repetitions (records/s)")
        print(f"{'':12s}{'ingest_batch':>14s}{'floor, FTS':>12s}{'floor, no FTS':>15s}{'FTS cost':>10s}"
              f"{'ratio':>8s}{'ratio w/o FTS':>15s}")
        for phase in PHASES:
            ours, floor, bare = med["ingest_batch"][phase], med["floor, FTS"][phase], med["floor, no FTS"][phase]
            fts = max(floor - bare, 0.0)
            print(f"{phase:12s}{n / ours:14.0f}{n / floor:12.0f}{n / bare:15.0f}{fts / floor:9.0%} "
                  f"{ours / floor:7.2f}x{(ours - fts) / bare:14.2f}x")
        total = {name: sum(med[name].values()) for name in names}
        fts_total = max(total["floor, FTS"] - total["floor, no FTS"], 0.0)
        print(f"{'all three':12s}{3 * n / total['ingest_batch']:14.0f}{3 * n / total['floor, FTS']:12.0f}"
              f"{3 * n / total['floor, no FTS']:15.0f}{fts_total / total['floor, FTS']:9.0%} "
              f"{total['ingest_batch'] / total['floor, FTS']:7.2f}x"
              f"{(total['ingest_batch'] - fts_total) / total['floor, no FTS']:14.2f}x   (target <= 5x)")
        print("(FTS cost: the floor's time with the full-text index less its time without, as a share of the "
              "former;\n ratio w/o FTS: both sides' times with that cost taken off)")

        new_only = directory / "storage-new.db"
        engine, _ = fresh_archive(new_only)
        for offset in range(0, n, args.batch):
            with session_factory(engine)() as session, session.begin():
                ingest_batch(session, phases["new"][offset:offset + args.batch])
        engine.dispose()
        for title, path, captures in (("after the new phase", new_only, n),
                                      ("after all three phases", kept_path, 2 * n)):
            size, parts, (raw, packed) = storage(path)
            print(f"\nstorage {title}: {size / n / 1024:.1f} KB per record ({size / 2**20:.1f} MB, {n} records, "
                  f"{captures} captures; pages {raw / captures / 1024:.1f} KB raw, "
                  f"{packed / captures / 1024:.1f} KB compressed each)")
            for part, part_size in sorted(parts.items(), key=lambda item: -item[1]):
                print(f"  {part:34s}{part_size / n / 1024:8.1f} KB per record  {part_size / size:5.0%}")
        if args.query_records:
            medians = query_latency(directory, args.query_records, 2000, args.query_repeat)
            print(f"\nfull-text queries at {args.query_records} records "
                  f"(median of {args.query_repeat}, first 50 ids, newest first)")
            for query, seconds in medians.items():
                print(f"  {query:16s}{seconds * 1000:8.1f} ms")
            worst = max(medians.values())
            print(f"slowest median: {worst * 1000:.1f} ms (target < 50 ms)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
