"""Datasette's view of an archive: metadata (descriptions, full-text search, canned queries).

`proposals datasette-metadata` prints it; `datasette proposals.db -m metadata.json` serves it. The
plugin that makes `?_search=` answer Chinese terms of any length is archive/datasette_plugin.py.
"""

from __future__ import annotations

from typing import Any

from .export import _TYPES, COLUMNS

_CANNED = {
    "adoption_by_year": ("Adoption class by session year",
                         "SELECT year, coalesce(adoption_class, 'none') AS adoption_class, count(*) AS records "
                         "FROM proposal GROUP BY year, 2 ORDER BY year, 2"),
    "adoption_by_published_year": ("Adoption class by year of publication",
                                   "SELECT published_year, coalesce(adoption_class, 'none') AS adoption_class, "
                                   "count(*) AS records FROM proposal GROUP BY published_year, 2 ORDER BY 1, 2"),
    "lead_units": ("Lead units by site, with their records and A-class share",
                   "SELECT s.slug AS site, o.name AS unit, count(DISTINCT p.id) AS records, "
                   "round(100.0 * sum(p.adoption_class = 'A') / count(*), 1) AS a_percent "
                   "FROM proposal_unit u JOIN organization o ON o.id = u.organization_id "
                   "JOIN proposal p ON p.id = u.proposal_id JOIN site s ON s.id = o.site_id "
                   "WHERE u.role = 'lead' GROUP BY s.slug, o.name ORDER BY records DESC"),
    "search": ("Records holding a term (any length, Chinese too)",
               "SELECT id, site, published_day, title, lead_sponsors, adoption_class FROM proposal_flat "
               "WHERE id IN (SELECT rowid FROM proposal_fts_grams WHERE proposal_fts_grams MATCH "
               "proposals_match(:term)) ORDER BY published_day DESC"),
}

_TABLES = {
    "proposal": "One row per published proposal (政协委员提案) or suggestion (人大代表建议); people, units and the "
                "reply letter are in their own tables, all of them joined in proposal_flat.",
    "proposal_flat": "One row per record with its site, sponsors, units (joined by '; ') and reply letter.",
    "site": "The sites records come from.",
    "person": "Sponsors: one row per normalized name and site.",
    "organization": "Handling units: one row per normalized name and site.",
    "proposal_sponsor": "Who sponsored what: role lead (领衔) or co (附议), in printed order.",
    "proposal_unit": "Who handles what: role lead (主办) or co (会办), in printed order.",
    "reply": "The reply letter (答复函) of a record.",
    "revision": "Each change a later capture brought to a record: field, old and new value (JSON).",
    "capture": "Every page fetched or imported, its bytes compressed.",
}


def metadata(database: str) -> dict[str, Any]:
    columns = {column: description for column, (_kind, description) in _TYPES.items()}
    flat = {column: columns[column] for column in COLUMNS if column in columns}
    tables: dict[str, Any] = {name: {"description": description} for name, description in _TABLES.items()}
    tables["proposal"] |= {"columns": flat, "fts_table": "proposal_fts_grams", "fts_pk": "id",
                           "sort_desc": "published_day"}
    tables["proposal_flat"] |= {"columns": flat, "fts_table": "proposal_fts_grams", "fts_pk": "id",
                                "sort_desc": "published_day"}
    queries = {name: {"title": title, "sql": sql} for name, (title, sql) in _CANNED.items()}
    return {"title": "Proposals and suggestions archive",
            "description": "CPPCC proposals and NPC suggestions published by county governments, with their "
                           "handling units, reply letters and adoption classes. Search finds terms of any "
                           "length in title, content and reply (with proposal-archive installed beside Datasette).",
            "databases": {database: {"tables": tables, "queries": queries}}}
