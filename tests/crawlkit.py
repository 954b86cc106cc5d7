"""Helpers for end-to-end crawl tests: run `proposals crawl` against replicas, read the archive back.

Every crawl runs in a subprocess under tests/netguard.py: a name lookup or a connection to
anything but loopback is refused and written down, and `Crawl.run` fails the test if the crawl
tried one (so every crawl test also proves that a crawl reaches nothing but its sites).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from conftest import FIXTURES, expected_record
from sqlalchemy import select

from archive.db import make_engine, session_factory, upgrade
from archive.models import Proposal
from archive.records import load_records
from replica import Replica, sites_toml

HERE = Path(__file__).resolve().parent
# Loopback speed only: no download delay or AutoThrottle (politeness toward a real host is tested with
# the shipped settings), short retries and timeouts. Block backoff and revalidation ages stay shipped.
FAST = {"DOWNLOAD_DELAY": "0", "AUTOTHROTTLE_ENABLED": "False", "PROPOSALS_RETRY_BACKOFF": "0.05",
        "DOWNLOAD_TIMEOUT": "3", "CONCURRENT_REQUESTS_PER_DOMAIN": "4"}


def guarded(args: list[str], record: Path, module: str = "cli") -> list[str]:
    """The command line of `python -m MODULE ARGS` under the network guard, writing attempts to `record`."""
    boot = ("import sys, runpy; sys.path.insert(0, {tests!r}); import netguard; netguard.install({record!r}); "
            "sys.argv = [{module!r}] + sys.argv[1:]; runpy.run_module({module!r}, run_name='__main__', alter_sys=True)")
    return [sys.executable, "-c", boot.format(tests=str(HERE), record=str(record), module=module), *args]


def guard_env(tmp: Path) -> dict[str, str]:
    """No user caches either: a tldextract that would download its list finds none to hide it."""
    return os.environ | {"XDG_CACHE_HOME": str(tmp / "cache"), "HOME": str(tmp)}


class Crawl:
    """An archive and a sites file for replicas, and `proposals crawl` run against them."""

    def __init__(self, tmp_path: Path, replicas: dict[str, Replica], *, extra_sites: str = "",
                 allowed_hosts: dict[str, list[str]] | None = None) -> None:
        self.tmp = tmp_path
        self.replicas = replicas
        self.db = tmp_path / "archive.db"
        self.log = tmp_path / "archive.crawl.log"
        self.attempts = tmp_path / "offloopback.txt"
        self.sites = tmp_path / "sites.toml"
        self.sites.write_text(sites_toml(replicas, allowed_hosts) + extra_sites, encoding="utf-8")
        engine = make_engine(f"sqlite:///{self.db}")
        upgrade(engine)
        engine.dispose()

    def command(self, *args: str, settings: dict[str, str] | None = None, fast: bool = True) -> list[str]:
        sets = [item for name, value in ((FAST if fast else {}) | (settings or {})).items()
                for item in ("--set", f"{name}={value}")]
        slugs = [a for a in args if not a.startswith("-")] or list(self.replicas)
        options = [a for a in args if a.startswith("-")]
        return guarded(["crawl", *slugs, *options, "--sites", str(self.sites), "--db", str(self.db), *sets],
                       self.attempts)

    def run(self, *args: str, settings: dict[str, str] | None = None, fast: bool = True, timeout: float = 180,
            may_look_up: frozenset[str] = frozenset()) -> subprocess.CompletedProcess:
        """`proposals crawl` (FAST unless told otherwise); fails if it reached for anything but loopback
        (other than lookups of the names in `may_look_up`)."""
        result = subprocess.run(self.command(*args, settings=settings, fast=fast), capture_output=True, text=True,
                                timeout=timeout, check=False, env=guard_env(self.tmp))
        self.check_offloopback(may_look_up)
        return result

    def popen(self, *args: str, settings: dict[str, str] | None = None) -> subprocess.Popen:
        return subprocess.Popen(self.command(*args, settings=settings), stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True, env=guard_env(self.tmp))

    def check_offloopback(self, may_look_up: frozenset[str] = frozenset()) -> None:
        tried = self.attempts.read_text(encoding="utf-8").splitlines() if self.attempts.exists() else []
        unexpected = [line for line in tried if line.removeprefix("lookup ") not in may_look_up]
        assert not unexpected, f"the crawl reached beyond loopback: {unexpected}"

    def log_text(self) -> str:
        return self.log.read_text(encoding="utf-8") if self.log.exists() else ""

    def records(self) -> dict[str, dict]:
        engine = make_engine(f"sqlite:///{self.db}")
        with session_factory(engine)() as session:
            records = load_records(session, session.scalars(select(Proposal.id)).all())
        engine.dispose()
        return {record["url"]: record for record in records.values()}

    def engine(self):
        return make_engine(f"sqlite:///{self.db}")


def expected_at(replica: Replica, rel: str, url_path: str | None = None) -> dict:
    """The fixture's expected record, as the replica serves it (its origin in every URL); `url_path`
    for a copy of the page served under another path."""
    record = expected_record(replica.dir.name, rel)
    record["url"] = replica.url(url_path or rel)
    record["attachments"] = [a | {"url": a["url"].replace(replica.origin, replica.base_url)}
                             for a in record["attachments"]]
    return record


def archived_except(crawl: Crawl, replica: Replica, missing: set[str]) -> None:
    """Every fixture record of the replica's site archived whole, but those of `missing` not at all."""
    records = crawl.records()
    for rel in fixture_paths(replica.dir.name):
        url = replica.url(rel)
        if rel in missing:
            assert url not in records, rel
        else:
            assert records.get(url) == expected_at(replica, rel), rel


def fixture_paths(slug: str) -> list[str]:
    return sorted(p.relative_to(FIXTURES / slug / "pages").as_posix()
                  for p in (FIXTURES / slug / "pages").rglob("*.html"))


def detail_requests(replica: Replica) -> list:
    return [r for r in replica.requests() if "/art/" in r.path]


__all__ = ["FAST", "Crawl", "Replica", "archived_except", "detail_requests", "expected_at", "fixture_paths",
           "guard_env", "guarded"]
