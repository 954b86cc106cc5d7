"""Shared test helpers: the fixture sites copied from ../shared/fixtures."""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

FIXTURES = Path(__file__).resolve().parent / "fixtures"
SITES = sorted(p.name for p in FIXTURES.iterdir() if (p / "site.json").is_file())


def site_json(slug: str) -> dict:
    return json.loads((FIXTURES / slug / "site.json").read_text(encoding="utf-8"))


def fixture_pages() -> list[tuple[str, str]]:
    """(site slug, page path under pages/) for every detail page with an expected record."""
    pages = []
    for slug in SITES:
        for expected in sorted((FIXTURES / slug / "expected").rglob("*.json")):
            rel = expected.relative_to(FIXTURES / slug / "expected").as_posix()[: -len(".json")]
            pages.append((slug, rel))
    return pages


def page_bytes(slug: str, rel: str) -> bytes:
    return (FIXTURES / slug / "pages" / rel).read_bytes()


def expected_record(slug: str, rel: str) -> dict:
    return json.loads((FIXTURES / slug / "expected" / (rel + ".json")).read_text(encoding="utf-8"))


def page_url(slug: str, rel: str) -> str:
    return site_json(slug)["base_url"] + "/" + rel


def field_diffs(got: object, want: object, path: str = "") -> list[str]:
    """Every field where two records differ, named by its dotted path."""
    if isinstance(got, dict) and isinstance(want, dict):
        diffs = []
        for key in list(want) + [k for k in got if k not in want]:
            sub = f"{path}.{key}" if path else key
            if key not in got:
                diffs.append(f"{sub}: missing (expected {want[key]!r})")
            elif key not in want:
                diffs.append(f"{sub}: unexpected key (got {got[key]!r})")
            else:
                diffs.extend(field_diffs(got[key], want[key], sub))
        return diffs
    if got != want:
        return [f"{path}: got {got!r}, expected {want!r}"]
    return []


@pytest.fixture(scope="session")
def record_schema() -> dict:
    return json.loads((FIXTURES / "record.schema.json").read_text(encoding="utf-8"))


# --- archives: SQLite always, PostgreSQL where a server answers ------------------------------------

PG_URL = os.environ.get("PROPOSALS_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def _postgres_reason() -> str | None:
    """Why PostgreSQL tests cannot run here, or None if they can."""
    try:
        import psycopg
        from sqlalchemy.engine import make_url
    except ImportError as error:  # pragma: no cover - psycopg is a dependency
        return f"psycopg is not installed ({error})"
    url = make_url(PG_URL)
    try:
        psycopg.connect(host=url.host, port=url.port or 5432, user=url.username, password=url.password,
                        dbname=url.database, connect_timeout=3).close()
    except psycopg.Error as error:
        return f"no PostgreSQL at {url.render_as_string(hide_password=True)} ({str(error).strip().splitlines()[0]}); " \
               f"set PROPOSALS_TEST_PG_URL to run these tests"
    return None


POSTGRES_SKIP = _postgres_reason()


@contextmanager
def fresh_postgres_database() -> Iterator[str]:
    """A new, empty PostgreSQL database for one test (dropped afterwards); yields its URL."""
    import psycopg
    from sqlalchemy.engine import make_url

    url = make_url(PG_URL)
    name = f"proposals_test_{uuid.uuid4().hex[:12]}"
    admin = dict(host=url.host, port=url.port or 5432, user=url.username, password=url.password,
                 dbname=url.database, autocommit=True)
    with psycopg.connect(**admin) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    try:
        yield url.set(drivername="postgresql+psycopg", database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(**admin) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def archive_url(request, tmp_path) -> Iterator[str]:
    """The URL of an empty archive (schema at head), on SQLite and on PostgreSQL."""
    from archive.db import make_engine, upgrade

    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'archive.db'}"
        engine = make_engine(url)
        upgrade(engine)
        engine.dispose()
        yield url
        return
    if POSTGRES_SKIP:
        pytest.skip(POSTGRES_SKIP)
    with fresh_postgres_database() as url:
        engine = make_engine(url)
        upgrade(engine)
        engine.dispose()
        yield url


@pytest.fixture
def engine(archive_url):
    from archive.db import make_engine

    engine = make_engine(archive_url)
    yield engine
    engine.dispose()


def fixture_items(session, when=None) -> list:
    """(record, capture) for every fixture page, each under its registered site."""
    import datetime as dt

    from archive.ingest import CaptureIn, ensure_site
    from crawler.parsers import parse_detail

    when = when or dt.datetime.now(dt.UTC)
    items = []
    for slug, rel in fixture_pages():
        site = site_json(slug)
        site_id = ensure_site(session, slug, name=site["name"], base_url=site["base_url"],
                              platform=site["platform"]).id
        body, url = page_bytes(slug, rel), page_url(slug, rel)
        items.append((parse_detail(body, url), CaptureIn(site_id, url, body, when, source="import")))
    return items


def archive_snapshot(engine) -> dict:
    """Every table's rows (without timestamps), to compare two states of an archive."""
    from sqlalchemy import MetaData, select

    from archive.models import Base

    skip = {"first_seen", "last_seen", "last_changed", "fetched_at", "last_seen_at", "changed_at"}
    snapshot = {}
    with engine.connect() as connection:
        for table in Base.metadata.sorted_tables:
            columns = [c for c in table.columns if c.name not in skip]
            rows = connection.execute(select(*columns).order_by(*table.primary_key.columns)).all()
            snapshot[table.name] = [tuple(row) for row in rows]
    del MetaData
    return snapshot
