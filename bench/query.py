"""Typical queries on an archive of 100,000 records, against the same queries hand-written for sqlite3.

    python bench/query.py [--records 100000] [--repeat 21] [--cli 5] [--keep DIR | --archive PATH]
    python bench/query.py --postgres postgresql://postgres@127.0.0.1/bench [--pg-reuse] [--records N]

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

With --postgres the same cases run on PostgreSQL: the database (empty) becomes an archive through
our migrations, so its indexes are the shipped ones, and the rows of a SQLite archive filled as
above (or --archive) are copied in with COPY. Ours asks through archive.query on a reader engine
(JIT off, a statement timeout); the floor asks the same SQL by hand through psycopg, with the same
settings, and builds the same records key for key; the two must return identical results in every
case. No end-to-end lines there; the storage per record is printed last.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from functools import partial
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

_RECORD = ("SELECT p.id, s.slug, p.first_seen, p.last_seen, p.last_changed, p.url, p.kind, p.raw_title, "
           "p.title, p.number, p.year, p.session, p.category, p.content, p.adoption_label, p.adoption_class, "
           "p.implementation_status, p.impact_scope, p.approved_by, p.index_no, p.disclosure_category, "
           "p.publisher, p.generated_on, p.disclosure_mode, p.published_at, p.source, r.proposal_id, r.text, "
           "r.title, r.doc_number, r.addressee, r.signer, r.date, r.source, r.attachment_url "
           "FROM proposal p JOIN site s ON s.id = p.site_id LEFT JOIN reply r ON r.proposal_id = p.id "
           "WHERE p.id {ids}")


def _utc(value) -> str | None:
    """An instant as the archive's ISO text: sqlite3 gives the stored UTC text, psycopg a datetime."""
    if value is None:
        return None
    if isinstance(value, str):  # '2026-11-26 22:27:43.123456' -> '2026-11-26T22:27:43Z'
        return f"{value[:10]}T{value[11:19]}Z"
    return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _day(value) -> str | None:
    """A date as ISO text: sqlite3 gives the stored text, psycopg a date."""
    return value if value is None or isinstance(value, str) else value.isoformat()


def _records_by_hand(connection, ids: list[int]) -> list[dict]:
    """What archive.query.records returns, key for key, from hand-written SQL through sqlite3 or
    psycopg (ids as `IN (?, …)` or `= ANY(%s)`)."""
    if not ids:
        return []
    if isinstance(connection, sqlite3.Connection):
        where, params = f"IN ({','.join('?' * len(ids))})", ids
    else:
        where, params = "= ANY(%s)", (ids,)
    found = {}
    for row in connection.execute(_RECORD.format(ids=where), params):
        (pid, slug, first, last, changed, url, kind, raw_title, title, number, year, session, category,
         content, label, klass, status, scope, approved, index_no, d_category, publisher, generated, mode,
         published, source, reply_of, *reply) = row
        found[pid] = {
            "id": pid, "site": slug, "first_seen": _utc(first), "last_seen": _utc(last),
            "last_changed": _utc(changed), "url": url, "kind": kind, "raw_title": raw_title, "title": title,
            "number": number, "year": year, "session": session, "category": category, "lead_sponsors": [],
            "co_sponsors": [], "content": content, "lead_units": [], "co_units": [],
            "reply": None if reply_of is None else dict(zip(
                ("text", "title", "doc_number", "addressee", "signer", "date", "source", "attachment_url"),
                [*reply[:5], _day(reply[5]), *reply[6:]], strict=True)),
            "adoption_label": label, "adoption_class": klass, "implementation_status": status,
            "impact_scope": scope, "approved_by": approved,
            "disclosure": {"index_no": index_no, "category": d_category, "publisher": publisher,
                           "generated_on": _day(generated), "disclosure_mode": mode, "published_at": published,
                           "source": source},
            "attachments": [], "extra_fields": {}}
    for pid, role, name in connection.execute(
            f"SELECT ps.proposal_id, ps.role, pe.name FROM proposal_sponsor ps JOIN person pe ON pe.id = ps.person_id "
            f"WHERE ps.proposal_id {where} ORDER BY ps.proposal_id, ps.role, ps.position", params):
        found[pid][f"{role}_sponsors"].append(name)
    for pid, role, name in connection.execute(
            f"SELECT pu.proposal_id, pu.role, o.name FROM proposal_unit pu JOIN organization o "
            f"ON o.id = pu.organization_id WHERE pu.proposal_id {where} "
            f"ORDER BY pu.proposal_id, pu.role, pu.position", params):
        found[pid][f"{role}_units"].append(name)
    for pid, url, name in connection.execute(f"SELECT proposal_id, url, name FROM attachment "
                                             f"WHERE proposal_id {where} ORDER BY proposal_id, position", params):
        found[pid]["attachments"].append({"url": url, "name": name})
    for pid, label, value in connection.execute(f"SELECT proposal_id, label, value FROM extra_field "
                                                f"WHERE proposal_id {where} ORDER BY proposal_id, position",
                                                params):
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
    """Stats by adoption class and year (the same SQL on sqlite3 and psycopg): grouped as stored, so
    the (adoption_class, year) index serves it; every record in one group."""
    rows = connection.execute("SELECT adoption_class, year, count(*) FROM proposal "
                              "GROUP BY adoption_class, year").fetchall()
    total = sum(number for _, _, number in rows)
    table = [{"adoption_class": k or "none", "year": y, "count": n, "share": n / total if total else 0.0}
             for k, y, n in rows]
    table.sort(key=lambda r: (-r["count"], r["adoption_class"] is None, str(r["adoption_class"] or ""),
                              r["year"] is None, str(r["year"]) if r["year"] is not None else ""))
    return {"by": ["adoption_class", "year"], "total": total, "rows": table}


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


def measure(session, floors: dict, sponsor: str, repeat: int, *, matches: bool = False) -> list[str]:
    """Every case, ours and the floor interleaved, one line each; the differences between their
    results (none expected). `floors` holds the floor's functions of one database by case."""
    cases = [
        (f"sponsor {sponsor}", Filters(sponsor=sponsor), lambda: floors["sponsor"](sponsor)),
        ("adoption B + year 2023", Filters(adoption=("B",), year=(2023,)), lambda: floors["class_year"]("B", 2023)),
        ("text 渔 (1 character)", Filters(text="渔"), lambda: floors["short"]("渔")),
        ("text 养老 (2 characters)", Filters(text="养老"), lambda: floors["short"]("养老")),
        ("text 养老保障", Filters(text="养老保障"), lambda: floors["long"]("养老保障")),
        ("text 海水淡化", Filters(text="海水淡化"), lambda: floors["long"]("海水淡化")),
        ("newest 50, no filter", Filters(), floors["newest"]),
    ]
    measured = [(name, lambda f=filters: ours_query(session, f), floor) for name, filters, floor in cases]
    measured += [("count of 养老 (table output)", lambda: count(session, Filters(text="养老")),
                  lambda: floors["count"]("养老")),
                 ("stats by adoption_class, year", lambda: ours_stats(session), floors["stats"])]
    print(f"{'query':32s}{'ours ms':>10s}{'floor ms':>10s}{'ratio':>8s}" + (f"{'matches':>9s}" if matches else ""))
    worst_ratio, worst_ms, differences = 0.0, 0.0, []
    for name, ours_fn, floor_fn in measured:
        mine = ours_fn()
        difference = _first_difference(mine, floor_fn())
        if difference:
            differences.append(f"{name}: {difference}")
        ours, base = interleaved_ms(ours_fn, floor_fn, repeat)
        worst_ratio, worst_ms = max(worst_ratio, ours / base), max(worst_ms, ours)
        shown = len(mine) if isinstance(mine, list) else mine if isinstance(mine, int) else len(mine["rows"])
        print(f"{name:32s}{ours:10.1f}{base:10.1f}{ours / base:8.2f}" + (f"{shown:9d}" if matches else ""))
    print(f"slowest: {worst_ms:.1f} ms (target < 100 ms); largest ratio: {worst_ratio:.2f}x (target <= 2x)")
    if differences:
        print("ours and the floor differ:\n  " + "\n  ".join(differences))
    else:
        print("ours and the floor returned the same results (ids and every field of every record) in every case")
    return differences


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

# --- PostgreSQL: the archive filled from a SQLite one, the floor through psycopg ------------------------

# the tables a filled archive holds rows in, parents first
PG_TABLES = ("site", "person", "organization", "capture", "proposal", "proposal_sponsor", "proposal_unit",
             "reply", "attachment", "extra_field", "revision")


def _pg_connect(url: str):
    """A psycopg connection to the database of a SQLAlchemy URL (postgresql+psycopg://...)."""
    import psycopg
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    return psycopg.connect(host=parsed.host, port=parsed.port or 5432, user=parsed.username,
                           password=parsed.password, dbname=parsed.database, autocommit=True)


def _pg_url(value: str) -> str:
    from archive.db import resolve_url

    url, _ = resolve_url(value)
    if not url.startswith("postgresql"):
        raise SystemExit(f"--postgres takes a PostgreSQL URL (postgresql://user@host/db), not {value}")
    return url


def pg_proposals(url: str) -> int | None:
    """The records of the archive at url, or None when it holds no archive at all (no tables)."""
    with _pg_connect(url) as connection:
        if connection.execute("SELECT to_regclass('proposal')").fetchone()[0] is None:
            return None
        return connection.execute("SELECT count(*) FROM proposal").fetchone()[0]


def fill_postgres(url: str, source: Path) -> dict[str, float]:
    """An empty PostgreSQL database made an archive by our migrations (the shipped schema and
    indexes), then the rows of the SQLite archive `source` copied across with COPY. The secondary
    indexes are dropped for the copy and made again from their own definitions (as a bulk load
    does, a few at a time), then the tables are vacuumed and analysed. Returns the seconds each step took."""
    from archive.db import upgrade

    spent: dict[str, float] = {}
    start = time.perf_counter()
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    spent["migrations"] = time.perf_counter() - start
    lite = sqlite3.connect(source)
    with _pg_connect(url) as pg:
        pg.execute("SET timezone = 'UTC'")  # SQLite's timestamps are UTC, written without a zone
        indexes = pg.execute(
            "SELECT i.indexname, i.indexdef FROM pg_indexes i WHERE i.schemaname = current_schema() "
            "AND i.tablename = ANY(%s) AND NOT EXISTS (SELECT 1 FROM pg_constraint c "
            "WHERE c.conname = i.indexname)", (list(PG_TABLES),)).fetchall()
        start = time.perf_counter()
        with pg.transaction():
            for name, _ in indexes:
                pg.execute(f'DROP INDEX "{name}"')
            for table in PG_TABLES:
                columns = [name for (name,) in pg.execute(
                    "SELECT column_name FROM information_schema.columns WHERE table_schema = current_schema() "
                    "AND table_name = %s AND is_generated = 'NEVER' ORDER BY ordinal_position", (table,))]
                present = {row[1] for row in lite.execute(f"PRAGMA table_info({table})")}
                columns = [c for c in columns if c in present]
                names = ", ".join(columns)
                rows = lite.execute(f"SELECT {names} FROM {table} ORDER BY rowid")
                with pg.cursor().copy(f"COPY {table} ({names}) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(row)
                if "id" in columns:
                    pg.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                               f"coalesce((SELECT max(id) FROM {table}), 1))")
        spent["copy"] = time.perf_counter() - start
    lite.close()
    # the indexes, then VACUUM ANALYZE (statistics, and the visibility map index-only scans need),
    # a few at a time on connections of their own (GIN indexes build in one process each)
    start = time.perf_counter()
    _pg_parallel(url, [definition for _, definition in sorted(indexes, key=lambda i: "grams" not in i[0])])
    spent["indexes"] = time.perf_counter() - start
    start = time.perf_counter()
    _pg_parallel(url, [f"VACUUM (ANALYZE) {table}" for table in PG_TABLES])
    spent["vacuum analyze"] = time.perf_counter() - start
    return spent


def _pg_parallel(url: str, statements: list[str], workers: int = 3) -> None:
    from concurrent.futures import ThreadPoolExecutor

    def run(statement: str) -> None:
        with _pg_connect(url) as connection:
            connection.execute("SET maintenance_work_mem = '256MB'")
            connection.execute(statement)

    with ThreadPoolExecutor(max_workers=workers) as pool:
        list(pool.map(run, statements))


def pg_storage(url: str, records: int) -> list[tuple[str, float]]:
    """Bytes per record of the archive's tables (heap and TOAST) and indexes, the largest first."""
    with _pg_connect(url) as pg:
        rows = pg.execute(
            "SELECT c.relname, c.relkind, pg_total_relation_size(c.oid), pg_indexes_size(c.oid) FROM pg_class c "
            "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = current_schema() AND c.relkind = 'r'"
        ).fetchall()
        database = pg.execute("SELECT pg_database_size(current_database())").fetchone()[0]
    parts = [("whole database", database / records)]
    for name, _, total, indexes in sorted(rows, key=lambda r: -r[2]):
        if total >= database / 100:  # the tables that make a share of it
            parts.append((f"{name}: rows (with TOAST)", (total - indexes) / records))
            parts.append((f"{name}: indexes", indexes / records))
    return parts


def _pg_execute(connection, sql: str, params: tuple = ()) -> list[tuple]:
    """The rows of a statement; one that asks the grams indexes runs with sequential scans off, as
    archive.db has it (the planner would compute proposals_grams() on every row for a common character)."""
    grams = "proposals_grams(" in sql
    if grams:
        connection.execute("SET enable_seqscan = off")
    rows = connection.execute(sql, params).fetchall()
    if grams:
        connection.execute("RESET enable_seqscan")
    return rows


def _pg_ids(connection, where: str, params: tuple = ()) -> list[int]:
    return [r[0] for r in _pg_execute(connection, f"SELECT p.id FROM proposal p {where} {ORDER} LIMIT {LIMIT}",
                                      params)]


def _pg_text_ids(term: str) -> tuple[str, tuple]:
    """The ids holding a term, per column, as the indexes serve them: pg_trgm for three characters or
    more, the GIN indexes of proposals_grams() for one or two."""
    if len(term) >= 3:
        pattern = f"%{term}%"
        like = "LIKE" if term.lower() == term.upper() else "ILIKE"  # no letter with a case: LIKE says the same
        return (f"SELECT id FROM proposal WHERE title {like} %s OR content {like} %s "
                f"UNION SELECT proposal_id FROM reply WHERE text {like} %s", (pattern, pattern, pattern))
    grams = [term.lower()]
    return ("SELECT id FROM proposal WHERE proposals_grams(lower(title)) @> %s::text[] "
            "OR proposals_grams(lower(content)) @> %s::text[] "
            "UNION SELECT proposal_id FROM reply WHERE proposals_grams(lower(text)) @> %s::text[]",
            (grams, grams, grams))


def pg_floor_sponsor(connection, name):
    return _records_by_hand(connection, _pg_ids(
        connection, "WHERE p.id IN (SELECT ps.proposal_id FROM proposal_sponsor ps JOIN person pe "
                    "ON pe.id = ps.person_id WHERE pe.name = %s)", (name,)))


def pg_floor_class_year(connection, klass, year):
    return _records_by_hand(connection, _pg_ids(
        connection, "WHERE p.adoption_class = %s AND p.year = %s", (klass, year)))


def pg_floor_text(connection, term):
    ids, params = _pg_text_ids(term)
    return _records_by_hand(connection, _pg_ids(connection, f"WHERE p.id IN ({ids})", params))


def pg_floor_newest(connection):
    return _records_by_hand(connection, _pg_ids(connection, ""))


def pg_floor_count(connection, term):
    ids, params = _pg_text_ids(term)
    return _pg_execute(connection, f"SELECT count(p.id) FROM proposal p WHERE p.id IN ({ids})", params)[0][0]


def _first_difference(ours, floor, path: str = "") -> str | None:
    if isinstance(ours, dict) and isinstance(floor, dict):
        if list(ours) != list(floor):
            return f"{path or 'record'}: keys {list(ours)} against {list(floor)}"
        for key in ours:
            found = _first_difference(ours[key], floor[key], f"{path}.{key}" if path else str(key))
            if found:
                return found
        return None
    if isinstance(ours, list) and isinstance(floor, list):
        if len(ours) != len(floor):
            return f"{path or 'result'}: {len(ours)} items against {len(floor)}"
        for index, (a, b) in enumerate(zip(ours, floor, strict=True)):
            found = _first_difference(a, b, f"{path}[{index}]")
            if found:
                return found
        return None
    return None if ours == floor and type(ours) is type(floor) else f"{path}: ours {ours!r}, the floor {floor!r}"


def run_postgres(args) -> int:
    """The same cases on a PostgreSQL archive: ours through archive.query on a reader engine, the
    floor the same SQL by hand through psycopg (with the reader's settings), interleaved; the two
    must return the same records, key for key, in every case."""
    url = _pg_url(args.postgres)
    held = pg_proposals(url)
    if held is None or not args.pg_reuse:
        if held is not None:
            raise SystemExit(f"{args.postgres} already holds an archive ({held} records): give an empty database, "
                             "or --pg-reuse to query it as it is")
        with tempfile.TemporaryDirectory(prefix="bench-query-") as tmp:
            if args.archive is not None:
                source = args.archive
            else:
                directory = args.keep or Path(tmp)
                directory.mkdir(parents=True, exist_ok=True)
                start = time.perf_counter()
                source = fill(directory, args.records)
                print(f"filled a SQLite archive of {args.records} records in {time.perf_counter() - start:.0f} s")
            steps = fill_postgres(url, source)
        print("copied it to PostgreSQL: " + ", ".join(f"{step} {seconds:.0f} s" for step, seconds in steps.items()))
    args.records = pg_proposals(url)
    engine = make_engine(url, read_only=True)
    connection = _pg_connect(url)
    # the floor runs with every setting the reader's connections start with (archive.db.make_engine:
    # statement timeout, JIT and parallel workers off, read only), so both sides plan alike
    with engine.connect() as reader:
        settings = reader.exec_driver_sql("SELECT name, setting FROM pg_settings WHERE source = 'client'").all()
    for name, value in settings:
        connection.execute("SELECT set_config(%s, %s, false)", (name, value))
    sponsor = connection.execute("SELECT pe.name FROM person pe JOIN proposal_sponsor ps ON ps.person_id = pe.id "
                                 "GROUP BY pe.id ORDER BY count(*) DESC, pe.id LIMIT 1").fetchone()[0]
    print(f"queries on an archive of {args.records} records (PostgreSQL), median of {args.repeat} runs, "
          f"the first {LIMIT} records with all their fields")
    print("both sides with the reader's settings: " + ", ".join(f"{n}={v}" for n, v in settings))
    floors = {"sponsor": partial(pg_floor_sponsor, connection), "class_year": partial(pg_floor_class_year, connection),
              "short": partial(pg_floor_text, connection), "long": partial(pg_floor_text, connection),
              "newest": partial(pg_floor_newest, connection), "count": partial(pg_floor_count, connection),
              "stats": partial(floor_stats, connection)}
    with session_factory(engine)() as session:
        differences = measure(session, floors, sponsor, args.repeat, matches=True)
    engine.dispose()
    connection.close()
    print(f"\nstorage on PostgreSQL, {args.records} records:")
    for part, size in pg_storage(url, args.records):
        print(f"  {part:38s}{size / 1024:8.1f} KB per record")
    return 1 if differences else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=21)
    parser.add_argument("--cli", type=int, default=5, help="repetitions of the end-to-end CLI runs (0: none)")
    parser.add_argument("--archive", type=Path, help="an archive this bench filled before (e.g. with --keep): "
                                                      "used as it is, --records ignored")
    parser.add_argument("--keep", type=Path, help="fill the archive in this directory and keep it")
    parser.add_argument("--postgres", metavar="URL",
                        help="run the cases on PostgreSQL instead: an empty database (postgresql://user@host/db), "
                             "made an archive by our migrations and filled from a SQLite one (--archive, or "
                             "filled here); the database is left filled")
    parser.add_argument("--pg-reuse", action="store_true",
                        help="with --postgres: query the archive the database already holds, as it is")
    args = parser.parse_args(argv)
    if args.postgres:
        return run_postgres(args)
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
        print(f"queries on an archive of {args.records} records (SQLite), median of {args.repeat} runs, "
              f"the first {LIMIT} records with all their fields")
        floors = {"sponsor": partial(floor_sponsor, connection), "class_year": partial(floor_class_year, connection),
                  "short": partial(floor_grams, connection), "long": partial(floor_text, connection),
                  "newest": partial(floor_newest, connection), "count": partial(floor_count, connection),
                  "stats": partial(floor_stats, connection)}
        with session_factory(engine)() as session:
            differences = measure(session, floors, sponsor, args.repeat)
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
    return 1 if differences else 0


if __name__ == "__main__":
    sys.exit(main())
