"""A Datasette plugin (registered by the package's `datasette` entry point): on a proposals
archive, `?_search=` answers terms of any length, as `proposals query` does.

Datasette finds `proposal_fts_grams` for the `proposal` table (it is declared content="proposal")
and asks it `MATCH escape_fts(:search)`; the index holds character bigrams (archive/textindex.py),
so the search is rewritten here the way archive.search writes it. Other databases keep Datasette's
own escape_fts.
"""

from __future__ import annotations

from datasette import hookimpl
from datasette.utils import escape_fts

from .textindex import match_expression, register


def match(query: str) -> str:
    """The `proposal_fts_grams` MATCH expression of a search: every group, each any of its terms."""
    from .search import parse

    groups = parse(query).groups
    if not groups:
        return '""'
    return " AND ".join("(" + " OR ".join(match_expression(term) for term in group) + ")" for group in groups)


def _is_archive(conn) -> bool:
    return conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'proposal_fts_grams'").fetchone() is not None


@hookimpl(trylast=True)  # after Datasette's own escape_fts, which it replaces on an archive
def prepare_connection(conn):
    register(conn)
    conn.create_function("proposals_match", 1, match, deterministic=True)
    conn.create_function("escape_fts", 1, match if _is_archive(conn) else escape_fts)
