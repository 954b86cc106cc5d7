"""PostgreSQL text filters and reader settings, and bench/query.py's PostgreSQL mode (ours and the
hand-written floor return the same records). Needs a PostgreSQL server (PROPOSALS_TEST_PG_URL) for
all but the first test; skipped with the reason when there is none. No timings are asserted."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest
from conftest import POSTGRES_SKIP, fresh_postgres_database
from sqlalchemy.dialects import postgresql

from archive.search import text_filter

BENCH = Path(__file__).resolve().parent.parent / "bench"


def _sql(query: str) -> str:
    return str(text_filter(query, "postgresql").compile(dialect=postgresql.dialect()))


def test_postgres_long_terms_use_like_unless_they_have_cased_letters():
    # Chinese and digits have no case: LIKE matches what ILIKE would, and rechecks faster
    assert " LIKE " in _sql("养老保障") and "ILIKE" not in _sql("养老保障")
    assert " LIKE " in _sql("2023年") and "ILIKE" not in _sql("2023年")
    for cased in ("APP", "app", "5G网络", "Ωμέγα"):
        assert "ILIKE" in _sql(cased), cased
    # short terms go to the grams indexes either way, three columns each
    assert _sql("渔").count("proposals_grams(lower(") == 3


needs_postgres = pytest.mark.skipif(POSTGRES_SKIP is not None, reason=POSTGRES_SKIP or "")


@pytest.mark.postgres
@needs_postgres
def test_postgresql_readers_start_no_parallel_workers():
    from sqlalchemy import text

    from archive.db import make_engine, upgrade

    with fresh_postgres_database() as url:
        upgrade(make_engine(url))
        reader = make_engine(url, read_only=True)
        with reader.connect() as connection:
            assert connection.execute(text("SHOW max_parallel_workers_per_gather")).scalar() == "0"
        reader.dispose()


def _bench_query():
    sys.path.insert(0, str(BENCH))
    spec = importlib.util.spec_from_file_location("bench_query", BENCH / "query.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.postgres
@needs_postgres
def test_bench_postgres_mode_ours_and_the_floor_agree(capsys):
    bench = _bench_query()
    with fresh_postgres_database() as url:
        assert bench.main(["--records", "120", "--repeat", "1", "--postgres", url]) == 0
        out = capsys.readouterr().out
        assert "returned the same results" in out and "differ" not in out
        assert "(PostgreSQL)" in out and "count of 养老" in out
        # a filled database is refused, unless asked to reuse it
        with pytest.raises(SystemExit, match="already holds an archive"):
            bench.main(["--records", "120", "--postgres", url])
        assert bench.main(["--repeat", "1", "--postgres", url, "--pg-reuse"]) == 0


@pytest.mark.postgres
@needs_postgres
def test_postgresql_grams_statements_use_the_indexes_and_leave_seqscan_as_it_was():
    from sqlalchemy import func, select, text

    from archive.db import make_engine, session_factory, upgrade
    from archive.ingest import ensure_site
    from archive.models import Proposal

    with fresh_postgres_database() as url:
        writer = make_engine(url)
        upgrade(writer)
        with session_factory(writer)() as session, session.begin():
            ensure_site(session, "s", name="s", base_url="https://s.example")
        writer.dispose()
        reader = make_engine(url, read_only=True)
        statement = select(func.count(Proposal.id)).where(text_filter("的", "postgresql"))
        compiled = str(statement.compile(dialect=postgresql.dialect(), compile_kwargs={"literal_binds": True}))
        with session_factory(reader)() as session:
            # a tiny table is read whole whenever the planner may: here it may not
            plan = "\n".join(session.execute(text("EXPLAIN " + compiled.replace("%%", "%"))).scalars())
            assert "Seq Scan" not in plan and "ix_trgm_grams_proposal_content" in plan, plan
            assert session.execute(text("SHOW enable_seqscan")).scalar() == "on"
            assert session.scalar(statement) == 0
            assert session.execute(text("SHOW enable_seqscan")).scalar() == "on"
        reader.dispose()
