"""Engines, sessions and the schema's state: SQLite by default (WAL), PostgreSQL for shared use.

The default archive (`./proposals.db`) is created and upgraded on first use, and so is any new
SQLite file a command writes to (an empty file, 0 bytes or no tables, counts as new). Any other
database is upgraded by `proposals db upgrade`; a command that finds it behind stops with
`SchemaBehind`.

Two kinds of engine (`make_engine(url, read_only=…)`):
- writers: on SQLite every transaction is `BEGIN IMMEDIATE`, so a writer takes the file's one
  write lock when its transaction starts, waiting up to LOCK_TIMEOUT seconds for another writer
  to finish (a deferred transaction that later needs the lock fails at once with "database is
  locked", whatever the busy timeout);
- readers: plain deferred transactions that see one snapshot, never write (SQLite `query_only`,
  PostgreSQL `default_transaction_read_only`), and on PostgreSQL a statement timeout
  (PROPOSALS_STATEMENT_TIMEOUT seconds, 30 by default, 0 for none) with JIT and parallel
  workers off.

A schema change runs in one transaction, `alembic_version` included (`schema_transaction`):
killed at any moment, it leaves the archive as it was. SQLite's DDL is transactional once the
driver stops committing on its own, which the BEGIN above does; building into a temporary file
and renaming it would only cover a new file, not an upgrade, and would break WAL readers.

This module imports SQLAlchemy when an engine is made and Alembic only to change or compare the
schema: an archive at HEAD opens with one plain query.
"""

from __future__ import annotations

import io
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

if TYPE_CHECKING:
    from sqlalchemy import Connection, Engine
    from sqlalchemy.orm import Session, sessionmaker

DEFAULT_PATH = "proposals.db"
ENV_VAR = "PROPOSALS_DB"
TIMEOUT_ENV_VAR = "PROPOSALS_STATEMENT_TIMEOUT"
DEFAULT_STATEMENT_TIMEOUT = 30.0  # seconds a read-only statement may run on PostgreSQL
LOCK_TIMEOUT = 30  # seconds a SQLite writer waits for another writer's transaction to end
SUPPORTED = "SQLite (a file path or sqlite:///path.db) or PostgreSQL (postgresql://user@host/db)"
_PG_SCHEMA_LOCK = 0x70726F70  # pg_advisory_xact_lock key: one schema change at a time


class ArchiveError(Exception):
    """An archive that cannot be used as asked (missing file, schema behind, unreachable)."""


class SchemaBehind(ArchiveError):
    pass


class MissingArchive(ArchiveError):
    pass


class NotAnArchive(ArchiveError):
    """A database at a schema revision this program does not know (a newer version made it)."""


class ArchiveUsageError(ValueError):
    """Bad usage found by the archive: a --db URL it cannot use, a bad setting. Not an
    ArchiveError: it reaches the CLI's entry point, which exits 2."""


def resolve_url(db: str | None) -> tuple[str, bool]:
    """(SQLAlchemy URL, is it the default archive?) for `--db` (a URL or a file path) or PROPOSALS_DB.

    Raises ArchiveUsageError for a URL that is malformed or names another database."""
    value = db or os.environ.get(ENV_VAR) or ""
    if not value:
        return f"sqlite:///{DEFAULT_PATH}", True
    if "://" not in value:
        return f"sqlite:///{value}", False
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    scheme, rest = value.split("://", 1)
    if scheme.lower() in ("postgresql", "postgres", "postgresql+psycopg"):
        value = "postgresql+psycopg://" + rest
    try:
        url = make_url(value)
    except (ArgumentError, ValueError):  # ValueError: a port that is not a number
        raise ArchiveUsageError(f"not a database URL: {value}") from None
    if url.drivername not in ("sqlite", "sqlite+pysqlite", "postgresql+psycopg"):
        raise ArchiveUsageError(f"unsupported database {scheme}:// in --db: the archive is {SUPPORTED}")
    return url.render_as_string(hide_password=False), False


def sqlite_path(url: str) -> Path | None:
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or not parsed.database or parsed.database == ":memory:":
        return None
    return Path(parsed.database)


def statement_timeout_ms() -> int:
    """PROPOSALS_STATEMENT_TIMEOUT (seconds) in milliseconds; 0 means no timeout."""
    value = os.environ.get(TIMEOUT_ENV_VAR, "").strip()
    if not value:
        return int(DEFAULT_STATEMENT_TIMEOUT * 1000)
    try:
        seconds = float(value)
    except ValueError:
        seconds = -1.0
    if not 0 <= seconds < 10**7:
        raise ArchiveUsageError(f"{TIMEOUT_ENV_VAR} must be a number of seconds (0 for none), not {value!r}")
    return round(seconds * 1000)


def _sqlite_writer(dbapi_connection, _record) -> None:
    from .textindex import register

    register(dbapi_connection)  # proposals_grams(), which the short-term index's triggers call
    dbapi_connection.isolation_level = None  # the driver commits nothing on its own: BEGIN is ours
    cursor = dbapi_connection.cursor()
    # WAL lets queries read while a crawl writes; NORMAL sync is safe with WAL.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def _sqlite_reader(dbapi_connection, _record) -> None:
    from .textindex import register

    register(dbapi_connection)
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA query_only=ON")  # no journal_mode either: a reader changes no byte of the file
    cursor.close()


def _begin_immediate(connection) -> None:
    connection.exec_driver_sql("BEGIN IMMEDIATE")


def _begin_deferred(connection) -> None:
    connection.exec_driver_sql("BEGIN")


def make_engine(url: str, *, read_only: bool = False) -> Engine:
    """An engine for the archive at `url`: a writer, or with `read_only` a reader (see above)."""
    from sqlalchemy import create_engine, event
    from sqlalchemy.engine import make_url

    if make_url(url).get_backend_name() == "sqlite":
        engine = create_engine(url, connect_args={"timeout": LOCK_TIMEOUT})
        event.listen(engine, "connect", _sqlite_reader if read_only else _sqlite_writer)
        event.listen(engine, "begin", _begin_deferred if read_only else _begin_immediate)
        return engine
    connect_args = {}
    if read_only:
        # no parallel workers: a query reads an index or two and the rows it shows, and starting
        # workers costs more than they save (the text filters ran twice as fast without them)
        connect_args["options"] = (f"-c statement_timeout={statement_timeout_ms()} -c jit=off "
                                   "-c max_parallel_workers_per_gather=0 -c default_transaction_read_only=on")
    engine = create_engine(url, pool_pre_ping=True, connect_args=connect_args)
    event.listen(engine, "before_cursor_execute", _pg_before_grams)
    event.listen(engine, "after_cursor_execute", _pg_after_grams)
    return engine


# A statement that asks the GIN indexes of proposals_grams() (one- and two-character terms) runs
# with sequential scans off. Computed per row, the function costs 1 to 3 ms (the index never
# computes it: its match is exact), but the planner charges it to the index path too, so for a
# character most records hold (的) it reads the whole table instead, computing it for every row:
# over 30 s at 100,000 records against a third of a second through the indexes.
_GRAMS_CALL = "proposals_grams("


def _pg_before_grams(connection, cursor, statement, parameters, context, executemany) -> None:
    if _GRAMS_CALL in statement and not executemany:
        cursor.connection.execute("SET LOCAL enable_seqscan = off")


def _pg_after_grams(connection, cursor, statement, parameters, context, executemany) -> None:
    if _GRAMS_CALL in statement and not executemany:
        cursor.connection.execute("RESET enable_seqscan")


# --- the schema's state ----------------------------------------------------------------------------


class SchemaState(NamedTuple):
    revisions: tuple[str, ...]  # the rows of alembic_version; () when there are none
    has_tables: bool            # any table besides alembic_version

    @property
    def current(self) -> str | None:
        return self.revisions[0] if len(self.revisions) == 1 else None


def head_revision() -> str:
    """The newest revision this program knows (no Alembic needed)."""
    from migrations import HEAD

    return HEAD


def schema_state(engine: Engine) -> SchemaState:
    """What the database holds, read with plain SQL: one query for an archive that has a revision."""
    from sqlalchemy.exc import DBAPIError

    with engine.connect() as connection:
        try:
            revisions = tuple(connection.exec_driver_sql("SELECT version_num FROM alembic_version").scalars())
        except DBAPIError:  # no such table (anything worse fails the next query too)
            connection.rollback()
            revisions = ()
        if revisions == (head_revision(),):
            return SchemaState(revisions, True)
        if connection.dialect.name == "sqlite":
            query = ("SELECT 1 FROM sqlite_master WHERE type IN ('table', 'view') "
                     "AND name NOT IN ('alembic_version', 'sqlite_sequence') LIMIT 1")
        else:
            query = ("SELECT 1 FROM information_schema.tables WHERE table_schema = current_schema() "
                     "AND table_name <> 'alembic_version' LIMIT 1")
        return SchemaState(revisions, connection.exec_driver_sql(query).first() is not None)


def current_revision(engine: Engine) -> str | None:
    return schema_state(engine).current


def known_revisions() -> set[str]:
    """Every revision of the migrations (Alembic's script directory)."""
    from alembic.script import ScriptDirectory

    return {script.revision for script in ScriptDirectory.from_config(alembic_config("sqlite://")).walk_revisions()}


def alembic_head() -> str:
    """The head revision as Alembic finds it in migrations/versions (HEAD must equal it)."""
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()


def alembic_config(url: str, connection=None):
    """The Alembic configuration of the installed `migrations` package, bound to `url`."""
    from alembic.config import Config

    import migrations

    config = Config(stdout=io.StringIO())  # alembic's own messages are the CLI's to word
    config.set_main_option("script_location", str(Path(migrations.__file__).resolve().parent))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


@contextmanager
def schema_transaction(engine: Engine) -> Iterator[Connection]:
    """A connection in one transaction for a whole schema change: committed whole or not at all.

    On SQLite, foreign keys are off while tables are rebuilt (Alembic's batch mode copies and
    drops them) and checked before the commit, as SQLite's ALTER TABLE procedure says. On
    PostgreSQL an advisory lock keeps two upgrades from running at once."""
    from sqlalchemy import text

    with engine.connect() as connection:
        sqlite = connection.dialect.name == "sqlite"
        raw = connection.connection.dbapi_connection if sqlite else None
        if raw is not None:
            raw.execute("PRAGMA foreign_keys=OFF")  # only outside a transaction does it take effect
        try:
            with connection.begin():
                if not sqlite:
                    connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_SCHEMA_LOCK})
                yield connection
                if sqlite:
                    broken = connection.exec_driver_sql("PRAGMA foreign_key_check").first()
                    if broken is not None:
                        raise ArchiveError(f"the schema change breaks a foreign key of table {broken[0]}")
        finally:
            if raw is not None:
                raw.execute("PRAGMA foreign_keys=ON")


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the schema to `revision`, in one transaction (a second upgrader waits, then finds it done)."""
    from alembic import command

    with schema_transaction(engine) as connection:
        command.upgrade(alembic_config(engine.url.render_as_string(hide_password=False), connection), revision)


def check(engine: Engine) -> None:
    """Raise alembic's AutogenerateDiffsDetected if the models and the database differ."""
    from alembic import command

    with engine.connect() as connection:
        command.check(alembic_config(engine.url.render_as_string(hide_password=False), connection))


# --- opening an archive ----------------------------------------------------------------------------


def _no_file(path: Path) -> bool:
    """A SQLite path that holds nothing yet: missing, or 0 bytes."""
    try:
        return path.stat().st_size == 0
    except FileNotFoundError:
        return True


def _schema_state_waiting(engine: Engine, is_sqlite: bool) -> SchemaState:
    """The schema's state; on SQLite, waiting out another process that is creating the file. While
    a new file is still in rollback-journal mode, a second connection's first statements meet its
    lock as "database is locked" at once (SQLite refuses to wait where waiting could deadlock), so
    the busy timeout does not cover them: ask again until LOCK_TIMEOUT has passed."""
    import time

    from sqlalchemy.exc import OperationalError

    deadline = time.monotonic() + LOCK_TIMEOUT
    while True:
        try:
            return schema_state(engine)
        except OperationalError as error:
            if not is_sqlite or "locked" not in str(error) or time.monotonic() > deadline:
                raise
            engine.dispose()
            time.sleep(0.05)


def open_archive(db: str | None = None, *, create: bool = True) -> Engine:
    """The engine of a ready archive: a writer with `create`, else a reader (see the module's doc).

    Commands that write (`create`) make a SQLite archive that does not exist yet (or is empty),
    at the newest schema, and bring the default archive (./proposals.db) up to date on their own;
    commands that only read need an existing archive and never create a file. Any other database
    found behind the code raises SchemaBehind: `proposals db upgrade` is a decision for whoever
    owns it. Raises ArchiveUsageError for a URL it cannot use, ArchiveError otherwise.
    """
    url, is_default = resolve_url(db)
    path = sqlite_path(url)
    shown = display_url(url)
    if path is not None:
        if path.is_dir():
            raise ArchiveError(f"{path} is a directory, not an archive")
        if not create and _no_file(path):
            raise MissingArchive(f"no archive at {path}")
        if create and not path.exists() and not path.parent.is_dir():
            raise MissingArchive(f"no directory {path.parent} for an archive at {path}")
    engine = make_engine(url, read_only=not create)
    try:
        state = _schema_state_waiting(engine, path is not None)
    except Exception as error:  # an unreachable server, a file that is not a database
        engine.dispose()
        raise ArchiveError(f"cannot open the archive at {shown}: {first_line(error)}") from None
    head = head_revision()
    if state.revisions == (head,):
        return engine
    try:
        problem = _schema_problem(state, shown, path is not None, create)
        if problem is None or (is_default and create and isinstance(problem, SchemaBehind)):
            upgrade(engine)
            return engine
    except Exception as error:
        engine.dispose()
        if isinstance(error, ArchiveError):
            raise
        raise ArchiveError(f"cannot upgrade the archive at {shown}: {first_line(error)}") from None
    engine.dispose()
    raise problem


def _schema_problem(state: SchemaState, shown: str, is_sqlite: bool, create: bool) -> ArchiveError | None:
    """Why an archive not at HEAD cannot be used as it is; None: a new SQLite archive a writer creates."""
    head = head_revision()
    if not state.has_tables and not state.revisions:
        if is_sqlite:
            return None if create else MissingArchive(f"no archive at {shown} (the file holds no tables)")
        return SchemaBehind(f"the database at {shown} is empty: run `proposals db upgrade` to create the archive")
    current = ", ".join(state.revisions) or "none"
    if state.revisions and not set(state.revisions) <= known_revisions():
        return NotAnArchive(f"the archive at {shown} is at schema revision {current}, unknown to this program "
                            f"(newest known: {head}): a newer version of proposals made it")
    return SchemaBehind(f"the archive at {shown} is at schema revision {current}, the code needs {head}: "
                        f"run `proposals db upgrade`")


def display_url(url: str) -> str:
    """A URL to show: its password hidden; a SQLite file as its path."""
    from sqlalchemy.engine import make_url

    path = sqlite_path(url)
    return str(path) if path is not None else make_url(url).render_as_string(hide_password=True)


_display = display_url


def first_line(error: BaseException) -> str:
    """The first line of an error (a driver's own message where SQLAlchemy wraps one)."""
    text = str(getattr(error, "orig", None) or error).strip()
    return text.splitlines()[0] if text else type(error).__name__


def session_factory(engine: Engine) -> sessionmaker[Session]:
    from sqlalchemy.orm import sessionmaker

    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def transaction(engine: Engine) -> Iterator[Session]:
    """A session in one transaction: committed if the block ends well, rolled back otherwise."""
    with session_factory(engine)() as session, session.begin():
        yield session


def table_names(engine: Engine) -> set[str]:
    from sqlalchemy import inspect

    return set(inspect(engine).get_table_names())
