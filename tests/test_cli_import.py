"""`proposals import`, `reparse` and `db`: summaries, exit codes, one-line errors."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from conftest import FIXTURES, page_url
from sqlalchemy import func, select

from archive.db import make_engine, session_factory
from archive.models import Capture, Proposal, Revision, Site
from archive.records import load_records


def proposals(*args: str, cwd=None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "cli", *args], capture_output=True, text=True, cwd=cwd,
                          check=False)


@pytest.fixture
def db(tmp_path):
    path = tmp_path / "archive.db"
    assert proposals("db", "upgrade", "--db", str(path)).returncode == 0
    return str(path)


def test_import_twice_then_every_page_is_unchanged(db):
    pages = [str(FIXTURES / slug / "pages") for slug in ("haidao", "shengsi")]
    first = proposals("import", *pages, "--db", db)
    assert first.returncode == 0, first.stderr
    assert "imported 14 pages: 14 new, 0 changed, 0 unchanged, 0 failed" in first.stderr
    second = proposals("import", *pages, "--db", db)
    assert "imported 14 pages: 0 new, 0 changed, 14 unchanged, 0 failed" in second.stderr
    engine = make_engine(f"sqlite:///{db}")
    with session_factory(engine)() as session:
        assert session.scalar(select(func.count(Proposal.id))) == 14
        assert session.scalar(select(func.count(Capture.id))) == 14
        # pages declare their URL (<meta name="Url">): their sites come from the hosts
        assert set(session.scalars(select(Site.slug))) == {"www.haidao.example", "www.shengsi.gov.cn"}


def test_base_url_and_site_for_a_mirror(db):
    result = proposals("import", str(FIXTURES / "gucheng" / "pages"), "--url", "http://www.gucheng.example/",
                       "--site", "gucheng", "--db", db)
    assert result.returncode == 0, result.stderr
    engine = make_engine(f"sqlite:///{db}")
    with session_factory(engine)() as session:
        urls = set(session.scalars(select(Proposal.url)))
        assert page_url("gucheng", "art/2020/11/5/art_40512_580012.html") in urls
        assert set(session.scalars(select(Site.slug))) == {"gucheng"}
        records = load_records(session, session.scalars(select(Proposal.id)).all())
    (wps,) = [r for r in records.values() if r["attachments"]]
    assert wps["attachments"][0]["url"].startswith("http://www.gucheng.example/jcms_files/")


def test_a_bad_file_is_reported_and_skipped(db):
    result = proposals("import", str(FIXTURES / "gucheng"), "--url", "http://www.gucheng.example/", "--db", db)
    assert result.returncode == 1
    assert "failed: " in result.stderr and "col-40512-index.html: not a proposal page" in result.stderr
    assert "6 new, 0 changed, 0 unchanged, 1 failed" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(("args", "code", "message"), [
    (["import", "no/such/dir"], 1, "no such file or directory: no/such/dir"),
    (["import", str(FIXTURES / "shengsi" / "pages"), "--url", "relative/"], 2, "absolute URL"),
])
def test_import_errors(db, args, code, message):
    result = proposals(*args, "--db", db)
    assert result.returncode == code
    assert message in result.stderr and "Traceback" not in result.stderr


def test_a_database_behind_is_refused_until_upgraded(tmp_path):
    import sqlite3

    path = tmp_path / "old.db"
    with sqlite3.connect(path) as connection:  # a database, but not one at any revision of ours
        connection.execute("CREATE TABLE placeholder (id INTEGER)")
    result = proposals("import", str(FIXTURES / "shengsi" / "pages"), "--db", str(path))
    assert result.returncode == 1
    assert "run `proposals db upgrade`" in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert proposals("db", "current", "--db", str(path)).returncode == 1
    assert proposals("db", "upgrade", "--db", str(path)).returncode == 0
    assert "(head)" in proposals("db", "current", "--db", str(path)).stdout
    assert proposals("import", str(FIXTURES / "shengsi" / "pages"), "--db", str(path)).returncode == 0
    check = proposals("db", "check", "--db", str(path))  # the models know no table `placeholder`
    assert check.returncode == 1 and "schema drift" in check.stderr and "placeholder" in check.stderr


def test_a_new_sqlite_file_is_created_at_the_newest_schema(tmp_path):
    result = proposals("import", str(FIXTURES / "shengsi" / "pages"), "--db", str(tmp_path / "new.db"))
    assert result.returncode == 0, result.stderr
    assert "(head)" in proposals("db", "current", "--db", str(tmp_path / "new.db")).stdout
    result = proposals("import", str(FIXTURES / "shengsi" / "pages"), "--db", str(tmp_path / "no" / "dir.db"))
    assert result.returncode == 1 and "no directory" in result.stderr


def test_the_default_archive_is_created_in_the_working_directory(tmp_path, monkeypatch):
    monkeypatch.delenv("PROPOSALS_DB", raising=False)
    result = proposals("import", str(FIXTURES / "shengsi" / "pages"), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "proposals.db").exists()


def test_proposals_db_env_var(tmp_path, monkeypatch, db):
    monkeypatch.setenv("PROPOSALS_DB", db)
    assert proposals("import", str(FIXTURES / "shengsi" / "pages"), cwd=tmp_path).returncode == 0
    assert not (tmp_path / "proposals.db").exists()


def test_reparse_records_what_a_better_parser_changes(db, tmp_path):
    assert proposals("import", str(FIXTURES / "haidao" / "pages"), "--db", db).returncode == 0
    engine = make_engine(f"sqlite:///{db}")
    # an older parser read this record's status wrong: the archive holds its output
    with session_factory(engine)() as session, session.begin():
        proposal = session.scalars(select(Proposal).where(Proposal.implementation_status == "落实中")).first()
        proposal.implementation_status = "落实 中"
        wrong_id = proposal.id
    result = proposals("reparse", "--db", db)
    assert result.returncode == 0, result.stderr
    assert "reparsed 13 captures: 0 new, 1 changed, 12 unchanged, 0 failed" in result.stderr
    with session_factory(engine)() as session:
        revision = session.scalars(select(Revision)).one()
        assert (revision.proposal_id, revision.field) == (wrong_id, "implementation_status")
        assert (json.loads(revision.old_value), json.loads(revision.new_value)) == ("落实 中", "落实中")
