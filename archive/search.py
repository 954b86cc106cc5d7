"""Full-text search over title, content and reply text, for Chinese.

SQLite: an FTS5 index with the trigram tokenizer answers terms of three characters or more. A
trigram index cannot match one- or two-character terms such as 养老, so those scan the base tables
with LIKE (a LIKE on the FTS table itself silently returns no rows on SQLite 3.40). PostgreSQL:
ILIKE, served by pg_trgm indexes. Every whitespace-separated term must match (AND).
"""

from __future__ import annotations

import unicodedata

from sqlalchemy import ColumnElement, and_, exists, literal_column, or_, select, text
from sqlalchemy.sql import Select

from .models import Proposal, Reply

TRIGRAM = 3


def terms(query: str) -> list[str]:
    """The terms of a query: widths folded, split on whitespace, duplicates dropped."""
    folded = unicodedata.normalize("NFKC", query or "")
    return list(dict.fromkeys(term for term in folded.split() if term))


def _like_pattern(term: str) -> str:
    escaped = term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _scan(term: str, *, ilike: bool) -> ColumnElement[bool]:
    """The term in the title, the content or the reply text, read from the base tables."""
    pattern = _like_pattern(term)

    def match(column):
        return column.ilike(pattern, escape="\\") if ilike else column.like(pattern, escape="\\")

    reply = exists().where(Reply.proposal_id == Proposal.id, match(Reply.text))
    return or_(match(Proposal.title), match(Proposal.content), reply)


def _fts_phrase(term: str) -> str:
    return '"' + term.replace('"', '""') + '"'


def text_filter(query: str, dialect: str) -> ColumnElement[bool] | None:
    """A WHERE clause on `proposal` that keeps the records matching every term of the query."""
    wanted = terms(query)
    if not wanted:
        return None
    if dialect != "sqlite":
        return and_(*(_scan(term, ilike=True) for term in wanted))
    clauses = []
    long_terms = [term for term in wanted if len(term) >= TRIGRAM]
    if long_terms:
        match = " AND ".join(_fts_phrase(term) for term in long_terms)
        fts = select(literal_column("rowid")).select_from(text("proposal_fts")).where(
            text("proposal_fts MATCH :fts_query").bindparams(fts_query=match))
        clauses.append(Proposal.id.in_(fts.scalar_subquery()))
    clauses.extend(_scan(term, ilike=False) for term in wanted if len(term) < TRIGRAM)
    return and_(*clauses)


def search_ids(session, query: str, *, limit: int | None = None) -> list[int]:
    """Ids of the proposals matching a text query, newest first."""
    clause = text_filter(query, session.get_bind().dialect.name)
    statement: Select = select(Proposal.id)
    if clause is not None:
        statement = statement.where(clause)
    statement = statement.order_by(Proposal.published_at.desc(), Proposal.id.desc())
    if limit:
        statement = statement.limit(limit)
    return list(session.scalars(statement))
