"""Alembic migrations of the archive (`proposals db upgrade`); works from an installed package."""
