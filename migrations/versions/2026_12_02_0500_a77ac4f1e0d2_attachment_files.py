"""Attached files: each fetched file (its capture, its text, its status), and where a reply was read

- `attachment_file`: one row per attachment URL of a site: the capture holding its bytes (files
  of the same bytes share one), the text read from it, its status and validators (ETag,
  Last-Modified) for conditional revalidation.
- `reply.source` ("page" or "attachment") and `reply.attachment_url`: a reply letter read from an
  attached file says so, with the file's URL.
- `proposal_flat` gains `reply_source` and `reply_attachment_url`.

Columns are added without copying the reply table (its full-text triggers stay as they are).

Revision ID: a77ac4f1e0d2
Revises: 25120100d900
Create Date: 2026-12-02 05:00:00
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import sqlalchemy as sa
from alembic import op

revision = "a77ac4f1e0d2"
down_revision = "25120100d900"
branch_labels = None
depends_on = None

_SOURCE_CHECK = "source IN ('page', 'attachment')"


def _flat_view(dialect: str) -> str:
    """proposal_flat as revision c3a1f7d2e9b4 made it, with the reply's source and attachment URL."""
    path = next(Path(__file__).parent.glob("*_c3a1f7d2e9b4_*.py"))
    spec = importlib.util.spec_from_file_location("_flat_c3a1f7d2e9b4", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    view = module._flat_view(dialect)
    anchor = "r.date AS reply_date, "
    assert anchor in view
    return view.replace(anchor, anchor + "r.source AS reply_source, r.attachment_url AS reply_attachment_url, ")


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    op.execute("DROP VIEW IF EXISTS proposal_flat")
    if dialect == "sqlite":  # ADD COLUMN, never a copy of the table (its triggers stay)
        op.execute("ALTER TABLE reply ADD COLUMN source VARCHAR(10) DEFAULT 'page' NOT NULL "
                   f"CONSTRAINT ck_reply_source CHECK ({_SOURCE_CHECK})")
    else:
        op.add_column("reply", sa.Column("source", sa.String(length=10), server_default="page", nullable=False))
        op.create_check_constraint(op.f("ck_reply_source"), "reply", _SOURCE_CHECK)
    op.add_column("reply", sa.Column("attachment_url", sa.String(length=1000), nullable=True))
    op.create_table(
        "attachment_file",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column("url", sa.String(length=1000), nullable=False),
        sa.Column("capture_id", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("format", sa.String(length=10), nullable=True),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.Column("text", sa.Text(), nullable=True),
        sa.Column("etag", sa.String(length=300), nullable=True),
        sa.Column("last_modified", sa.String(length=100), nullable=True),
        sa.Column("fetched_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("checked_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reader_version", sa.String(length=20), nullable=True),
        sa.ForeignKeyConstraint(["capture_id"], ["capture.id"], name=op.f("fk_attachment_file_capture_id_capture")),
        sa.ForeignKeyConstraint(["site_id"], ["site.id"], name=op.f("fk_attachment_file_site_id_site")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_attachment_file")),
        sa.UniqueConstraint("site_id", "url", name=op.f("uq_attachment_file_site_id_url")),
    )
    op.create_index(op.f("ix_attachment_file_capture_id"), "attachment_file", ["capture_id"], unique=False)
    op.create_index(op.f("ix_attachment_file_status"), "attachment_file", ["status"], unique=False)
    op.execute(_flat_view(dialect))


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    op.execute("DROP VIEW IF EXISTS proposal_flat")
    op.drop_index(op.f("ix_attachment_file_status"), table_name="attachment_file")
    op.drop_index(op.f("ix_attachment_file_capture_id"), table_name="attachment_file")
    op.drop_table("attachment_file")
    if dialect != "sqlite":
        op.drop_constraint(op.f("ck_reply_source"), "reply", type_="check")
    for column in ("attachment_url", "source"):  # no table copy: the triggers on reply stay
        op.execute(f"ALTER TABLE reply DROP COLUMN {column}")
    spec_view = _flat_view(dialect)
    op.execute(spec_view.replace("r.source AS reply_source, r.attachment_url AS reply_attachment_url, ", ""))
