"""The archive: SQLAlchemy models, migrations, idempotent ingest, search and queries."""

