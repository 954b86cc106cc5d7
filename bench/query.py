"""Typical queries on an archive of 100,000 records, against the same queries hand-written for sqlite3.

    python bench/query.py [--records 100000] [--repeat 21] [--cli 5] [--keep DIR | --archive PATH]

The archive is filled with copies of the fixture pages (varied URLs, titles, numbers, sponsors) by
the bare loader of bench/ingest.py. Each query is asked the way `proposals query -f json` asks it
(archive.query: the ids of the first 50 matches, newest first, then their whole records) and the
way `proposals stats` does; the floor asks the very same SQL by hand through `sqlite3` and builds
the same records from the rows. Ours and the floor alternate on every repetition (interleaved), and
the medians are compared. The cases: sponsor, adoption class + year, 1-, 2- and 4-character terms,
the unfiltered newest 50, the count the table output runs, stats by adoption class x year; then the
wall time of `proposals --version`, `--help`, typical queries and stats end to end (start-up included,
output piped), interleaved with the floor `python -c pass` (the interpreter starting and stopping).
Target: every query under 100 ms and within 2x of its floor; `proposals query` <= 0.35 s.
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

from ingest import Floor, build, fresh_archive  # noqa: E402

from archive.db import make_engine, session_factory  # noqa: E402
from archive.query import Filters, count, records, select_ids, stats  # noqa: E402
from archive.textindex import match_expression  # noqa: E402

LIMIT = 50
ORDER = "ORDER BY p.published_day DESC, p.id DESC"


def fill(directory: Path, count: int) -> Path:
    engine, site_id = fresh_archive(directory / "query.db")
    engine.dispose()
    floor = Floor(directory / "query.db", site_id, fts=True)  # it registers proposals_grams() for the triggers
    for offset in range(0, count, 2000):
        floor.write(floor.prepare("new", build(min(2000, count - offset), site_id, offset)["new"], offset + 1, 0))
    floor.close()
    return directory / "query.db"


# --- the floor: the same SQL, by hand ------------------------------------------------------------------

def _records_by_hand(connection: sqlite3.Connection, ids: list[int]) -> list[dict]:
    """What archive.query.records returns, from hand-written SQL: the proposal rows and their children."""
    if not ids:
        return []
    marks = ",".join("?" * len(ids))
    found = {}
    columns = [c[1] for c in connection.execute("PRAGMA table_xinfo(proposal)")]
    for row in connection.execute(f"SELECT p.*, s.slug FROM proposal p JOIN site s ON s.id = p.site_id "
                                  f"WHERE p.id IN ({marks})", ids):
        record = dict(zip([*columns, "site"], row, strict=True))
        record.update(lead_sponsors=[], co_sponsors=[], lead_units=[], co_units=[], attachments=[],
                      extra_fields={}, reply=None)
        found[record["id"]] = record
    for pid, role, name in connection.execute(
            f"SELECT ps.proposal_id, ps.role, pe.name FROM proposal_sponsor ps JOIN person pe ON pe.id = ps.person_id "
            f"WHERE ps.proposal_id IN ({marks}) ORDER BY ps.proposal_id, ps.role, ps.position", ids):
        found[pid][f"{role}_sponsors"].append(name)
    for pid, role, name in connection.execute(
            f"SELECT pu.proposal_id, pu.role, o.name FROM proposal_unit pu JOIN organization o "
            f"ON o.id = pu.organization_id WHERE pu.proposal_id IN ({marks}) "
            f"ORDER BY pu.proposal_id, pu.role, pu.position", ids):
        found[pid][f"{role}_units"].append(name)
    for row in connection.execute(f"SELECT proposal_id, text, title, doc_number, addressee, signer, date "
                                  f"FROM reply WHERE proposal_id IN ({marks})", ids):
        found[row[0]]["reply"] = dict(zip(("text", "title", "doc_number", "addressee", "signer", "date"), row[1:],
                                          strict=True))
    for pid, url, name in connection.execute(f"SELECT proposal_id, url, name FROM attachment "
                                             f"WHERE proposal_id IN ({marks}) ORDER BY proposal_id, position", ids):
        found[pid]["attachments"].append({"url": url, "name": name})
    for pid, label, value in connection.execute(f"SELECT proposal_id, label, value FROM extra_field "
                                                f"WHERE proposal_id IN ({marks}) ORDER BY proposal_id, position",
                                                ids):
        found[pid]["extra_fields"][label] = value
    return [found[i] for i in ids]


def floor_sponsor(connection, name):
    ids = [r[0] for r in connection.execute(
        f"SELECT p.id FROM proposal p WHERE p.id IN (SELECT ps.proposal_id FROM proposal_sponsor ps "
        f"JOIN person pe ON pe.id = ps.person_id WHERE pe.name = ?) {ORDER} LIMIT {LIMIT}", (name,))]
    return _records_by_hand(connection, ids)


def floor_class_year(connection, klass, year):
    ids = [r[0] for r in connection.execute(
        f"SELECT p.id FROM proposal p WHERE p.adoption_class = ? AND p.year = ? {ORDER} LIMIT {LIMIT}",
        (klass, year))]
    return _records_by_hand(connection, ids)


def floor_text(connection, term):
    ids = [r[0] for r in connection.execute(
        f"SELECT p.id FROM proposal p WHERE p.id IN (SELECT rowid FROM proposal_fts WHERE proposal_fts MATCH ?) "
        f"{ORDER} LIMIT {LIMIT}", (f'"{term}"',))]
    return _records_by_hand(connection, ids)


def floor_grams(connection, term):
    ids = [r[0] for r in connection.execute(
        f"SELECT p.id FROM proposal p WHERE p.id IN (SELECT rowid FROM proposal_fts_grams WHERE proposal_fts_grams "
        f"MATCH ?) {ORDER} LIMIT {LIMIT}", (match_expression(term),))]
    return _records_by_hand(connection, ids)


def floor_newest(connection):
    ids = [r[0] for r in connection.execute(f"SELECT p.id FROM proposal p {ORDER} LIMIT {LIMIT}")]
    return _records_by_hand(connection, ids)


def floor_count(connection, term):
    return connection.execute("SELECT count(p.id) FROM proposal p WHERE p.id IN (SELECT rowid FROM proposal_fts_grams "
                              "WHERE proposal_fts_grams MATCH ?)",
                              (match_expression(term),)).fetchone()[0]


def floor_stats(connection):
    # grouped as stored, in the order of the (adoption_class, year) index; every record in one group
    rows = connection.execute("SELECT adoption_class, year, count(*) FROM proposal "
                              "GROUP BY adoption_class, year").fetchall()
    total = sum(number for _, _, number in rows)
    table = defaultdict(int)
    for klass, year, number in rows:
        table[(klass or "none", year)] = number
    return {"total": total, "rows": [{"adoption_class": k, "year": y, "count": n, "share": n / total}
                                     for (k, y), n in table.items()]}


# --- ours ------------------------------------------------------------------------------------------------

def ours_query(session, filters):
    return records(session, select_ids(session, filters, limit=LIMIT))


def ours_stats(session):
    return stats(session, Filters(), ["adoption_class", "year"])


def interleaved_ms(ours, floor, repeat: int) -> tuple[float, float]:
    """Medians of ours and the floor, run one after the other on every repetition (after a warm-up)."""
    ours(), floor()
    mine, base = [], []
    for _ in range(repeat):
        for fn, times in ((ours, mine), (floor, base)):
            start = time.perf_counter()
            fn()
            times.append(time.perf_counter() - start)
    return statistics.median(mine) * 1000, statistics.median(base) * 1000


# what the end-to-end lines run: the floor (the interpreter starting and stopping), then the CLI
CLI_RUNS = (
    ("python -c pass (the floor)", [sys.executable, "-c", "pass"]),
    ("proposals --version", ["--version"]),
    ("proposals --help", ["--help"]),
    ("proposals query 养老 --adoption B", ["query", "养老", "--adoption", "B"]),
    ("proposals query 养老 -f json", ["query", "养老", "--format", "json"]),
    ("proposals query --sponsor NAME", ["query", "--sponsor", "{sponsor}"]),
    ("proposals stats --by adoption_class --by year", ["stats", "--by", "adoption_class", "--by", "year"]),
)
CLI_TARGETS = {"proposals --version": 0.15}


def cli_wall(path: Path, repeat: int, sponsor: str) -> list[tuple[str, float]]:
    """Median wall seconds of each CLI_RUNS line, end to end (start-up included), output to a pipe.
    The runs alternate on every repetition (interleaved), so the floor sees the same machine."""
    proposals = str(Path(sys.executable).with_name("proposals"))
    env = {**os.environ, "PROPOSALS_DB": str(path)}
    # as on a user's machine, the first run leaves bytecode that the next ones load (a sandbox that
    # sets PYTHONDONTWRITEBYTECODE would otherwise compile the project's modules on every run)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    argvs = [argv if argv[0] == sys.executable else [proposals, *(a.format(sponsor=sponsor) for a in argv)]
             for _, argv in CLI_RUNS]
    times: list[list[float]] = [[] for _ in argvs]
    for repetition in range(repeat + 1):
        for argv, spent in zip(argvs, times, strict=True):
            start = time.perf_counter()
            subprocess.run(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, check=True)
            if repetition:  # the first round warms the page cache and the bytecode
                spent.append(time.perf_counter() - start)
    return [(name, statistics.median(spent)) for (name, _), spent in zip(CLI_RUNS, times, strict=True)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=21)
    parser.add_argument("--cli", type=int, default=5, help="repetitions of the end-to-end CLI runs (0: none)")
    parser.add_argument("--archive", type=Path, help="an archive this bench filled before (e.g. with --keep): "
                                                      "used as it is, --records ignored")
    parser.add_argument("--keep", type=Path, help="fill the archive in this directory and keep it")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="bench-query-") as tmp:
        if args.archive is not None:
            path = args.archive
            with sqlite3.connect(path) as probe:
                args.records = probe.execute("SELECT count(*) FROM proposal").fetchone()[0]
        else:
            directory = args.keep or Path(tmp)
            directory.mkdir(parents=True, exist_ok=True)
            path = fill(directory, args.records)
        connection = sqlite3.connect(path)
        engine = make_engine(f"sqlite:///{path}")
        # the sponsor with the most records: what an analyst asks about first
        sponsor = connection.execute("SELECT pe.name FROM person pe JOIN proposal_sponsor ps ON ps.person_id = pe.id "
                                     "GROUP BY pe.id ORDER BY count(*) DESC, pe.id LIMIT 1").fetchone()[0]
        cases = [
            (f"sponsor {sponsor}", Filters(sponsor=sponsor), lambda: floor_sponsor(connection, sponsor)),
            ("adoption B + year 2023", Filters(adoption=("B",), year=(2023,)),
             lambda: floor_class_year(connection, "B", 2023)),
            ("text 渔 (1 character)", Filters(text="渔"), lambda: floor_grams(connection, "渔")),
            ("text 养老 (2 characters)", Filters(text="养老"), lambda: floor_grams(connection, "养老")),
            ("text 养老保障", Filters(text="养老保障"), lambda: floor_text(connection, "养老保障")),
            ("text 海水淡化", Filters(text="海水淡化"), lambda: floor_text(connection, "海水淡化")),
            ("newest 50, no filter", Filters(), lambda: floor_newest(connection)),
        ]
        print(f"queries on an archive of {args.records} records (SQLite), median of {args.repeat} runs, "
              f"the first {LIMIT} records with all their fields")
        print(f"{'query':32s}{'ours ms':>10s}{'floor ms':>10s}{'ratio':>8s}")
        worst_ratio, worst_ms = 0.0, 0.0
        with session_factory(engine)() as session:
            measured = [(name, lambda f=filters: ours_query(session, f), floor) for name, filters, floor in cases]
            measured += [("count of 养老 (table output)", lambda: count(session, Filters(text="养老")),
                          lambda: floor_count(connection, "养老")),
                         ("stats by adoption_class, year", lambda: ours_stats(session),
                          lambda: floor_stats(connection))]
            for name, ours_fn, floor_fn in measured:
                ours, base = interleaved_ms(ours_fn, floor_fn, args.repeat)
                worst_ratio, worst_ms = max(worst_ratio, ours / base), max(worst_ms, ours)
                print(f"{name:32s}{ours:10.1f}{base:10.1f}{ours / base:8.2f}")
        print(f"slowest: {worst_ms:.1f} ms (target < 100 ms); largest ratio: {worst_ratio:.2f}x (target <= 2x)")
        engine.dispose()
        connection.close()
        if args.cli:
            print(f"\nend to end on {args.records} records, output piped, median of {args.cli} interleaved runs:")
            print(f"{'command':48s}{'wall s':>8s}{'- floor':>9s}{'target':>8s}")
            walls = cli_wall(path, args.cli, sponsor)
            floor = walls[0][1]
            for name, seconds in walls:
                target = CLI_TARGETS.get(name, 0.35 if name.startswith("proposals q") else None)
                shown = f"{target:8.2f}" if target else f"{'':8s}"
                print(f"{name:48s}{seconds:8.3f}{seconds - floor:9.3f}{shown}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
