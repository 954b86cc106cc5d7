"""The schema is made only by Alembic revisions, and matches the models."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import POSTGRES_SKIP, fresh_postgres_database
from sqlalchemy import inspect

from archive.db import (
    MissingArchive,
    SchemaBehind,
    check,
    current_revision,
    head_revision,
    make_engine,
    open_archive,
    upgrade,
)
from archive.models import Base

ROOT = Path(__file__).resolve().parent.parent
TABLES = {"site", "capture", "proposal", "person", "proposal_sponsor", "organization", "proposal_unit", "reply",
          "attachment", "extra_field", "revision", "crawl_run"}


def alembic(*args: str, url: str) -> subprocess.CompletedProcess:
    """The `alembic` command of a checkout, as a developer runs it."""
    return subprocess.run([sys.executable, "-m", "alembic", *args], cwd=ROOT, capture_output=True, text=True,
                          env={**os.environ, "PROPOSALS_DB_URL": url}, check=False)


def _upgrade_then_check(url: str) -> None:
    result = alembic("upgrade", "head", url=url)
    assert result.returncode == 0, result.stderr
    result = alembic("check", url=url)
    assert result.returncode == 0, result.stderr + result.stdout
    assert "No new upgrade operations detected" in result.stdout + result.stderr
    engine = make_engine(url)
    try:
        assert set(inspect(engine).get_table_names()) >= TABLES
        assert current_revision(engine) == head_revision()
        check(engine)  # the same check through the library
    finally:
        engine.dispose()


def test_upgrade_head_then_check_on_sqlite(tmp_path):
    _upgrade_then_check(f"sqlite:///{tmp_path / 'empty.db'}")


@pytest.mark.postgres
@pytest.mark.skipif(POSTGRES_SKIP is not None, reason=POSTGRES_SKIP or "")
def test_upgrade_head_then_check_on_postgresql():
    with fresh_postgres_database() as url:
        _upgrade_then_check(url)


def test_every_revision_downgrades_cleanly(tmp_path):
    url = f"sqlite:///{tmp_path / 'down.db'}"
    assert alembic("upgrade", "head", url=url).returncode == 0
    result = alembic("downgrade", "base", url=url)
    assert result.returncode == 0, result.stderr
    engine = make_engine(url)
    assert set(inspect(engine).get_table_names()) == {"alembic_version"}
    engine.dispose()


def test_the_models_name_every_constraint():
    for table in Base.metadata.sorted_tables:
        for constraint in list(table.constraints) + list(table.indexes):
            assert constraint.name, f"{table.name}: unnamed {type(constraint).__name__}"


def test_the_default_archive_is_created_on_first_use(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("PROPOSALS_DB", raising=False)
    engine = open_archive(None)
    assert (tmp_path / "proposals.db").exists()
    assert current_revision(engine) == head_revision()
    with engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
    engine.dispose()


def test_another_database_behind_the_code_is_refused(tmp_path):
    url = f"sqlite:///{tmp_path / 'other.db'}"
    engine = make_engine(url)
    with engine.begin() as connection:
        connection.exec_driver_sql("CREATE TABLE placeholder (id INTEGER)")
    engine.dispose()
    with pytest.raises(SchemaBehind, match="proposals db upgrade"):
        open_archive(url)
    upgrade(make_engine(url))
    open_archive(url).dispose()


def test_a_missing_file_is_not_created_by_readers(tmp_path):
    with pytest.raises(MissingArchive):
        open_archive(str(tmp_path / "nothing.db"), create=False)
    assert not (tmp_path / "nothing.db").exists()


def test_a_new_file_is_created_by_writers(tmp_path):
    engine = open_archive(str(tmp_path / "new.db"))
    assert current_revision(engine) == head_revision()
    engine.dispose()
