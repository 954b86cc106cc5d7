"""An import killed with SIGKILL halfway leaves no half-written record; running it again completes it."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time

import pytest
from conftest import expected_record, fixture_pages, page_bytes
from sqlalchemy import select

from archive.db import make_engine, session_factory, upgrade
from archive.models import Proposal
from archive.records import load_records

COPIES = 120
BASE = "https://www.haidao.example/"


@pytest.fixture
def mirror(tmp_path):
    """COPIES copies of the haidao site's pages, each under its own path (so its own URL) and with
    bytes of its own (the same bytes under two URLs would be one page imported twice)."""
    pages = [rel for slug, rel in fixture_pages() if slug == "haidao"]
    root = tmp_path / "mirror"
    for copy in range(COPIES):
        for rel in pages:
            target = root / f"copy-{copy:03d}" / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(page_bytes("haidao", rel) + f"<!-- copy {copy} -->".encode())
    return root, len(pages) * COPIES


def _count(path) -> int:
    try:
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5) as connection:
            return connection.execute("SELECT count(*) FROM proposal").fetchone()[0]
    except sqlite3.OperationalError:
        return 0


def _run_import(root, db_url):
    return subprocess.Popen([sys.executable, "-m", "cli", "import", str(root), "--url", BASE, "--db", db_url],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_sigkill_halfway_then_import_again(mirror, tmp_path):
    root, total = mirror
    path = tmp_path / "killed.db"
    db_url = f"sqlite:///{path}"
    upgrade(make_engine(db_url))
    process = _run_import(root, db_url)
    deadline = time.monotonic() + 60
    while _count(path) == 0 and time.monotonic() < deadline and process.poll() is None:
        time.sleep(0.01)
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    archived = _count(path)
    assert 0 < archived < total, "the kill should land after the first batch and before the last"

    engine = make_engine(db_url)
    with session_factory(engine)() as session:
        records = load_records(session, session.scalars(select(Proposal.id)).all())
    assert len(records) == archived
    for record in records.values():  # each record whole: sponsors, units, reply, attachments …
        rel = record["url"].split("/", 4)[4]  # https://www.haidao.example/copy-NNN/<page path>
        expected = expected_record("haidao", rel) | {"url": record["url"]}
        assert record == expected

    finished = _run_import(root, db_url)
    _out, err = finished.communicate(timeout=120)
    assert finished.returncode == 0, err
    assert _count(path) == total
    assert f"imported {total} pages: {total - archived} new, 0 changed, {archived} unchanged, 0 failed" in err
    engine.dispose()
