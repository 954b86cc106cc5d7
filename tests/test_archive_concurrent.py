"""Two `proposals import` processes into one archive at once, over overlapping pages: both succeed."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest
from conftest import POSTGRES_SKIP, expected_record, fixture_pages, fresh_postgres_database, page_bytes
from sqlalchemy import func, select

from archive.db import make_engine, session_factory, upgrade
from archive.models import Capture, Organization, Person, Proposal, Site
from archive.records import load_records

COPIES = 30
BASE = "https://www.haidao.example/"


@pytest.fixture
def halves(tmp_path):
    """Two mirrors of the haidao pages sharing a third of their copies (copies 0-19 and 10-29),
    each copy with bytes of its own."""
    pages = [rel for slug, rel in fixture_pages() if slug == "haidao"]
    roots = tmp_path / "a", tmp_path / "b"
    for copy in range(COPIES):
        for root, wanted in zip(roots, (copy < 20, copy >= 10), strict=True):
            if not wanted:
                continue
            for rel in pages:
                target = root / f"copy-{copy:03d}" / rel
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(page_bytes("haidao", rel) + f"<!-- copy {copy} -->".encode())
    return roots, len(pages)


def _import_both(roots, db: str) -> list[subprocess.CompletedProcess]:
    processes = [subprocess.Popen([sys.executable, "-m", "cli", "import", str(root), "--url", BASE, "--db", db],
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for root in roots]
    results = []
    for process in processes:
        out, err = process.communicate(timeout=300)
        results.append(subprocess.CompletedProcess(process.args, process.returncode, out, err))
    return results


def _check(results, url: str, per_copy: int) -> None:
    for result in results:
        assert result.returncode == 0, result.stderr
        assert "Traceback" not in result.stderr and "locked" not in result.stderr
    counts = []
    for result in results:
        match = re.search(r"imported (\d+) pages: (\d+) new, 0 changed, (\d+) unchanged, 0 failed", result.stderr)
        assert match, result.stderr
        counts.append(tuple(map(int, match.groups())))
    assert [total for total, _, _ in counts] == [20 * per_copy, 20 * per_copy]
    # every page of the shared copies went in once: new for one import, unchanged for the other
    assert sum(new for _, new, _ in counts) == COPIES * per_copy
    engine = make_engine(url)
    with session_factory(engine)() as session:
        assert session.scalar(select(func.count(Proposal.id))) == COPIES * per_copy
        assert session.scalar(select(func.count(Capture.id))) == COPIES * per_copy
        assert list(session.scalars(select(Site.slug))) == ["www.haidao.example"]
        for model in (Person, Organization):
            assert session.execute(select(model.name).group_by(model.site_id, model.name)
                                   .having(func.count() > 1)).all() == []
        records = load_records(session, session.scalars(select(Proposal.id)).all())
    for record in records.values():
        rel = record["url"].split("/", 4)[4]
        assert record == expected_record("haidao", rel) | {"url": record["url"]}
    engine.dispose()


def test_two_imports_into_a_new_sqlite_file(halves, tmp_path):
    """Neither finds an archive: both create it (one waits for the other's schema transaction)."""
    roots, per_copy = halves
    path = tmp_path / "shared.db"
    _check(_import_both(roots, str(path)), f"sqlite:///{path}", per_copy)


@pytest.mark.postgres
@pytest.mark.skipif(POSTGRES_SKIP is not None, reason=POSTGRES_SKIP or "")
def test_two_imports_into_postgresql(halves):
    roots, per_copy = halves
    with fresh_postgres_database() as url:
        upgrade(make_engine(url))
        _check(_import_both(roots, url), url, per_copy)


def test_an_import_while_a_crawl_writes(halves, tmp_path):
    """A crawl and an import into one SQLite archive at the same time: both finish, nothing lost."""
    import threading

    from conftest import FIXTURES
    from crawlkit import Crawl, Replica

    roots, per_copy = halves
    with Replica(FIXTURES / "haidao") as haidao, Replica(FIXTURES / "gucheng") as gucheng:
        crawl = Crawl(tmp_path, {"haidao": haidao, "gucheng": gucheng})
        crawled: dict = {}
        thread = threading.Thread(target=lambda: crawled.setdefault("result", crawl.run()))
        thread.start()
        imported = subprocess.run([sys.executable, "-m", "cli", "import", str(roots[0]), "--url", BASE,
                                   "--db", str(crawl.db)], capture_output=True, text=True, timeout=300, check=False)
        thread.join(300)
    assert imported.returncode == 0, imported.stderr
    assert f"imported {20 * per_copy} pages: {20 * per_copy} new, 0 changed, 0 unchanged, 0 failed" in imported.stderr
    result = crawled["result"]
    assert result.returncode == 0, result.stderr
    assert "19 new" in result.stderr
    assert len(crawl.records()) == 19 + 20 * per_copy
