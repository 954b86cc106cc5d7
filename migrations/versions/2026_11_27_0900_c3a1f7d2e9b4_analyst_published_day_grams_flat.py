"""The analyst's schema: publication day and year, a short-term text index, the proposal_flat view.

- proposal.published_day / published_year: generated columns (发布时间's date, else 生成日期), with
  an index on (published_day, id) so newest-first listings stop after the rows they show.
- SQLite: `proposal_fts_grams`, an FTS5 table over the text as character bigrams (see
  archive/textindex.py), declared on the real `proposal` table the way Datasette and sqlite-utils
  look for one (content="proposal"), kept by triggers that call `proposals_grams()`; it answers
  one- and two-character terms that the trigram index cannot.
- PostgreSQL: `proposals_grams(text)`, the set of characters and bigrams of a text, with GIN
  indexes over the lower-cased text of title, content and reply.
- `proposal_flat`: one row per record with its site, sponsors, units and reply, for Datasette,
  DuckDB and pandas.

Revision ID: c3a1f7d2e9b4
Revises: b66e5bee1570
Create Date: 2026-11-27 09:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "c3a1f7d2e9b4"
down_revision = "b66e5bee1570"
branch_labels = None
depends_on = None

_PG_FUNCTIONS = (
    # to_char with a numeric pattern does not depend on any setting: immutable in fact
    "CREATE OR REPLACE FUNCTION proposals_iso_day(day date) RETURNS text LANGUAGE sql IMMUTABLE STRICT "
    "PARALLEL SAFE AS $$ SELECT to_char(day, 'YYYY-MM-DD') $$",
    "CREATE OR REPLACE FUNCTION proposals_grams(t text) RETURNS text[] LANGUAGE sql IMMUTABLE STRICT "
    "PARALLEL SAFE AS $$ SELECT array_agg(DISTINCT g) FROM ("
    "SELECT substr(t, i, 1) AS g FROM generate_series(1, char_length(t)) AS i "
    "UNION ALL SELECT substr(t, i, 2) FROM generate_series(1, char_length(t) - 1) AS i) AS grams $$",
)
_PG_GRAM_INDEXES = (
    ("ix_trgm_grams_proposal_title", "proposal", "title"),
    ("ix_trgm_grams_proposal_content", "proposal", "content"),
    ("ix_trgm_grams_reply_text", "reply", "text"),
)

_DAY = {"sqlite": "coalesce(substr(published_at, 1, 10), generated_on)",
        "postgresql": "coalesce(substr(published_at, 1, 10), proposals_iso_day(generated_on))"}
_YEAR = {"sqlite": "CASE WHEN substr({day}, 1, 4) GLOB '[0-9][0-9][0-9][0-9]' "
                   "THEN CAST(substr({day}, 1, 4) AS INTEGER) END",
         "postgresql": "CASE WHEN {day} ~ '^[0-9]{{4}}' THEN CAST(substr({day}, 1, 4) AS INTEGER) END"}

# the triggers keep one row per proposal: tokens of its title; of its content and reply text
_GRAMS_ROW = "proposals_grams({p}.title), proposals_grams({p}.content, {reply})"
_CURRENT_REPLY = "(SELECT text FROM reply WHERE proposal_id = {p}.id)"
_SQLITE_GRAMS = (
    'CREATE VIRTUAL TABLE proposal_fts_grams USING fts5(title, content, content="proposal", content_rowid="id", '
    "tokenize=\"unicode61 remove_diacritics 0\", prefix='1')",
    "CREATE TRIGGER proposal_fts_grams_insert AFTER INSERT ON proposal BEGIN "
    "INSERT INTO proposal_fts_grams(rowid, title, content) VALUES (new.id, "
    + _GRAMS_ROW.format(p="new", reply=_CURRENT_REPLY.format(p="new")) + "); END",
    "CREATE TRIGGER proposal_fts_grams_update AFTER UPDATE OF title, content ON proposal "
    "WHEN old.title IS NOT new.title OR old.content IS NOT new.content BEGIN "
    "INSERT INTO proposal_fts_grams(proposal_fts_grams, rowid, title, content) VALUES ('delete', old.id, "
    + _GRAMS_ROW.format(p="old", reply=_CURRENT_REPLY.format(p="old")) + "); "
    "INSERT INTO proposal_fts_grams(rowid, title, content) VALUES (new.id, "
    + _GRAMS_ROW.format(p="new", reply=_CURRENT_REPLY.format(p="new")) + "); END",
    "CREATE TRIGGER proposal_fts_grams_delete BEFORE DELETE ON proposal BEGIN "
    "INSERT INTO proposal_fts_grams(proposal_fts_grams, rowid, title, content) VALUES ('delete', old.id, "
    + _GRAMS_ROW.format(p="old", reply=_CURRENT_REPLY.format(p="old")) + "); END",
    "CREATE TRIGGER reply_fts_grams_insert AFTER INSERT ON reply BEGIN "
    "INSERT INTO proposal_fts_grams(proposal_fts_grams, rowid, title, content) SELECT 'delete', p.id, "
    + _GRAMS_ROW.format(p="p", reply="NULL") + " FROM proposal AS p WHERE p.id = new.proposal_id; "
    "INSERT INTO proposal_fts_grams(rowid, title, content) SELECT p.id, "
    + _GRAMS_ROW.format(p="p", reply="new.text") + " FROM proposal AS p WHERE p.id = new.proposal_id; END",
    "CREATE TRIGGER reply_fts_grams_delete AFTER DELETE ON reply BEGIN "
    "INSERT INTO proposal_fts_grams(proposal_fts_grams, rowid, title, content) SELECT 'delete', p.id, "
    + _GRAMS_ROW.format(p="p", reply="old.text") + " FROM proposal AS p WHERE p.id = old.proposal_id; "
    "INSERT INTO proposal_fts_grams(rowid, title, content) SELECT p.id, "
    + _GRAMS_ROW.format(p="p", reply="NULL") + " FROM proposal AS p WHERE p.id = old.proposal_id; END",
    "CREATE TRIGGER reply_fts_grams_update AFTER UPDATE OF text ON reply WHEN old.text IS NOT new.text BEGIN "
    "INSERT INTO proposal_fts_grams(proposal_fts_grams, rowid, title, content) SELECT 'delete', p.id, "
    + _GRAMS_ROW.format(p="p", reply="old.text") + " FROM proposal AS p WHERE p.id = old.proposal_id; "
    "INSERT INTO proposal_fts_grams(rowid, title, content) SELECT p.id, "
    + _GRAMS_ROW.format(p="p", reply="new.text") + " FROM proposal AS p WHERE p.id = old.proposal_id; END",
    "INSERT INTO proposal_fts_grams(rowid, title, content) SELECT p.id, "
    + _GRAMS_ROW.format(p="p", reply="r.text") + " FROM proposal AS p LEFT JOIN reply AS r ON r.proposal_id = p.id",
)
_SQLITE_TRIGGERS = ("proposal_fts_grams_insert", "proposal_fts_grams_update", "proposal_fts_grams_delete",
                    "reply_fts_grams_insert", "reply_fts_grams_delete", "reply_fts_grams_update")


def _names(link: str, entity: str, key: str, role: str, dialect: str) -> str:
    """The names of one role, in their printed order, joined by '; '."""
    if dialect == "postgresql":
        return (f"(SELECT string_agg(e.name, '; ' ORDER BY l.position) FROM {link} AS l JOIN {entity} AS e "
                f"ON e.id = l.{key} WHERE l.proposal_id = p.id AND l.role = '{role}')")
    return (f"(SELECT group_concat(name, '; ') FROM (SELECT e.name AS name FROM {link} AS l JOIN {entity} AS e "
            f"ON e.id = l.{key} WHERE l.proposal_id = p.id AND l.role = '{role}' ORDER BY l.position))")


def _flat_view(dialect: str) -> str:
    lists = {f"{role}_{kind}": _names(link, entity, key, role, dialect)
             for kind, link, entity, key in (("sponsors", "proposal_sponsor", "person", "person_id"),
                                             ("units", "proposal_unit", "organization", "organization_id"))
             for role in ("lead", "co")}
    return (
        "CREATE VIEW proposal_flat AS SELECT p.id AS id, s.slug AS site, s.name AS site_name, p.url AS url, "
        "p.kind AS kind, p.number AS number, p.title AS title, p.raw_title AS raw_title, p.year AS year, "
        "p.published_year AS published_year, p.published_day AS published_day, p.session AS session, "
        "p.category AS category, "
        f"{lists['lead_sponsors']} AS lead_sponsors, {lists['co_sponsors']} AS co_sponsors, "
        f"{lists['lead_units']} AS lead_units, {lists['co_units']} AS co_units, "
        "p.adoption_label AS adoption_label, p.adoption_class AS adoption_class, "
        "p.implementation_status AS implementation_status, p.impact_scope AS impact_scope, "
        "p.approved_by AS approved_by, p.content AS content, r.text AS reply_text, r.title AS reply_title, "
        "r.doc_number AS reply_doc_number, r.addressee AS reply_addressee, r.signer AS reply_signer, "
        "r.date AS reply_date, p.index_no AS index_no, p.disclosure_category AS disclosure_category, "
        "p.publisher AS publisher, p.generated_on AS generated_on, p.disclosure_mode AS disclosure_mode, "
        "p.published_at AS published_at, p.source AS source, p.first_seen AS first_seen, "
        "p.last_seen AS last_seen, p.last_changed AS last_changed "
        "FROM proposal AS p JOIN site AS s ON s.id = p.site_id LEFT JOIN reply AS r ON r.proposal_id = p.id"
    )


def upgrade() -> None:
    bind = op.get_bind()
    dialect = bind.dialect.name
    if dialect == "postgresql":
        for statement in _PG_FUNCTIONS:
            op.execute(statement)
    day = _DAY.get(dialect, _DAY["sqlite"])
    year = _YEAR.get(dialect, _YEAR["sqlite"]).format(day=day)
    # SQLite adds only virtual generated columns; PostgreSQL indexes only stored ones
    persisted = True if dialect == "postgresql" else None
    op.add_column("proposal", sa.Column("published_day", sa.String(length=10), sa.Computed(day, persisted=persisted),
                                        nullable=True))
    op.add_column("proposal", sa.Column("published_year", sa.Integer(), sa.Computed(year, persisted=persisted),
                                        nullable=True))
    op.create_index(op.f("ix_proposal_published_day_id"), "proposal", ["published_day", "id"], unique=False)
    op.create_index(op.f("ix_proposal_published_year"), "proposal", ["published_year"], unique=False)
    if dialect == "sqlite":
        from archive.textindex import register

        register(bind.connection.dbapi_connection)  # the triggers and the back-fill call proposals_grams()
        for statement in _SQLITE_GRAMS:
            op.execute(statement)
    elif dialect == "postgresql":
        for name, table, column in _PG_GRAM_INDEXES:
            op.execute(f"CREATE INDEX {name} ON {table} USING gin (proposals_grams(lower({column})))")
    op.execute(_flat_view(dialect))


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    op.execute("DROP VIEW IF EXISTS proposal_flat")
    if dialect == "sqlite":
        for name in _SQLITE_TRIGGERS:
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
        op.execute("DROP TABLE IF EXISTS proposal_fts_grams")
    elif dialect == "postgresql":
        for name, _table, _column in _PG_GRAM_INDEXES:
            op.execute(f"DROP INDEX IF EXISTS {name}")
    op.drop_index(op.f("ix_proposal_published_year"), table_name="proposal")
    op.drop_index(op.f("ix_proposal_published_day_id"), table_name="proposal")
    for column in ("published_year", "published_day"):  # no table copy: the views on proposal stay valid
        op.execute(f"ALTER TABLE proposal DROP COLUMN {column}")
    if dialect == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS proposals_grams(text)")
        op.execute("DROP FUNCTION IF EXISTS proposals_iso_day(date)")
