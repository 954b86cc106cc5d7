"""crawl_run counts skipped pages

Revision ID: 925cfe28ba13
Revises: c3a1f7d2e9b4
Create Date: 2026-12-01 20:36:54.031515
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "925cfe28ba13"
down_revision = "c3a1f7d2e9b4"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("crawl_run", schema=None) as batch_op:
        batch_op.add_column(sa.Column("skipped", sa.Integer(), server_default="0", nullable=False))



def downgrade() -> None:
    with op.batch_alter_table("crawl_run", schema=None) as batch_op:
        batch_op.drop_column("skipped")

