"""Helpers for end-to-end crawl tests: run `proposals crawl` against replicas, read the archive back."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from conftest import FIXTURES, expected_record
from replica import Replica, sites_toml
from sqlalchemy import select

from archive.db import make_engine, session_factory, upgrade
from archive.models import Proposal
from archive.records import load_records

# Politeness off, short backoffs, every fixture record young enough to be revalidated.
FAST = {"DOWNLOAD_DELAY": "0", "AUTOTHROTTLE_ENABLED": "False", "PROPOSALS_RETRY_BACKOFF": "0.05",
        "PROPOSALS_BLOCK_BACKOFF": "0", "DOWNLOAD_TIMEOUT": "3", "PROPOSALS_REVALIDATE_DAYS": "36500",
        "CONCURRENT_REQUESTS_PER_DOMAIN": "4"}


class Crawl:
    """An archive and a sites file for replicas, and `proposals crawl` run against them."""

    def __init__(self, tmp_path: Path, replicas: dict[str, Replica]) -> None:
        self.replicas = replicas
        self.db = tmp_path / "archive.db"
        self.sites = tmp_path / "sites.toml"
        self.sites.write_text(sites_toml(replicas), encoding="utf-8")
        engine = make_engine(f"sqlite:///{self.db}")
        upgrade(engine)
        engine.dispose()

    def run(self, *args: str, settings: dict[str, str] | None = None,
            timeout: float = 120) -> subprocess.CompletedProcess:
        sets = [item for name, value in (FAST | (settings or {})).items() for item in ("--set", f"{name}={value}")]
        slugs = [a for a in args if not a.startswith("-")] or list(self.replicas)
        options = [a for a in args if a.startswith("-")]
        return subprocess.run([sys.executable, "-m", "cli", "crawl", *slugs, *options, "--sites", str(self.sites),
                               "--db", str(self.db), *sets], capture_output=True, text=True, timeout=timeout,
                              check=False)

    def records(self) -> dict[str, dict]:
        engine = make_engine(f"sqlite:///{self.db}")
        with session_factory(engine)() as session:
            records = load_records(session, session.scalars(select(Proposal.id)).all())
        engine.dispose()
        return {record["url"]: record for record in records.values()}

    def engine(self):
        return make_engine(f"sqlite:///{self.db}")


def expected_at(replica: Replica, rel: str) -> dict:
    """The fixture's expected record, as the replica serves it (its origin in every URL)."""
    record = expected_record(replica.dir.name, rel)
    record["url"] = replica.url(rel)
    record["attachments"] = [a | {"url": a["url"].replace(replica.origin, replica.base_url)}
                             for a in record["attachments"]]
    return record


def fixture_paths(slug: str) -> list[str]:
    return sorted(p.relative_to(FIXTURES / slug / "pages").as_posix()
                  for p in (FIXTURES / slug / "pages").rglob("*.html"))


def detail_requests(replica: Replica) -> list:
    return [r for r in replica.requests() if r.path.startswith(("/art/", "/col/col")) and "/art/" in r.path]


__all__ = ["Crawl", "Replica", "detail_requests", "expected_at", "fixture_paths"]
