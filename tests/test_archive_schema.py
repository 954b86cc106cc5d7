"""Schema creation that survives SIGKILL, empty files, database URLs, and opening without Alembic."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import FIXTURES, POSTGRES_SKIP, fresh_postgres_database

from archive.db import (
    ArchiveUsageError,
    MissingArchive,
    NotAnArchive,
    alembic_head,
    head_revision,
    make_engine,
    open_archive,
    resolve_url,
    upgrade,
)

HERE = Path(__file__).resolve().parent
PAUSE = HERE / "schema_pause.py"
SHENGSI = FIXTURES / "shengsi" / "pages"


def proposals(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "cli", *args], capture_output=True, text=True, check=False,
                          timeout=120, env={**os.environ, **(env or {})})


def _schema_statements(tmp_path: Path) -> int:
    """How many schema statements (CREATE …, the alembic_version write) a new archive takes."""
    result = subprocess.run([sys.executable, str(PAUSE), "list", "db", "upgrade", "--db", str(tmp_path / "a.db")],
                            capture_output=True, text=True, timeout=120, check=True)
    lines = [line for line in result.stderr.splitlines() if line.startswith("schema statement ")]
    assert "alembic_version" in lines[-1]
    return len(lines)


def _kill_at(point: str, path: Path, *command: str) -> None:
    """Run `proposals COMMAND --db PATH` with a pause at `point` of the schema change; SIGKILL it there."""
    process = subprocess.Popen([sys.executable, str(PAUSE), point, *command, "--db", str(path)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        line = process.stderr.readline()
        assert line.startswith("paused after"), line + process.stderr.read()
    finally:
        os.kill(process.pid, signal.SIGKILL)
        process.wait()
        process.stderr.close()


def _tables(path: Path) -> list[str]:
    if not path.exists():
        return []
    with sqlite3.connect(path) as connection:  # recovers the WAL as any later command would
        return [name for (name,) in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]


@pytest.fixture(scope="module")
def statements(tmp_path_factory) -> int:
    return _schema_statements(tmp_path_factory.mktemp("count"))


UPGRADE, IMPORT = ("db", "upgrade"), ("import", str(SHENGSI))


@pytest.mark.parametrize(("killed", "where"), [
    *((UPGRADE, where) for where in ("first", "second", "middle", "fts", "last", "commit")),
    *((IMPORT, where) for where in ("first", "middle", "commit")),
], ids=lambda value: value if isinstance(value, str) else "-".join(value[:1]))
def test_a_schema_change_killed_anywhere_leaves_a_new_archive(tmp_path, statements, where, killed):
    points = {"first": "1", "second": "2", "middle": str(statements // 2), "fts": str(statements - 1),
              "last": str(statements), "commit": "commit"}
    path = tmp_path / "archive.db"
    _kill_at(points[where], path, *killed)
    assert _tables(path) == []  # nothing half made: no table, no alembic_version

    # whichever command comes next creates the archive cleanly
    nxt = proposals("import", str(SHENGSI), "--db", str(path)) if killed[0] == "db" else \
        proposals("db", "upgrade", "--db", str(path))
    assert nxt.returncode == 0, nxt.stderr
    current = proposals("db", "current", "--db", str(path))
    assert current.stdout.strip() == f"{head_revision()} (head)"
    assert proposals("db", "check", "--db", str(path)).returncode == 0
    again = proposals("import", str(SHENGSI), "--db", str(path))
    assert again.returncode == 0, again.stderr
    assert "imported 1 pages" in again.stderr


@pytest.mark.parametrize("content", ["zero bytes", "no tables"])
def test_an_empty_file_is_a_new_archive(tmp_path, content):
    path = tmp_path / "empty.db"
    if content == "zero bytes":
        path.touch()
    else:
        with sqlite3.connect(path) as connection:
            connection.execute("PRAGMA user_version = 7")  # a valid database file with no table
        assert path.stat().st_size > 0
    size = path.stat().st_size
    # readers find no archive there, say so, and leave the file as it is
    query = proposals("query", "--db", str(path))
    assert query.returncode == 2 and "no archive at" in query.stderr
    current = proposals("db", "current", "--db", str(path))
    assert current.returncode == 1 and current.stdout.strip() == f"empty (behind: head is {head_revision()})"
    check = proposals("db", "check", "--db", str(path))
    assert check.returncode == 1 and "run `proposals db upgrade`" in check.stderr
    assert path.stat().st_size == size
    # a writer creates the archive in it
    result = proposals("import", str(SHENGSI), "--db", str(path))
    assert result.returncode == 0, result.stderr
    assert "1 new" in result.stderr
    assert proposals("db", "current", "--db", str(path)).stdout.strip() == f"{head_revision()} (head)"


def test_an_empty_file_is_new_for_db_upgrade_and_open_archive(tmp_path):
    path = tmp_path / "empty.db"
    path.touch()
    result = proposals("db", "upgrade", "--db", str(path))
    assert result.returncode == 0 and result.stdout.strip() == f"schema at {head_revision()} (was empty)"
    other = tmp_path / "other.db"
    other.touch()
    with pytest.raises(MissingArchive, match="no archive at"):
        open_archive(str(other), create=False)
    engine = open_archive(str(other))
    engine.dispose()
    assert {"proposal", "alembic_version"} <= set(_tables(other))


@pytest.mark.parametrize("command", [("db", "current"), ("db", "check"), ("query",), ("stats", "--by", "year")])
def test_readers_never_create_a_file(tmp_path, command):
    path = tmp_path / "missing.db"
    result = proposals(*command, "--db", str(path))
    assert result.returncode == 2
    assert result.stderr.strip() == f"error: no archive at {path}"
    assert not path.exists() and list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("url", ["mysql://user@host/db", "mysql+pymysql://u:p@h/db", "oracle://h/x",
                                 "postgresql+asyncpg://u@h/db", "mssql+pyodbc://h/x"])
@pytest.mark.parametrize("command", [("import", str(SHENGSI)), ("query", "养老"), ("db", "current"),
                                     ("db", "upgrade"), ("reparse",)])
def test_unsupported_databases_are_one_line_and_exit_2(url, command):
    result = proposals(*command, "--db", url)
    assert result.returncode == 2
    scheme = url.split("://")[0]
    assert result.stderr.strip() == (f"error: unsupported database {scheme}:// in --db: the archive is SQLite "
                                     "(a file path or sqlite:///path.db) or PostgreSQL (postgresql://user@host/db)")


def test_unsupported_database_for_a_crawl_and_in_the_environment(tmp_path):
    result = proposals("crawl", "--url", "http://127.0.0.1:9/col/col1/index.html", "--db", "mysql://u@h/db")
    assert result.returncode == 2 and "unsupported database mysql://" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    result = proposals("db", "current", env={"PROPOSALS_DB": "sqlserver://h/x"})
    assert result.returncode == 2 and "unsupported database sqlserver://" in result.stderr


def test_database_urls():
    assert resolve_url("archive.db") == ("sqlite:///archive.db", False)
    assert resolve_url("postgres://u@h/db") == ("postgresql+psycopg://u@h/db", False)
    assert resolve_url("postgresql://u:secret@h:5433/db") == ("postgresql+psycopg://u:secret@h:5433/db", False)
    assert resolve_url("sqlite:////tmp/x.db") == ("sqlite:////tmp/x.db", False)
    with pytest.raises(ArchiveUsageError, match="unsupported database mysql://"):
        resolve_url("mysql://u@h/db")
    with pytest.raises(ArchiveUsageError, match="not a database URL"):
        resolve_url("postgresql://u@h:notaport/db")


def test_head_is_the_head_alembic_finds():
    """migrations.HEAD must be bumped with every new revision: opening an archive relies on it."""
    assert head_revision() == alembic_head()


def _imported_after(code: str) -> set[str]:
    """The modules a fresh interpreter has imported after running `code`."""
    probe = code + "\nimport sys\nprint(' '.join(sorted(sys.modules)))"
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True, cwd=HERE.parent)
    return set(result.stdout.split())


def test_opening_an_archive_at_head_runs_no_alembic(tmp_path):
    path = tmp_path / "archive.db"
    upgrade(make_engine(f"sqlite:///{path}"))
    assert "sqlalchemy" not in _imported_after("import archive.db")  # nothing paid until an engine is made
    for create in (False, True):
        modules = _imported_after(f"from archive.db import open_archive\nopen_archive({str(path)!r}, create={create})")
        assert "sqlalchemy" in modules
        assert "alembic" not in modules and "sqlalchemy.orm" not in modules
    current = _imported_after(f"import sys\nsys.argv = ['proposals', 'db', 'current', '--db', {str(path)!r}]\n"
                              "import cli\ntry:\n    cli.main()\nexcept SystemExit:\n    pass")
    assert "alembic" not in current


def test_opening_an_archive_from_a_newer_version_is_refused(tmp_path):
    path = tmp_path / "archive.db"
    upgrade(make_engine(f"sqlite:///{path}"))
    with sqlite3.connect(path) as connection:
        connection.execute("UPDATE alembic_version SET version_num = 'f00dfeedbeef'")
    for create in (False, True):
        with pytest.raises(NotAnArchive, match="unknown to this program"):
            open_archive(str(path), create=create)
    result = proposals("db", "current", "--db", str(path))
    assert result.returncode == 1 and "f00dfeedbeef (unknown to this program" in result.stdout


def test_sqlite_readers_cannot_write(tmp_path):
    from sqlalchemy import text
    from sqlalchemy.exc import OperationalError

    path = tmp_path / "archive.db"
    upgrade(make_engine(f"sqlite:///{path}"))
    reader = open_archive(str(path), create=False)
    with reader.connect() as connection, pytest.raises(OperationalError, match="readonly"):
        connection.execute(text("INSERT INTO site (slug, name) VALUES ('x', 'x')"))
    reader.dispose()


@pytest.mark.postgres
@pytest.mark.skipif(POSTGRES_SKIP is not None, reason=POSTGRES_SKIP or "")
def test_postgresql_readers_have_a_statement_timeout_and_no_jit(monkeypatch):
    from sqlalchemy import text
    from sqlalchemy.exc import InternalError, OperationalError

    with fresh_postgres_database() as url:
        upgrade(make_engine(url))
        reader = open_archive(url, create=False)
        with reader.connect() as connection:
            assert connection.execute(text("SHOW statement_timeout")).scalar() == "30s"
            assert connection.execute(text("SHOW jit")).scalar() == "off"
            with pytest.raises(InternalError, match="read-only transaction"):
                connection.execute(text("INSERT INTO site (slug, name) VALUES ('x', 'x')"))
        reader.dispose()
        writer = open_archive(url)
        with writer.connect() as connection:  # writers (imports, crawls, upgrades) have no such limit
            assert connection.execute(text("SHOW statement_timeout")).scalar() == "0"
        writer.dispose()

        monkeypatch.setenv("PROPOSALS_STATEMENT_TIMEOUT", "0.2")
        reader = open_archive(url, create=False)
        started = time.monotonic()
        with reader.connect() as connection, pytest.raises(OperationalError, match="statement timeout"):
            connection.execute(text("SELECT pg_sleep(5)"))
        assert time.monotonic() - started < 4
        reader.dispose()
        monkeypatch.setenv("PROPOSALS_STATEMENT_TIMEOUT", "soon")
        with pytest.raises(ArchiveUsageError, match="PROPOSALS_STATEMENT_TIMEOUT"):
            open_archive(url, create=False)


@pytest.mark.postgres
@pytest.mark.skipif(POSTGRES_SKIP is not None, reason=POSTGRES_SKIP or "")
def test_an_empty_postgresql_database_waits_for_db_upgrade():
    with fresh_postgres_database() as url:
        result = proposals("import", str(SHENGSI), "--db", url)
        assert result.returncode == 1 and "is empty: run `proposals db upgrade`" in result.stderr
        assert proposals("db", "current", "--db", url).stdout.strip() == f"empty (behind: head is {head_revision()})"
        assert proposals("db", "upgrade", "--db", url).returncode == 0
        assert proposals("import", str(SHENGSI), "--db", url).returncode == 0
