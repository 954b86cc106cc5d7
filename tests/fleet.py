"""A fleet of slow replica sites and `proposals crawl --redis` workers over them, for the shared-crawl tests
and bench/crawl.py --workers.

Each site is a copy of the haidao fixture site (hanweb-jpaas) on a port of its own, its one column
listing `records` copies of the fixture's pages under paths of its own, answering every request
after `latency` seconds and timing it (tests/replica_timed.py).
"""

from __future__ import annotations

import json
import os
import subprocess
import uuid
from pathlib import Path

from conftest import FIXTURES
from crawlkit import guard_env, guarded
from replica_timed import TimedReplica

from replica import copies, sites_toml

HAIDAO = FIXTURES / "haidao"


def fleet(sites: int, records: int, latency: float) -> dict[str, TimedReplica]:
    replicas = {}
    columns = [str(c["column_id"]) for c in json.loads((HAIDAO / "site.json").read_text(encoding="utf-8"))["columns"]]
    for number in range(sites):
        listed, pages, _ = copies(HAIDAO, records, prefix=f"s{number}")
        replica = TimedReplica(HAIDAO, records={columns[0]: listed, columns[1]: []}, pages=pages, latency=latency)
        replicas[f"county{number:02d}"] = replica.start()
    return replicas


def stop(replicas: dict[str, TimedReplica]) -> None:
    for replica in replicas.values():
        replica.stop()


def redis_key() -> str:
    return f"proposals-test-{uuid.uuid4().hex[:10]}"


class Workers:
    """`proposals crawl --redis` processes sharing one crawl (key) into one archive (db)."""

    def __init__(self, tmp: Path, replicas: dict, redis_url: str, db: str, key: str, *,
                 settings: dict[str, str] | None = None, delay: float | None = None) -> None:
        self.tmp, self.replicas, self.redis_url, self.db, self.key = tmp, replicas, redis_url, db, key
        tmp.mkdir(parents=True, exist_ok=True)
        self.sites = tmp / "sites.toml"
        own = f"delay = {delay}\n" if delay is not None else ""  # each site's delay, in its sites file
        self.sites.write_text("\n".join(sites_toml({slug: replica}).rstrip("\n") + "\n" + own
                                        for slug, replica in replicas.items()), encoding="utf-8")
        self.settings = {"PROPOSALS_REDIS_KEY": key, "PROPOSALS_REDIS_IDLE": "2",
                         "PROPOSALS_REDIS_HEARTBEAT": "3"} | (settings or {})
        self.count = 0

    def command(self, *args: str) -> list[str]:
        self.count += 1
        sets = [item for name, value in self.settings.items() for item in ("--set", f"{name}={value}")]
        return guarded(["crawl", *args, "--sites", str(self.sites), "--db", self.db, "--redis", self.redis_url,
                        "--log", str(self.tmp / f"worker{self.count}.log"), *sets], self.tmp / "offloopback.txt")

    def start(self, *args: str) -> subprocess.Popen:
        env = guard_env(self.tmp) | {"PYTHONPATH": os.pathsep.join(filter(None, [os.environ.get("PYTHONPATH")]))}
        return subprocess.Popen(self.command(*args), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                env=env)

    def run(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
        process = self.start(*args)
        out, err = process.communicate(timeout=timeout)
        return subprocess.CompletedProcess(process.args, process.returncode, out, err)


__all__ = ["Workers", "fleet", "redis_key", "stop"]
