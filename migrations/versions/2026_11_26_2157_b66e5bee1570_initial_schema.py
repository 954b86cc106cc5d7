"""Initial schema: sites, captures, proposals and their people, units, replies and history.

On SQLite a full-text index (FTS5, trigram tokenizer, external content) over title, content and
reply text; on PostgreSQL pg_trgm indexes on the same columns.

Revision ID: b66e5bee1570
Revises: (none)
Create Date: 2026-11-26 21:57:25.019854
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "b66e5bee1570"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "site",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("slug", sa.String(length=100), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("base_url", sa.String(length=500), nullable=True),
        sa.Column("platform", sa.String(length=50), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_site")),
        sa.UniqueConstraint("slug", name=op.f("uq_site_slug")),
    )
    op.create_table(
        "crawl_run",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("full", sa.Boolean(), nullable=False),
        sa.Column("listed", sa.Integer(), nullable=False),
        sa.Column("fetched", sa.Integer(), nullable=False),
        sa.Column("not_modified", sa.Integer(), nullable=False),
        sa.Column("new", sa.Integer(), nullable=False),
        sa.Column("changed", sa.Integer(), nullable=False),
        sa.Column("unchanged", sa.Integer(), nullable=False),
        sa.Column("failed", sa.Integer(), nullable=False),
        sa.Column("blocked", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["site_id"], ["site.id"], name=op.f("fk_crawl_run_site_id_site")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_crawl_run")),
    )
    with op.batch_alter_table("crawl_run", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_crawl_run_site_id"), ["site_id"], unique=False)

    op.create_table(
        "organization",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.ForeignKeyConstraint(["site_id"], ["site.id"], name=op.f("fk_organization_site_id_site")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_organization")),
        sa.UniqueConstraint("site_id", "name", name=op.f("uq_organization_site_id_name")),
    )
    with op.batch_alter_table("organization", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_organization_name"), ["name"], unique=False)

    op.create_table(
        "person",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(["site_id"], ["site.id"], name=op.f("fk_person_site_id_site")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_person")),
        sa.UniqueConstraint("site_id", "name", name=op.f("uq_person_site_id_name")),
    )
    with op.batch_alter_table("person", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_person_name"), ["name"], unique=False)

    op.create_table(
        "capture",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column("url", sa.String(length=1000), nullable=False),
        sa.Column("fetched_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("source", sa.String(length=10), nullable=False),
        sa.Column("http_status", sa.Integer(), nullable=True),
        sa.Column("etag", sa.String(length=300), nullable=True),
        sa.Column("last_modified", sa.String(length=100), nullable=True),
        sa.Column("content_type", sa.String(length=200), nullable=True),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("body", sa.LargeBinary(), nullable=False),
        sa.Column("parser_version", sa.String(length=20), nullable=True),
        sa.Column("outcome", sa.String(length=20), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("crawl_run_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["crawl_run_id"], ["crawl_run.id"], name=op.f("fk_capture_crawl_run_id_crawl_run")),
        sa.ForeignKeyConstraint(["site_id"], ["site.id"], name=op.f("fk_capture_site_id_site")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_capture")),
        sa.UniqueConstraint("site_id", "url", "sha256", name=op.f("uq_capture_site_id_url_sha256")),
    )
    with op.batch_alter_table("capture", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_capture_crawl_run_id"), ["crawl_run_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_capture_sha256"), ["sha256"], unique=False)

    op.create_table(
        "proposal",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column("url", sa.String(length=1000), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=True),
        sa.Column("raw_title", sa.Text(), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("number", sa.String(length=40), nullable=True),
        sa.Column("year", sa.Integer(), nullable=True),
        sa.Column("session", sa.String(length=40), nullable=True),
        sa.Column("category", sa.String(length=200), nullable=True),
        sa.Column("content", sa.Text(), nullable=True),
        sa.Column("adoption_label", sa.String(length=100), nullable=True),
        sa.Column("adoption_class", sa.String(length=1), nullable=True),
        sa.Column("implementation_status", sa.String(length=100), nullable=True),
        sa.Column("impact_scope", sa.String(length=200), nullable=True),
        sa.Column("approved_by", sa.String(length=200), nullable=True),
        sa.Column("index_no", sa.String(length=100), nullable=True),
        sa.Column("disclosure_category", sa.String(length=200), nullable=True),
        sa.Column("publisher", sa.String(length=200), nullable=True),
        sa.Column("generated_on", sa.Date(), nullable=True),
        sa.Column("disclosure_mode", sa.String(length=100), nullable=True),
        sa.Column("published_at", sa.String(length=16), nullable=True),
        sa.Column("source", sa.String(length=200), nullable=True),
        sa.Column("first_seen", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_changed", sa.DateTime(timezone=True), nullable=False),
        sa.Column("capture_id", sa.Integer(), nullable=True),
        sa.CheckConstraint("adoption_class IN ('A', 'B', 'C', 'D')", name=op.f("ck_proposal_adoption_class")),
        sa.CheckConstraint("kind IN ('cppcc_proposal', 'npc_suggestion')", name=op.f("ck_proposal_kind")),
        sa.ForeignKeyConstraint(["capture_id"], ["capture.id"], name=op.f("fk_proposal_capture_id_capture")),
        sa.ForeignKeyConstraint(["site_id"], ["site.id"], name=op.f("fk_proposal_site_id_site")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_proposal")),
        sa.UniqueConstraint("site_id", "url", name=op.f("uq_proposal_site_id_url")),
    )
    with op.batch_alter_table("proposal", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_proposal_adoption_class_year"), ["adoption_class", "year"], unique=False)
        batch_op.create_index(batch_op.f("ix_proposal_kind"), ["kind"], unique=False)
        batch_op.create_index(batch_op.f("ix_proposal_last_changed"), ["last_changed"], unique=False)
        batch_op.create_index(batch_op.f("ix_proposal_published_at"), ["published_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_proposal_year"), ["year"], unique=False)

    op.create_table(
        "attachment",
        sa.Column("proposal_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("url", sa.String(length=1000), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["proposal_id"], ["proposal.id"], name=op.f("fk_attachment_proposal_id_proposal"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("proposal_id", "position", name=op.f("pk_attachment")),
    )
    op.create_table(
        "extra_field",
        sa.Column("proposal_id", sa.Integer(), nullable=False),
        sa.Column("label", sa.String(length=100), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("value", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["proposal_id"], ["proposal.id"], name=op.f("fk_extra_field_proposal_id_proposal"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("proposal_id", "label", name=op.f("pk_extra_field")),
    )
    op.create_table(
        "proposal_sponsor",
        sa.Column("proposal_id", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(length=4), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.CheckConstraint("role IN ('lead', 'co')", name=op.f("ck_proposal_sponsor_role")),
        sa.ForeignKeyConstraint(["person_id"], ["person.id"], name=op.f("fk_proposal_sponsor_person_id_person")),
        sa.ForeignKeyConstraint(
            ["proposal_id"], ["proposal.id"], name=op.f("fk_proposal_sponsor_proposal_id_proposal"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("proposal_id", "role", "position", name=op.f("pk_proposal_sponsor")),
    )
    with op.batch_alter_table("proposal_sponsor", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_proposal_sponsor_person_id"), ["person_id"], unique=False)

    op.create_table(
        "proposal_unit",
        sa.Column("proposal_id", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(length=4), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("organization_id", sa.Integer(), nullable=False),
        sa.CheckConstraint("role IN ('lead', 'co')", name=op.f("ck_proposal_unit_role")),
        sa.ForeignKeyConstraint(
            ["organization_id"], ["organization.id"], name=op.f("fk_proposal_unit_organization_id_organization")
        ),
        sa.ForeignKeyConstraint(
            ["proposal_id"], ["proposal.id"], name=op.f("fk_proposal_unit_proposal_id_proposal"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("proposal_id", "role", "position", name=op.f("pk_proposal_unit")),
    )
    with op.batch_alter_table("proposal_unit", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_proposal_unit_organization_id"), ["organization_id"], unique=False)

    op.create_table(
        "reply",
        sa.Column("proposal_id", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("title", sa.Text(), nullable=True),
        sa.Column("doc_number", sa.String(length=100), nullable=True),
        sa.Column("addressee", sa.String(length=200), nullable=True),
        sa.Column("signer", sa.String(length=200), nullable=True),
        sa.Column("date", sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(
            ["proposal_id"], ["proposal.id"], name=op.f("fk_reply_proposal_id_proposal"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("proposal_id", name=op.f("pk_reply")),
    )
    op.create_table(
        "revision",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("proposal_id", sa.Integer(), nullable=False),
        sa.Column("capture_id", sa.Integer(), nullable=True),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("field", sa.String(length=120), nullable=False),
        sa.Column("old_value", sa.Text(), nullable=True),
        sa.Column("new_value", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["capture_id"], ["capture.id"], name=op.f("fk_revision_capture_id_capture")),
        sa.ForeignKeyConstraint(
            ["proposal_id"], ["proposal.id"], name=op.f("fk_revision_proposal_id_proposal"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_revision")),
    )
    with op.batch_alter_table("revision", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_revision_proposal_id_changed_at"), ["proposal_id", "changed_at"], unique=False
        )

    _create_text_search()


# The full-text index reads its text from a view (external content): nothing is stored twice.
_FTS_SQLITE = (
    "CREATE VIEW proposal_search_text AS SELECT p.id AS id, p.title AS title, p.content AS content, "
    "r.text AS reply FROM proposal AS p LEFT JOIN reply AS r ON r.proposal_id = p.id",
    "CREATE VIRTUAL TABLE proposal_fts USING fts5(title, content, reply, content='proposal_search_text', "
    "content_rowid='id', tokenize='trigram')",
)
_TRGM_POSTGRESQL = (
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    "CREATE INDEX ix_trgm_proposal_title ON proposal USING gin (title gin_trgm_ops)",
    "CREATE INDEX ix_trgm_proposal_content ON proposal USING gin (content gin_trgm_ops)",
    "CREATE INDEX ix_trgm_reply_text ON reply USING gin (text gin_trgm_ops)",
)


def _create_text_search() -> None:
    dialect = op.get_bind().dialect.name
    for statement in _FTS_SQLITE if dialect == "sqlite" else _TRGM_POSTGRESQL if dialect == "postgresql" else ():
        op.execute(statement)


def _drop_text_search() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        op.execute("DROP TABLE IF EXISTS proposal_fts")
        op.execute("DROP VIEW IF EXISTS proposal_search_text")
    elif dialect == "postgresql":
        for name in ("ix_trgm_reply_text", "ix_trgm_proposal_content", "ix_trgm_proposal_title"):
            op.execute(f"DROP INDEX IF EXISTS {name}")


def downgrade() -> None:
    _drop_text_search()
    with op.batch_alter_table("revision", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_revision_proposal_id_changed_at"))

    op.drop_table("revision")
    op.drop_table("reply")
    with op.batch_alter_table("proposal_unit", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_proposal_unit_organization_id"))

    op.drop_table("proposal_unit")
    with op.batch_alter_table("proposal_sponsor", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_proposal_sponsor_person_id"))

    op.drop_table("proposal_sponsor")
    op.drop_table("extra_field")
    op.drop_table("attachment")
    with op.batch_alter_table("proposal", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_proposal_year"))
        batch_op.drop_index(batch_op.f("ix_proposal_published_at"))
        batch_op.drop_index(batch_op.f("ix_proposal_last_changed"))
        batch_op.drop_index(batch_op.f("ix_proposal_kind"))
        batch_op.drop_index(batch_op.f("ix_proposal_adoption_class_year"))

    op.drop_table("proposal")
    with op.batch_alter_table("capture", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_capture_sha256"))
        batch_op.drop_index(batch_op.f("ix_capture_crawl_run_id"))

    op.drop_table("capture")
    with op.batch_alter_table("person", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_person_name"))

    op.drop_table("person")
    with op.batch_alter_table("organization", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_organization_name"))

    op.drop_table("organization")
    with op.batch_alter_table("crawl_run", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_crawl_run_site_id"))

    op.drop_table("crawl_run")
    op.drop_table("site")
