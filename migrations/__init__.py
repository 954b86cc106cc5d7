"""Alembic migrations of the archive (`proposals db upgrade`); works from an installed package.

HEAD is the newest revision, so that a command can tell an archive is up to date with one query
and without loading Alembic. Whoever adds a revision sets HEAD to it; a test compares HEAD with
the head Alembic finds in versions/.
"""
# Alembic from a checkout: `alembic upgrade head`, `alembic check`. The database is PROPOSALS_DB_URL
# (a SQLAlchemy URL) or the default archive ./proposals.db. `proposals db …` needs no ini file.

HEAD = "a77ac4f1e0d2"
