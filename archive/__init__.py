"""The archive: SQLAlchemy models, migrations, idempotent ingest, search and queries."""

from .textindex import listen as _listen

# every SQLite connection gets proposals_grams(), which the short-term index's triggers call
_listen()
