"""Full-text search over title, content and reply text, for Chinese, answered by indexes.

A query is words (every one must match: AND), `"quoted phrases"` (matched as written, spaces
included) and `OR` between two of them (`养老 OR 医疗 保障` is (养老 or 医疗) and 保障). A term
matches a record when the title, the content or the reply text holds it, as LIKE '%term%' does
(ASCII letters in either case). Queries are bounded (MAX_TERMS terms, MAX_LENGTH characters) so that
none can run away.

SQLite: terms of three characters or more go to `proposal_fts` (FTS5, trigram tokenizer); one- and
two-character terms, which a trigram index cannot match, go to `proposal_fts_grams` (FTS5 over the
text as character bigrams, see textindex.py). PostgreSQL: each column on its own, so its indexes
apply: pg_trgm for three characters or more (LIKE where the term has no cased letter, ILIKE where it
has), GIN indexes of `proposals_grams()` (the characters and bigrams of the lower-cased text) for one
or two.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from sqlalchemy import ColumnElement, and_, bindparam, func, literal_column, or_, select, text, union
from sqlalchemy.sql import Select
from sqlalchemy.types import Text

from . import tables as t
from .records import connection_of
from .textindex import match_expression

TRIGRAM = 3
MAX_TERMS = 12
MAX_LENGTH = 200


class QueryError(ValueError):
    """A query that cannot be asked (an unknown field, a value out of range, a malformed search)."""


@dataclass(frozen=True)
class Search:
    """A parsed text query: every group must match; a group matches when any of its terms does."""

    groups: tuple[tuple[str, ...], ...]

    @property
    def terms(self) -> list[str]:
        return list(dict.fromkeys(term for group in self.groups for term in group))


_TOKEN = re.compile(r'"([^"]*)"|(\S+)')


def parse(query: str | None) -> Search:
    """Words, quoted phrases and OR, widths folded (NFKC); a one-line QueryError for what is malformed."""
    folded = unicodedata.normalize("NFKC", query or "").strip()
    if len(folded) > MAX_LENGTH:
        raise QueryError(f"a text search takes at most {MAX_LENGTH} characters, not {len(folded)}")
    if folded.count('"') % 2:
        raise QueryError('unbalanced quote in the text search: close the "phrase"')
    groups: list[list[str]] = []
    pending_or = False
    for match in _TOKEN.finditer(folded):
        phrase, word = match.groups()
        if word == "OR":
            if not groups or pending_or:
                raise QueryError('OR stands between two terms: 养老 OR 医疗 (quote it to search for the word: "OR")')
            pending_or = True
            continue
        term = " ".join(phrase.split()) if phrase is not None else word
        if not term:
            continue
        if pending_or:
            groups[-1].append(term)
        else:
            groups.append([term])
        pending_or = False
    if pending_or:
        raise QueryError('OR stands between two terms: 养老 OR 医疗 (quote it to search for the word: "OR")')
    unique = tuple(dict.fromkeys(tuple(dict.fromkeys(group)) for group in groups))
    count = sum(len(group) for group in unique)
    if count > MAX_TERMS:
        raise QueryError(f"a text search takes at most {MAX_TERMS} terms, not {count}")
    return Search(unique)


def terms(query: str) -> list[str]:
    """The distinct terms of a query, widths folded."""
    return parse(query).terms


def _like_pattern(term: str) -> str:
    escaped = term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _fts_phrase(term: str) -> str:
    return '"' + term.replace('"', '""') + '"'


def _fts_ids(table: str, expression: str) -> Select:
    return select(literal_column("rowid")).select_from(text(table)).where(
        text(f"{table} MATCH :fts_query").bindparams(bindparam("fts_query", expression, unique=True)))


def _sqlite_group(group: tuple[str, ...]) -> tuple[list[str], list[str]]:
    long = [_fts_phrase(term) for term in group if len(term) >= TRIGRAM]
    short = [match_expression(term) for term in group if len(term) < TRIGRAM]
    return long, short


def _sqlite_filter(search: Search) -> list[ColumnElement[bool]]:
    """Groups of long terms in one trigram MATCH, groups of short ones in one grams MATCH, and a
    group that mixes both as the union of the two."""
    long_groups, short_groups, clauses = [], [], []
    for group in search.groups:
        long, short = _sqlite_group(group)
        if long and short:
            ids = union(_fts_ids("proposal_fts", " OR ".join(long)),
                        _fts_ids("proposal_fts_grams", " OR ".join(short)))
            clauses.append(t.proposal.c.id.in_(ids))
        elif long:
            long_groups.append(long[0] if len(long) == 1 else "(" + " OR ".join(long) + ")")
        else:
            short_groups.append(short[0] if len(short) == 1 else "(" + " OR ".join(short) + ")")
    if long_groups:
        clauses.insert(0, t.proposal.c.id.in_(_fts_ids("proposal_fts", " AND ".join(long_groups))))
    if short_groups:
        clauses.insert(0, t.proposal.c.id.in_(_fts_ids("proposal_fts_grams", " AND ".join(short_groups))))
    return clauses


# the PostgreSQL dialect is imported where it is used: loading it (and its asyncpg module) costs a
# SQLite query tens of milliseconds
def _grams(column) -> ColumnElement:
    from sqlalchemy.dialects.postgresql import ARRAY

    return func.proposals_grams(func.lower(column), type_=ARRAY(Text))


def _postgres_term(term: str) -> list[Select]:
    """The ids holding a term, one select per table, with conditions the column's index serves."""
    if len(term) >= TRIGRAM:
        pattern = _like_pattern(term)
        # a term without a letter that has case (Chinese, digits) matches the same text under LIKE as
        # under ILIKE, and LIKE rechecks the trigram index's candidates several times faster: ILIKE
        # lower-cases the whole text of every candidate first
        uncased = all(char.lower() == char.upper() for char in term)
        method = "like" if uncased else "ilike"
        return [select(t.proposal.c.id).where(or_(getattr(t.proposal.c.title, method)(pattern, escape="\\"),
                                                  getattr(t.proposal.c.content, method)(pattern, escape="\\"))),
                select(t.reply.c.proposal_id).where(getattr(t.reply.c.text, method)(pattern, escape="\\"))]
    from sqlalchemy.dialects.postgresql import array as pg_array

    # every one- or two-character substring of the lower-cased text is one of its grams: exact
    wanted = pg_array([func.lower(term, type_=Text)])
    return [select(t.proposal.c.id).where(or_(_grams(t.proposal.c.title).contains(wanted),
                                          _grams(t.proposal.c.content).contains(wanted))),
            select(t.reply.c.proposal_id).where(_grams(t.reply.c.text).contains(wanted))]


def _postgres_filter(search: Search) -> list[ColumnElement[bool]]:
    return [t.proposal.c.id.in_(union(*(part for term in group for part in _postgres_term(term))))
            for group in search.groups]


def text_filter(query: str | Search | None, dialect: str) -> ColumnElement[bool] | None:
    """A WHERE clause on `proposal` that keeps the records matching the query (None: no text asked)."""
    search = query if isinstance(query, Search) else parse(query)
    if not search.groups:
        return None
    clauses = _sqlite_filter(search) if dialect == "sqlite" else _postgres_filter(search)
    return and_(*clauses) if len(clauses) > 1 else clauses[0]


def search_ids(session, query: str, *, limit: int | None = None) -> list[int]:
    """Ids of the proposals matching a text query, newest first."""
    clause = text_filter(query, connection_of(session).dialect.name)
    statement: Select = select(t.proposal.c.id)
    if clause is not None:
        statement = statement.where(clause)
    statement = statement.order_by(t.proposal.c.published_day.desc(), t.proposal.c.id.desc())
    if limit:
        statement = statement.limit(limit)
    return list(session.scalars(statement))
