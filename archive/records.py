"""Records as the archive stores them: rows out of a record dict, record dicts out of rows.

The record dict is RECORD.md's shape (`ProposalRecord.to_dict()`); `flatten` gives the fields a
revision is written for (reply.* and disclosure.* one by one, lists and extra_fields whole).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from sqlalchemy import String, bindparam, literal, null, select, type_coerce, union_all
from sqlalchemy.engine import Connection

from . import tables as t

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

SCALARS = ("kind", "raw_title", "title", "number", "year", "session", "category", "content", "adoption_label",
           "adoption_class", "implementation_status", "impact_scope", "approved_by")
# disclosure key -> proposal column
DISCLOSURE = {"index_no": "index_no", "category": "disclosure_category", "publisher": "publisher",
              "generated_on": "generated_on", "disclosure_mode": "disclosure_mode", "published_at": "published_at",
              "source": "source"}
# the reply's keys (RECORD.md's reply.*), in order: reply rows, flat columns, exports and views derive theirs
# from this; it is crawler.parsers.records.REPLY_KEYS (a test holds them, the schema and RECORD.md equal),
# written out so that reading the archive imports no parser
REPLY_KEYS = ("text", "title", "doc_number", "addressee", "signer", "date", "source", "attachment_url")
LISTS = ("lead_sponsors", "co_sponsors", "lead_units", "co_units", "attachments")
RECORD_KEYS = ("url", "kind", "raw_title", "title", "number", "year", "session", "category", "lead_sponsors",
               "co_sponsors", "content", "lead_units", "co_units", "reply", "adoption_label", "adoption_class",
               "implementation_status", "impact_scope", "approved_by", "disclosure", "attachments", "extra_fields")


def iso_time(value: dt.datetime | None) -> str | None:
    """A UTC instant as ISO 8601 with a Z: 2026-11-26T22:27:43Z."""
    return value.isoformat(timespec="seconds").replace("+00:00", "Z") if value else None


def _date(value: str | None) -> dt.date | None:
    return dt.date.fromisoformat(value) if value else None


def flatten(record: Mapping[str, Any]) -> dict[str, Any]:
    """The fields of a record dict that revisions track, one key each."""
    flat: dict[str, Any] = {key: record[key] for key in SCALARS}
    for key in DISCLOSURE:
        flat[f"disclosure.{key}"] = record["disclosure"][key]
    reply = record["reply"] or {}
    for key in REPLY_KEYS:
        flat[f"reply.{key}"] = reply.get(key)
    for key in LISTS:
        flat[key] = list(record[key])
    flat["extra_fields"] = dict(record["extra_fields"])
    return flat


def proposal_row(record: Mapping[str, Any]) -> dict[str, Any]:
    """The proposal table's columns of a record (the children go elsewhere)."""
    row = {key: record[key] for key in SCALARS}
    for key, column in DISCLOSURE.items():
        row[column] = record["disclosure"][key]
    row["generated_on"] = _date(row["generated_on"])
    return row


def reply_row(proposal_id: int, reply: Mapping[str, Any] | None) -> dict[str, Any] | None:
    if not reply:
        return None
    return {"proposal_id": proposal_id, **{key: reply[key] for key in REPLY_KEYS}, "date": _date(reply["date"])}


_IDS = bindparam("ids", expanding=True)
# Built once, and few: each statement executed costs more than the rows it brings back. Dates and
# instants are read as the driver gives them (SQLite: the stored text, PostgreSQL: date and
# datetime objects) and turned into the record's ISO text here, without a datetime on SQLite.
_DATES = ("generated_on",)
_INSTANTS = ("first_seen", "last_seen", "last_changed")
_PROPOSAL_COLUMNS = ("id", "url", *SCALARS, *DISCLOSURE.values(), *_INSTANTS)
_AT = {name: i for i, name in enumerate((*_PROPOSAL_COLUMNS, "slug", "reply_of", *(f"reply_{k}" for k in REPLY_KEYS)))}


def _raw(column, label: str):
    return (type_coerce(column, String) if label in (*_DATES, *_INSTANTS, "reply_date") else column).label(label)


_P, _R, _SP, _PU, _A, _E = (t.proposal.c, t.reply.c, t.proposal_sponsor.c, t.proposal_unit.c, t.attachment.c,
                            t.extra_field.c)
_PROPOSALS = (select(*(_raw(_P[name], name) for name in _PROPOSAL_COLUMNS), t.site.c.slug,
                     _R.proposal_id.label("reply_of"), *(_raw(_R[key], f"reply_{key}") for key in REPLY_KEYS))
              .join(t.site, t.site.c.id == _P.site_id).outerjoin(t.reply, _R.proposal_id == _P.id)
              .where(_P.id.in_(_IDS)))
# every child row as (proposal, kind, role, position, first, second), in one statement; unsorted, as
# a sort there costs SQLite temporary B-trees, and the few rows are sorted here
_CHILDREN = union_all(
    select(_SP.proposal_id, literal("sponsors"), _SP.role, _SP.position, t.person.c.name, null())
    .join(t.person, t.person.c.id == _SP.person_id).where(_SP.proposal_id.in_(_IDS)),
    select(_PU.proposal_id, literal("units"), _PU.role, _PU.position, t.organization.c.name, null())
    .join(t.organization, t.organization.c.id == _PU.organization_id).where(_PU.proposal_id.in_(_IDS)),
    select(_A.proposal_id, literal("attachment"), null(), _A.position, _A.url, _A.name)
    .where(_A.proposal_id.in_(_IDS)),
    select(_E.proposal_id, literal("extra"), null(), _E.position, _E.label, _E.value)
    .where(_E.proposal_id.in_(_IDS)),
)


def _day(value: str | dt.date | None) -> str | None:
    """A stored date as ISO text (SQLite stores it so already)."""
    return value if value is None or isinstance(value, str) else value.isoformat()


def _instant(value: str | dt.datetime | None) -> str | None:
    """A stored UTC instant as iso_time writes it. SQLite keeps '2026-11-26 22:27:43.123456' (UTC,
    no zone): sliced, which costs a tenth of parsing it."""
    if value is None:
        return None
    if isinstance(value, str):
        if len(value) >= 19 and value[10] in " T" and (len(value) == 19 or value[19] == "."):
            return f"{value[:10]}T{value[11:19]}Z"
        value = dt.datetime.fromisoformat(value)
    return iso_time(value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC))


def connection_of(session: Session | Connection) -> Connection:
    """The connection of a session, or the connection itself: the read path takes either (the CLI's
    read-only commands pass a Connection, and so never import the ORM)."""
    return session if isinstance(session, Connection) else session.connection()


def load_records(session: Session | Connection, proposal_ids: Iterable[int], *,
                 with_meta: bool = False) -> dict[int, dict[str, Any]]:
    """Record dicts (RECORD.md's shape) of these proposals, read in two set-wise queries.

    `with_meta`: the archive's keys first (id, site, first_seen, last_seen, last_changed)."""
    ids = list(proposal_ids)
    if not ids:
        return {}
    records: dict[int, dict[str, Any]] = {}
    connection = connection_of(session)  # Core statements: no ORM work on the way
    for chunk in chunks(ids, 900):
        params = {"ids": chunk}
        for row in connection.execute(_PROPOSALS, params).all():  # one fetchall, not a fetch a row
            records[row[0]] = _record_from_row(row, with_meta)
        children = connection.execute(_CHILDREN, params).all()
        children.sort(key=_child_order)
        for proposal_id, kind, role, _position, first, second in children:
            record = records[proposal_id]
            if kind == "attachment":
                record["attachments"].append({"url": first, "name": second})
            elif kind == "extra":
                record["extra_fields"][first] = second
            else:
                record[f"{role}_{kind}"].append(first)
    return records


def _child_order(row) -> tuple:
    return row[0], row[1], row[2] or "", row[3]


_SCALAR_AT = tuple((key, _AT[key]) for key in SCALARS)
_DISCLOSURE_AT = tuple((key, _AT[column]) for key, column in DISCLOSURE.items())
_REPLY_AT = tuple((key, _AT[f"reply_{key}"]) for key in REPLY_KEYS)


def _record_from_row(row: Sequence[Any], with_meta: bool) -> dict[str, Any]:
    record: dict[str, Any] = {}
    if with_meta:
        record.update(id=row[0], site=row[_AT["slug"]], first_seen=_instant(row[_AT["first_seen"]]),
                      last_seen=_instant(row[_AT["last_seen"]]), last_changed=_instant(row[_AT["last_changed"]]))
    record.update(dict.fromkeys(RECORD_KEYS))
    record["url"] = row[1]
    for key, at in _SCALAR_AT:
        record[key] = row[at]
    disclosure = {key: row[at] for key, at in _DISCLOSURE_AT}
    disclosure["generated_on"] = _day(disclosure["generated_on"])
    record["disclosure"] = disclosure
    for key in LISTS:
        record[key] = []
    record["extra_fields"] = {}
    if row[_AT["reply_of"]] is not None:
        reply = {key: row[at] for key, at in _REPLY_AT}
        reply["date"] = _day(reply["date"])
        record["reply"] = reply
    return record


def child_rows(proposal_id: int, record: Mapping[str, Any], person_ids: Mapping[str, int],
               organization_ids: Mapping[str, int]) -> dict[str, list[dict[str, Any]]]:
    """Rows of the child tables for one record, given the ids of its people and units."""
    rows: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for role in ("lead", "co"):
        for position, name in enumerate(record[f"{role}_sponsors"]):
            rows["proposal_sponsor"].append({"proposal_id": proposal_id, "role": role, "position": position,
                                             "person_id": person_ids[name]})
        for position, name in enumerate(record[f"{role}_units"]):
            rows["proposal_unit"].append({"proposal_id": proposal_id, "role": role, "position": position,
                                          "organization_id": organization_ids[name]})
    reply = reply_row(proposal_id, record["reply"])
    if reply:
        rows["reply"].append(reply)
    for position, attachment in enumerate(record["attachments"]):
        rows["attachment"].append({"proposal_id": proposal_id, "position": position, "url": attachment["url"],
                                   "name": attachment["name"]})
    for position, (label, value) in enumerate(record["extra_fields"].items()):
        rows["extra_field"].append({"proposal_id": proposal_id, "label": label, "position": position, "value": value})
    return rows


def chunks(items: list, size: int):
    """Slices of at most `size` items (SQL statements take a bounded number of parameters)."""
    for start in range(0, len(items), size):
        yield items[start:start + size]
