"""Alembic environment: the archive's models are the target; SQLite migrates in batch mode."""

from __future__ import annotations

import os

from alembic import context

from archive.models import Base

config = context.config
target_metadata = Base.metadata

# Objects the migrations create by hand and the models do not describe: the SQLite full-text
# index (an FTS5 table, its shadow tables and its source view) and PostgreSQL trigram indexes.
_UNMODELLED_PREFIXES = ("proposal_fts", "proposal_search_text", "ix_trgm_")


def include_name(name, type_, parent_names) -> bool:
    return not (name or "").startswith(_UNMODELLED_PREFIXES)


def _url() -> str:
    return os.environ.get("PROPOSALS_DB_URL") or config.get_main_option("sqlalchemy.url") or "sqlite:///proposals.db"


def _configure(connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        include_name=include_name,
        compare_type=True,
        # archive.db's engines make SQLite's DDL transactional: the whole upgrade is one transaction
        transactional_ddl=True,
    )


def run_migrations_offline() -> None:
    context.configure(url=_url(), target_metadata=target_metadata, literal_binds=True,
                      render_as_batch=_url().startswith("sqlite"), include_name=include_name)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:  # handed over by archive.db in its schema transaction (proposals db upgrade)
        _configure(connection)
        with context.begin_transaction():
            context.run_migrations()
        return
    from archive.db import make_engine, resolve_url, schema_transaction

    engine = make_engine(resolve_url(_url())[0])
    with schema_transaction(engine) as connection:
        _configure(connection)
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
