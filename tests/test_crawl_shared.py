"""Crawls shared by workers through Redis (scrapy-redis) into one PostgreSQL archive.

The fleet: 24 replica sites (a port each), 9 records each (216 records), every answer taking
0.25 s, each site's delay 0.25 s in its sites file; AutoThrottle, robots.txt, retries and
CONCURRENT_REQUESTS_PER_DOMAIN (2) as shipped. Needs Redis and PostgreSQL on 127.0.0.1
(skipped with the reason where either is absent).
"""

from __future__ import annotations

import os
import pickle
import signal
import subprocess
import sys
import time
from collections import Counter

import pytest
from conftest import POSTGRES_SKIP, fresh_postgres_database
from fleet import Workers, fleet, redis_key, stop
from sqlalchemy import func, select

from archive.db import make_engine, upgrade
from archive.models import CrawlRun, Organization, Person, Proposal

REDIS_URL = os.environ.get("PROPOSALS_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
SITES, RECORDS, LATENCY, DELAY = 24, 9, 0.25, 0.25
ALLOWED = 2  # CONCURRENT_REQUESTS_PER_DOMAIN, shipped


def _redis_reason() -> str | None:
    try:
        import redis

        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping()
    except Exception as error:
        return f"no Redis at {REDIS_URL} ({error}); set PROPOSALS_TEST_REDIS_URL to run these tests"
    return None


REDIS_SKIP = _redis_reason()
needs_redis = pytest.mark.skipif(bool(REDIS_SKIP), reason=REDIS_SKIP or "")


def needs_both(test):
    """Redis and PostgreSQL."""
    postgres = pytest.mark.skipif(bool(POSTGRES_SKIP), reason=POSTGRES_SKIP or "")
    for mark in (needs_redis, pytest.mark.postgres, postgres):
        test = mark(test)
    return test


@pytest.fixture
def key():
    """A key prefix of the test's own; its keys are deleted afterwards."""
    from crawler.shared import Frontier

    name = redis_key()
    yield name
    Frontier(REDIS_URL, name).clear()


@pytest.fixture
def pg():
    with fresh_postgres_database() as url:
        engine = make_engine(url)
        upgrade(engine)
        engine.dispose()
        yield url


@pytest.fixture(scope="module")
def sites():
    replicas = fleet(SITES, RECORDS, LATENCY)
    yield replicas
    stop(replicas)


def _clear_logs(replicas) -> None:
    for replica in replicas.values():
        replica.clear_log()
        replica._spans.clear()


def _archived(db: str) -> Counter:
    engine = make_engine(db)
    with engine.connect() as connection:
        urls = Counter(connection.scalars(select(Proposal.url)).all())
    engine.dispose()
    return urls


def _people(db: str) -> tuple[int, int]:
    engine = make_engine(db)
    with engine.connect() as connection:
        counts = (connection.scalar(select(func.count(Person.id))),
                  connection.scalar(select(func.count(Organization.id))))
    engine.dispose()
    return counts


def _expected(replicas) -> set[str]:
    return {replica.url(record["path"]) for replica in replicas.values() for record in replica.columns[0].records}


def _crawl(tmp_path, replicas, db, key, workers: int) -> tuple[float, list[subprocess.CompletedProcess]]:
    """`workers` workers, every one started with the same command naming every site; wall seconds."""
    crew = Workers(tmp_path, replicas, REDIS_URL, db, key, delay=DELAY)
    started = time.monotonic()
    processes = [crew.start(*replicas) for _ in range(workers)]
    results = []
    for process in processes:
        out, err = process.communicate(timeout=150)
        results.append(subprocess.CompletedProcess(process.args, process.returncode, out, err))
    return time.monotonic() - started, results


def _concurrency(replicas) -> dict[str, int]:
    return {slug: replica.max_concurrency() for slug, replica in replicas.items()}


@needs_both
def test_three_workers_archive_every_record_once_and_politely(tmp_path, sites, pg, key):
    expected = _expected(sites)
    assert len(expected) == SITES * RECORDS

    _clear_logs(sites)
    alone, results = _crawl(tmp_path / "one", sites, pg, key, 1)
    assert results[0].returncode == 0, results[0].stderr[-2000:]
    assert _archived(pg) == Counter(expected)
    one_host = _concurrency(sites)
    people_alone = _people(pg)

    with fresh_postgres_database() as db:
        engine = make_engine(db)
        upgrade(engine)
        _clear_logs(sites)
        together, results = _crawl(tmp_path / "three", sites, db, key + "-3", 3)
        for result in results:
            assert result.returncode == 0, result.stderr[-2000:]
        archived = _archived(db)
        people_together = _people(db)
        with engine.connect() as connection:
            runs = connection.execute(select(CrawlRun.host, CrawlRun.pid, func.sum(CrawlRun.new))
                                      .group_by(CrawlRun.host, CrawlRun.pid)).all()
        engine.dispose()
    from crawler.shared import Frontier

    Frontier(REDIS_URL, key + "-3").clear()
    # every record archived exactly once, in one archive written by three workers
    assert archived == Counter(expected)
    # the persons and units every site shares, written by three workers at once: each once
    assert people_together == people_alone and min(people_alone) > 0
    # each worker wrote its own crawl_run rows; their counts add up to the crawl (and say so in the summary)
    assert len(runs) == 3 and sum(new for *_, new in runs) == len(expected)
    assert all(new > 0 for *_, new in runs), runs
    last = [r for r in results if "3 finished so far" in r.stderr]
    assert len(last) == 1 and f"{len(expected)} new" in last[0].stderr.split("together:")[1]
    # seeded once, fetched once: each column page and each record's page asked for once by all workers
    for replica in sites.values():
        asked = Counter(entry.path for entry in replica.requests() if "/col/" in entry.path or "/art/" in entry.path)
        assert set(asked.values()) == {1}, asked.most_common(3)
    # no host ever answered more requests at once than it allows, with one worker or with three
    three_hosts = _concurrency(sites)
    assert max(one_host.values()) <= ALLOWED and max(three_hosts.values()) <= ALLOWED, (one_host, three_hosts)
    # how much faster three workers are is bench/crawl.py --workers' to say (tests assert no timings:
    # on a loaded 2-core machine four crawling processes need not beat one); each did its share above
    print(f"1 worker: {alone:.1f} s; 3 workers: {together:.1f} s; most at once per host: "
          f"{max(one_host.values())} / {max(three_hosts.values())}")


@needs_both
def test_a_worker_killed_midway_costs_nothing(tmp_path, sites, pg, key):
    from crawler.shared import Frontier

    expected = _expected(sites)
    _clear_logs(sites)
    crew = Workers(tmp_path, sites, REDIS_URL, pg, key, delay=DELAY)
    frontier = Frontier(REDIS_URL, key)
    seeder = crew.start(*sites)
    victim, other = crew.start(), crew.start()  # these join the crawl the first one seeds
    held, deadline = 0, time.monotonic() + 60
    victim_name, status = None, None
    while time.monotonic() < deadline and victim.poll() is None:  # midway: a quarter done, the victim holding some
        status = frontier.status()
        done = sum(row["done"] for row in status["sites"])
        mine = [w for w in status["workers"] if f":{victim.pid}:" in w["worker"]]
        if mine and mine[0]["in_flight"] and done >= len(expected) // 4:
            held, victim_name = mine[0]["in_flight"], mine[0]["worker"]
            break
        time.sleep(0.1)
    assert held, (status, victim.poll(), victim.poll() is not None and victim.communicate()[1][-1500:])
    shown = subprocess.run(crew.command("--status"), capture_output=True, text=True, timeout=30)
    victim.send_signal(signal.SIGKILL)
    victim.wait(timeout=10)
    results = []
    for process in (seeder, other):
        out, err = process.communicate(timeout=150)
        results.append(subprocess.CompletedProcess(process.args, process.returncode, out, err))
    for result in results:
        assert result.returncode == 0, result.stderr[-2000:]
    # every record, exactly once, though the victim died holding requests
    assert _archived(pg) == Counter(expected)
    logs = "".join(path.read_text(encoding="utf-8") for path in tmp_path.glob("worker*.log"))
    print(next(line for line in logs.splitlines() if "is gone:" in line), f"(held {held} when killed)")
    assert f"worker {victim_name} is gone: " in logs and "of its requests are back on the queue" in logs
    # the operator's view mid-crawl: every site, with queued, in flight and done
    assert shown.returncode == 0, shown.stderr
    lines = shown.stdout.splitlines()
    assert lines[0].startswith(f"crawl {key} in {REDIS_URL}: 3 workers"), lines[:3]
    rows = {line.split()[0]: line.split()[1:] for line in lines if line.startswith("county")}
    assert set(rows) == set(sites) and all(len(v) == 3 and all(n.isdigit() for n in v) for v in rows.values())
    assert sum(int(v[2]) for v in rows.values()) >= len(expected) // 4
    # what is left of the crawl in Redis: nothing (the last worker out cleared it)
    assert not list(frontier.server.scan_iter(match=key + ":*"))


# --- fast: the frontier itself, and the command's refusals ----------------------------------------------


def _request(site: str, url: str) -> bytes:
    return pickle.dumps({"url": url, "meta": {"site": site}, "priority": 0})


@needs_redis
def test_frontier_requeues_what_a_dead_worker_held(key):
    from crawler.shared import Frontier

    frontier = Frontier(REDIS_URL, key, heartbeat=0.2)
    frontier.push(_request("a", "http://a/1"), 0)
    frontier.push(_request("a", "http://a/list"), 10)
    frontier.push(_request("b", "http://b/1"), 0)
    for worker in ("w1", "w2"):
        frontier.join(worker)
    first = frontier.pop("w1")
    assert pickle.loads(first)["url"] == "http://a/list"  # the list first: the higher priority
    assert frontier.pop("w2") is not None and frontier.pending() == 3  # popped, not forgotten
    import hashlib

    frontier.ack("w1", hashlib.sha1(first).hexdigest(), "a")
    assert frontier.pending() == 2
    time.sleep(0.3)
    frontier.beat("w1")
    assert frontier.reap("w1") == 1  # w2 fell silent: what it held is back, w1 alive keeps its own
    assert frontier.workers() == ["w1"]
    status = {row["site"]: row for row in frontier.status()["sites"]}
    assert {s: (r["queued"], r["in_flight"], r["done"]) for s, r in status.items()} == {"a": (1, 0, 1),
                                                                                       "b": (1, 0, 0)}
    assert frontier.leave("w1") == 0
    assert frontier.clear_if_done() is False  # two requests still queued


def _cli(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "cli", "crawl", *args], capture_output=True, text=True,
                          timeout=60, env=os.environ | (env or {}))


def test_seed_and_status_need_redis():
    result = _cli("--status")
    assert result.returncode == 2 and result.stderr.strip().splitlines() == [
        "error: --status needs --redis URL (or PROPOSALS_REDIS_URL)"]


def test_unreachable_redis_is_one_line(tmp_path):
    result = _cli("--redis", "redis://127.0.0.1:1/0", "--status")
    assert result.returncode == 1
    assert len(result.stderr.strip().splitlines()) == 1
    assert result.stderr.startswith("error: cannot reach Redis at redis://127.0.0.1:1/0: ")


@needs_redis
def test_joining_a_crawl_nobody_seeded(tmp_path, key):
    result = _cli("--db", str(tmp_path / "a.db"), "--set", f"PROPOSALS_REDIS_KEY={key}",
                  "--set", "PROPOSALS_REDIS_IDLE=0.5", env={"PROPOSALS_REDIS_URL": REDIS_URL})
    assert result.returncode == 1, result.stderr
    assert result.stderr.strip().splitlines() == [
        f"error: nothing to crawl: no crawl is seeded under {key} in {REDIS_URL}; "
        "name sites (or --all, --url) to seed one"]
    shown = _cli("--redis", REDIS_URL, "--status", "--set", f"PROPOSALS_REDIS_KEY={key}")
    assert shown.returncode == 0 and shown.stdout == f"no crawl under {key} in {REDIS_URL}\n"


@needs_redis
def test_seed_then_a_bare_worker_crawls_it(tmp_path, sites, key):
    two = dict(list(sites.items())[:2])
    _clear_logs(two)
    db = tmp_path / "archive.db"
    engine = make_engine(f"sqlite:///{db}")
    upgrade(engine)
    crew = Workers(tmp_path, two, REDIS_URL, str(db), key, delay=DELAY)
    seeded = crew.run(*two, "--seed")
    assert seeded.returncode == 0, seeded.stderr
    assert seeded.stderr.strip() == f"seeded 2 of 2 sites (4 requests) into {key} in {REDIS_URL}"
    assert not any(replica.requests() for replica in two.values())  # seeding fetches nothing
    shown = crew.run("--status")
    rows = [line.split() for line in shown.stdout.splitlines()[1:] if line.startswith("county")]
    assert rows == [["county00", "2", "0", "0"], ["county01", "2", "0", "0"]], shown.stdout
    worker = crew.run()  # names no site: crawls what was seeded
    assert worker.returncode == 0, worker.stderr
    assert _archived(f"sqlite:///{db}") == Counter(_expected(two))
    with engine.connect() as connection:
        runs = connection.execute(select(CrawlRun.status, CrawlRun.new)).all()
    engine.dispose()
    assert sorted(runs) == [("ok", RECORDS), ("ok", RECORDS)]  # the worker's runs; seeding starts none
