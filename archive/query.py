"""Queries over the archive: filters, records, history, statistics, people and units, streaming.

Every function takes the caller's session (or a Connection: Core statements only, no ORM) and a
`Filters`; names are compared after the normalisation the parser applies (NFKC, whitespace
removed), so 魏巍 finds `魏　巍`.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import String, and_, func, literal, select
from sqlalchemy.sql import ColumnElement, Select

from . import tables as t
from .records import connection_of, iso_time, load_records
from .search import QueryError, Search, parse, text_filter

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

KINDS = {"cppcc": "cppcc_proposal", "npc": "npc_suggestion"}
CLASSES = ("A", "B", "C", "D")
NO_CLASS = "none"
YEARS = (1000, 9999)
MAX_ID = 2**31 - 1  # PostgreSQL's integer; SQLite's rowid goes further, but no archive gets there


@dataclass(frozen=True)
class Filters:
    """Joined by AND; an empty filter keeps everything."""

    text: str | None = None
    sponsor: str | None = None
    lead_only: bool = False
    adoption: tuple[str, ...] = ()
    year: tuple[int, ...] = ()        # the session year (from the number or the title)
    kind: str | None = None           # cppcc | npc (or the record's own value)
    unit: str | None = None
    category: str | None = None
    status: str | None = None
    site: str | None = None
    since: dt.date | None = None      # published on or after
    changed_since: dt.date | None = None
    published_year: tuple[int, ...] = ()  # the year of publication (发布时间, else 生成日期)
    like: bool = False                # unit, category and status match a substring

    def __post_init__(self) -> None:
        for year in (*self.year, *self.published_year):
            if not YEARS[0] <= year <= YEARS[1]:
                raise QueryError(f"a year is a number from {YEARS[0]} to {YEARS[1]}, not {year}")
        if isinstance(self.text, str):  # parsed (and bounded) once, here
            object.__setattr__(self, "text", parse(self.text) if self.text.strip() else None)


def published_day() -> ColumnElement:
    """The day a record was published: 发布时间, else 生成日期 (ISO text; a stored, indexed column)."""
    return t.proposal.c.published_day


def check_id(record_id: int) -> int:
    if not 1 <= record_id <= MAX_ID:
        raise QueryError(f"a record id is a number from 1 to {MAX_ID}, not {record_id}")
    return record_id


def _like(value: str) -> str:
    escaped = value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _text_match(column, value: str, like: bool, normalize: Callable[[str], str]) -> ColumnElement[bool]:
    wanted = normalize(value)
    return column.like(_like(wanted), escape="\\") if like else column == wanted


def _normalize_name(value: str) -> str:
    # imported here: importing crawler.parsers loads the whole parser (selectolax and all), which a
    # query without --sponsor or --unit does not need
    from crawler.parsers.text import normalize_name

    return normalize_name(value)


def _sponsor_clause(name: str, lead_only: bool) -> ColumnElement[bool]:
    link = t.proposal_sponsor.c
    people = select(link.proposal_id).join(t.person, t.person.c.id == link.person_id).where(
        t.person.c.name == _normalize_name(name))
    if lead_only:
        people = people.where(link.role == "lead")
    return t.proposal.c.id.in_(people)


def _unit_clause(name: str, like: bool) -> ColumnElement[bool]:
    link = t.proposal_unit.c
    units = select(link.proposal_id).join(t.organization, t.organization.c.id == link.organization_id)
    return t.proposal.c.id.in_(units.where(_text_match(t.organization.c.name, name, like, _normalize_name)))


def _spaces(value: str) -> str:
    return " ".join(value.split())


def clauses(filters: Filters, dialect: str) -> list[ColumnElement[bool]]:
    where: list[ColumnElement[bool]] = []
    if filters.text:
        clause = text_filter(filters.text if isinstance(filters.text, Search) else parse(filters.text), dialect)
        if clause is not None:
            where.append(clause)
    if filters.sponsor:
        where.append(_sponsor_clause(filters.sponsor, filters.lead_only))
    if filters.unit:
        where.append(_unit_clause(filters.unit, filters.like))
    if filters.adoption:
        where.append(t.proposal.c.adoption_class.in_([c.upper() for c in filters.adoption]))
    if filters.year:
        where.append(t.proposal.c.year.in_(filters.year))
    if filters.published_year:
        where.append(t.proposal.c.published_year.in_(filters.published_year))
    if filters.kind:
        where.append(t.proposal.c.kind == KINDS.get(filters.kind, filters.kind))
    if filters.category:
        where.append(_text_match(t.proposal.c.category, filters.category, filters.like, _spaces))
    if filters.status:
        where.append(_text_match(t.proposal.c.implementation_status, filters.status, filters.like, _spaces))
    if filters.site:
        where.append(t.proposal.c.site_id.in_(select(t.site.c.id).where(t.site.c.slug == filters.site)))
    if filters.since:
        where.append(published_day() >= filters.since.isoformat())
    if filters.changed_since:
        start = dt.datetime.combine(filters.changed_since, dt.time(), tzinfo=dt.UTC)
        where.append(t.proposal.c.last_changed >= start)
    return where


# each served by an index that ends in the id, so a listing reads only the rows it shows
SORTS = {
    "published": (published_day().asc(), t.proposal.c.id.asc()),
    "-published": (published_day().desc(), t.proposal.c.id.desc()),
    "year": (t.proposal.c.year.asc(), t.proposal.c.id.asc()),
    "-year": (t.proposal.c.year.desc(), t.proposal.c.id.desc()),
    "changed": (t.proposal.c.last_changed.asc(), t.proposal.c.id.asc()),
    "-changed": (t.proposal.c.last_changed.desc(), t.proposal.c.id.desc()),
    "title": (t.proposal.c.title.asc(), t.proposal.c.id.asc()),
    "id": (t.proposal.c.id.asc(),),
    "-id": (t.proposal.c.id.desc(),),
}


def select_ids(session: Session, filters: Filters, *, sort: str = "-published", limit: int | None = None,
               offset: int = 0) -> list[int]:
    """Ids of the matching records, in the order asked."""
    statement: Select = select(t.proposal.c.id).where(*clauses(filters, _dialect(session)))
    statement = statement.order_by(*SORTS[sort]).offset(offset or None)
    if limit:
        statement = statement.limit(limit)
    return list(connection_of(session).execute(statement).scalars())


def count(session: Session, filters: Filters) -> int:
    return session.scalar(select(func.count(t.proposal.c.id)).where(*clauses(filters, _dialect(session)))) or 0


def records(session: Session, ids: Sequence[int]) -> list[dict[str, Any]]:
    """The records of these ids, in that order: RECORD.md's keys plus id, site, first_seen, last_seen,
    last_changed (ISO timestamps, UTC)."""
    found = load_records(session, ids, with_meta=True)
    return [found[i] for i in ids if i in found]


def iter_ids(session: Session, filters: Filters, *, batch: int = 500) -> Iterator[list[int]]:
    """The ids of every matching record, oldest first, `batch` at a time (keyset paging)."""
    where = clauses(filters, _dialect(session))
    last = 0
    while True:
        ids = list(session.scalars(select(t.proposal.c.id).where(t.proposal.c.id > last, *where)
                                   .order_by(t.proposal.c.id).limit(batch)))
        if not ids:
            return
        yield ids
        last = ids[-1]


def iter_records(session: Session, filters: Filters, *, batch: int = 500) -> Iterator[dict[str, Any]]:
    """Every matching record, oldest id first, `batch` at a time: constant memory for any archive."""
    for ids in iter_ids(session, filters, batch=batch):
        yield from records(session, ids)


def history(session: Session, proposal_id: int) -> list[dict[str, Any]]:
    """The revisions of a record, oldest first: when, which capture, field, old and new values."""
    check_id(proposal_id)
    if session.scalar(select(t.proposal.c.id).where(t.proposal.c.id == proposal_id)) is None:
        raise QueryError(f"no record with id {proposal_id}")
    rows = session.execute(select(t.revision).where(t.revision.c.proposal_id == proposal_id)
                           .order_by(t.revision.c.changed_at, t.revision.c.id))
    return [{"changed_at": iso_time(r.changed_at), "capture_id": r.capture_id, "field": r.field,
             "old": json.loads(r.old_value) if r.old_value is not None else None,
             "new": json.loads(r.new_value) if r.new_value is not None else None} for r in rows]


# --- statistics ----------------------------------------------------------------------------------------

# field -> (column, the join it needs); people and units count once per record they are on. The
# columns are grouped as stored, so that an index in their order serves the grouping (a NULL
# adoption class becomes NO_CLASS afterwards: grouping by coalesce() sorts every row in a temporary
# B-tree, five times slower at 300,000 records)
_GROUP_COLUMNS: dict[str, tuple[ColumnElement, str | None]] = {
    "adoption_class": (t.proposal.c.adoption_class, None),
    "year": (t.proposal.c.year, None),
    "published_year": (t.proposal.c.published_year, None),
    "kind": (t.proposal.c.kind, None),
    "site": (t.site.c.slug, "site"),
    "category": (t.proposal.c.category, None),
    "lead_unit": (t.organization.c.name, "lead_unit"),
    "sponsor": (t.person.c.name, "sponsor"),
    "status": (t.proposal.c.implementation_status, None),
}
GROUPS = tuple(_GROUP_COLUMNS)
# joins that can put a record in a group more than once (a record has several sponsors)
_MULTIPLYING = ("lead_unit", "sponsor")
# people and units are a site's own: the 王伟 of two counties are two people
PER_SITE = ("lead_unit", "sponsor")
_GROUP_JOINS: dict[str, Callable[[Select], Select]] = {
    "site": lambda statement: statement.join(t.site, t.site.c.id == t.proposal.c.site_id),
    "lead_unit": lambda statement: statement.join(
        t.proposal_unit, and_(t.proposal_unit.c.proposal_id == t.proposal.c.id, t.proposal_unit.c.role == "lead")).join(
        t.organization, t.organization.c.id == t.proposal_unit.c.organization_id),
    "sponsor": lambda statement: statement.join(
        t.proposal_sponsor, t.proposal_sponsor.c.proposal_id == t.proposal.c.id).join(
        t.person, t.person.c.id == t.proposal_sponsor.c.person_id),
}


def _group_column(field: str) -> tuple[ColumnElement, str | None]:
    try:
        return _GROUP_COLUMNS[field]
    except KeyError:
        raise QueryError(f"cannot group by {field}: choose from {', '.join(GROUPS)}") from None


def stats(session: Session, filters: Filters, by: Sequence[str], *, merge_sites: bool = False) -> dict[str, Any]:
    """Counts (and shares of the matching records) grouped by one or two fields. Sponsors and lead
    units are grouped by (site, name), with a "site" key, unless `merge_sites`."""
    if not 1 <= len(by) <= 2:
        raise QueryError("group by one or two fields")
    fields = list(by)
    if not merge_sites and "site" not in fields and any(field in PER_SITE for field in fields):
        fields.append("site")
    columns, joins = [], []
    for field in fields:
        column, join = _group_column(field)
        columns.append(column.label(field))
        if join and join not in joins:
            joins.append(join)
    once = not any(join in _MULTIPLYING for join in joins)  # each record in exactly one group
    # count(*), not count(id): PostgreSQL answers it from the (adoption_class, year) index alone
    counted = func.count() if once else func.count(func.distinct(t.proposal.c.id))
    statement = select(*columns, counted.label("count")).select_from(t.proposal)
    for join in joins:
        statement = _GROUP_JOINS[join](statement)
    statement = statement.where(*clauses(filters, _dialect(session))).group_by(*columns)
    found = session.execute(statement).all()
    total = sum(row.count for row in found) if once else count(session, filters)
    rows = []
    for row in found:
        values = {field: row[i] for i, field in enumerate(fields)}
        if "adoption_class" in values and values["adoption_class"] is None:
            values["adoption_class"] = NO_CLASS
        rows.append(values | {"count": row.count, "share": row.count / total if total else 0.0})
    rows.sort(key=lambda r: (-r["count"], *(_sort_key(r[f]) for f in fields)))
    return {"by": list(by), "total": total, "rows": rows}


def _sort_key(value: Any) -> tuple:
    return (value is None, str(value) if value is not None else "")


def names(session: Session, filters: Filters, *, of: str, lead_only: bool = False,
          merge_sites: bool = False) -> list[dict[str, Any]]:
    """Each sponsor (of="sponsor") or unit (of="unit") of the matching records, by site and name
    (by name alone with `merge_sites`, site None): its record count and the records' adoption
    classes (A, B, C, D, none)."""
    if of == "sponsor":
        link, entity, key = t.proposal_sponsor, t.person, t.proposal_sponsor.c.person_id
    elif of == "unit":
        link, entity, key = t.proposal_unit, t.organization, t.proposal_unit.c.organization_id
    else:
        raise QueryError(f"names of sponsors or units, not {of}")
    site = literal(None, String).label("site") if merge_sites else t.site.c.slug.label("site")
    statement = (select(site, entity.c.name, t.proposal.c.adoption_class, func.count(func.distinct(t.proposal.c.id)))
                 .select_from(link).join(entity, entity.c.id == key)
                 .join(t.proposal, t.proposal.c.id == link.c.proposal_id))
    if not merge_sites:
        statement = statement.join(t.site, t.site.c.id == entity.c.site_id)
    statement = statement.where(*clauses(filters, _dialect(session)))
    if lead_only:
        statement = statement.where(link.c.role == "lead")
    statement = statement.group_by(*([] if merge_sites else [t.site.c.slug]), entity.c.name,
                                   t.proposal.c.adoption_class)
    totals: dict[tuple[str | None, str], Counter] = defaultdict(Counter)
    for slug, name, klass, number in session.execute(statement):
        totals[(slug, name)][klass or NO_CLASS] += number
    # each record has one adoption class, so the classes add up to the records of a name
    rows = [{"site": slug, "name": name, "records": sum(classes.values()),
             **{klass: classes.get(klass, 0) for klass in (*CLASSES, NO_CLASS)}}
            for (slug, name), classes in totals.items()]
    rows.sort(key=lambda r: (-r["records"], r["name"], r["site"] or ""))
    return rows


def site_slugs(session: Session) -> list[str]:
    return list(session.scalars(select(t.site.c.slug).order_by(t.site.c.slug)))


def _dialect(session: Session) -> str:
    return connection_of(session).dialect.name


__all__ = ["CLASSES", "GROUPS", "KINDS", "PER_SITE", "SORTS", "Filters", "QueryError", "check_id", "clauses",
           "count", "history", "iter_records", "names", "records", "select_ids", "site_slugs", "stats"]
