"""Crawl state: each column's last walk (complete or not), and the process that runs a crawl

A crawl resumes what an interrupted one left (crawl_column.complete false: walk the whole list
again) and closes the `running` crawl_run rows of processes that are gone (host, pid).

Revision ID: 25120100d900
Revises: 925cfe28ba13
Create Date: 2026-12-01 20:52:10.521522
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "25120100d900"
down_revision = "925cfe28ba13"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "crawl_column",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column("url", sa.String(length=1000), nullable=False),
        sa.Column("complete", sa.Boolean(), nullable=False),
        sa.Column("walked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("total", sa.Integer(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["site_id"], ["site.id"], name=op.f("fk_crawl_column_site_id_site")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_crawl_column")),
        sa.UniqueConstraint("site_id", "url", name=op.f("uq_crawl_column_site_id_url")),
    )
    with op.batch_alter_table("crawl_run", schema=None) as batch_op:
        batch_op.add_column(sa.Column("host", sa.String(length=255), nullable=True))
        batch_op.add_column(sa.Column("pid", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("crawl_run", schema=None) as batch_op:
        batch_op.drop_column("pid")
        batch_op.drop_column("host")
    op.drop_table("crawl_column")
