"""Records as the archive stores them: rows out of a record dict, record dicts out of rows.

The record dict is RECORD.md's shape (`ProposalRecord.to_dict()`); `flatten` gives the fields a
revision is written for (reply.* and disclosure.* one by one, lists and extra_fields whole).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import bindparam, literal, null, select, text, union_all
from sqlalchemy.orm import Session

from .models import (
    Attachment,
    ExtraField,
    Organization,
    Person,
    Proposal,
    ProposalSponsor,
    ProposalUnit,
    Reply,
    Site,
)

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


def _iso(value: dt.date | None) -> str | None:
    return value.isoformat() if value else None


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
# Built once, and few: each statement executed costs more than the rows it brings back.
_REPLY_COLUMNS = [getattr(Reply, key).label(f"reply_{key}") for key in REPLY_KEYS]
_PROPOSALS = (select(Proposal.__table__, Site.slug, Reply.proposal_id.label("reply_of"), *_REPLY_COLUMNS)
              .join(Site, Site.id == Proposal.site_id).outerjoin(Reply, Reply.proposal_id == Proposal.id)
              .where(Proposal.id.in_(_IDS)))
# every child row as (proposal, kind, role, position, first, second), in one statement
_CHILDREN = union_all(
    select(ProposalSponsor.proposal_id, literal("sponsors"), ProposalSponsor.role, ProposalSponsor.position,
           Person.name, null()).join(Person, Person.id == ProposalSponsor.person_id)
    .where(ProposalSponsor.proposal_id.in_(_IDS)),
    select(ProposalUnit.proposal_id, literal("units"), ProposalUnit.role, ProposalUnit.position,
           Organization.name, null()).join(Organization, Organization.id == ProposalUnit.organization_id)
    .where(ProposalUnit.proposal_id.in_(_IDS)),
    select(Attachment.proposal_id, literal("attachment"), null(), Attachment.position, Attachment.url,
           Attachment.name).where(Attachment.proposal_id.in_(_IDS)),
    select(ExtraField.proposal_id, literal("extra"), null(), ExtraField.position, ExtraField.label,
           ExtraField.value).where(ExtraField.proposal_id.in_(_IDS)),
).order_by(text("1, 2, 3, 4"))


def load_records(session: Session, proposal_ids: Iterable[int], *,
                 with_meta: bool = False) -> dict[int, dict[str, Any]]:
    """Record dicts (RECORD.md's shape) of these proposals, read in two set-wise queries.

    `with_meta`: the archive's keys first (id, site, first_seen, last_seen, last_changed)."""
    ids = list(proposal_ids)
    if not ids:
        return {}
    records: dict[int, dict[str, Any]] = {}
    connection = session.connection()  # Core statements: no ORM work on the way
    for chunk in chunks(ids, 900):
        params = {"ids": chunk}
        for row in connection.execute(_PROPOSALS, params).mappings().all():  # one fetchall, not a fetch a row
            record = _record_from_row(row)
            if row["reply_of"] is not None:
                record["reply"] = {key: row[f"reply_{key}"] for key in REPLY_KEYS} | {
                    "date": _iso(row["reply_date"])}
            if with_meta:
                record = {"id": row["id"], "site": row["slug"], "first_seen": iso_time(row["first_seen"]),
                          "last_seen": iso_time(row["last_seen"]),
                          "last_changed": iso_time(row["last_changed"])} | record
            records[row["id"]] = record
        for proposal_id, kind, role, _position, first, second in connection.execute(_CHILDREN, params).all():
            record = records[proposal_id]
            if kind == "attachment":
                record["attachments"].append({"url": first, "name": second})
            elif kind == "extra":
                record["extra_fields"][first] = second
            else:
                record[f"{role}_{kind}"].append(first)
    return records


def _record_from_row(row: Mapping[str, Any]) -> dict[str, Any]:
    record: dict[str, Any] = dict.fromkeys(RECORD_KEYS)
    record["url"] = row["url"]
    for key in SCALARS:
        record[key] = row[key]
    record["disclosure"] = {key: row[column] for key, column in DISCLOSURE.items()}
    record["disclosure"]["generated_on"] = _iso(row["generated_on"])
    for key in LISTS:
        record[key] = []
    record["extra_fields"] = {}
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
