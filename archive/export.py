"""Records out of the archive in the forms other tools read: CSV, JSON lines, Parquet (streamed).

A flat row has one column per field of the record (reply.* and disclosure.* spread out) plus
published_day and published_year; in CSV the name lists are joined with "; " (a name never holds
one) and attachments and extra_fields are JSON; in Parquet they keep their types (lists of strings,
a list of {url, name}), dates are dates and instants timestamps. The related tables (sponsorships,
units, revisions) come out one row per link, each keyed by the record's URL (stable across
archives, unlike the local id), Open States bulk-style.

`table_schema` is each export's data dictionary as a Frictionless Table Schema; a CSV export gets
it in a datapackage.json beside the file, so that tools read `number` as text (0015 stays 0015).
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import sys
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from .query import Filters, iter_ids, iter_records
from .records import DISCLOSURE, REPLY_KEYS, chunks, iso_time

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

NAME_LISTS = ("lead_sponsors", "co_sponsors", "lead_units", "co_units")
COLUMNS = ("id", "site", "url", "kind", "raw_title", "title", "number", "year", "published_year", "published_day",
           "session", "category", "lead_sponsors", "co_sponsors", "content", "lead_units", "co_units",
           *(f"reply_{key}" for key in REPLY_KEYS), "adoption_label", "adoption_class", "implementation_status",
           "impact_scope", "approved_by", "index_no",
           "disclosure_category", "publisher", "generated_on", "disclosure_mode", "published_at", "source",
           "attachments", "extra_fields", "first_seen", "last_seen", "last_changed")
FORMATS = ("csv", "jsonl", "parquet")
EXTENSIONS = {".csv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl", ".parquet": "parquet", ".pq": "parquet"}

# column -> (Table Schema type, description); what is not listed is a string
_TYPES = {
    "id": ("integer", "The archive's own id of the record (local to this archive)."),
    "site": ("string", "The slug of the site the record was published on."),
    "url": ("string", "The page's URL: the record's stable key."),
    "number": ("string", "The record's number as printed, digits only: text (leading zeros matter)."),
    "year": ("integer", "The session year, from the number (202116 gives 2021) or the title."),
    "published_year": ("integer", "The year of publication: of 发布时间, else 生成日期."),
    "published_day": ("date", "The day of publication: 发布时间's date, else 生成日期."),
    "lead_sponsors": ("string", "Lead sponsors (领衔人), joined by '; ' (in Parquet and JSON: a list)."),
    "co_sponsors": ("string", "Co-sponsors (附议人), joined by '; '."),
    "lead_units": ("string", "Lead handling units (主办单位), joined by '; '."),
    "co_units": ("string", "Co-handling units (会办单位), joined by '; '."),
    "reply_date": ("date", "The reply letter's date."),
    "reply_source": ("string", "Where the reply letter was read: page, or attachment (an attached file)."),
    "reply_attachment_url": ("string", "The attachment the reply letter was read from (source attachment)."),
    "adoption_class": ("string", "The adoption class letter A-D (its meaning differs between provinces)."),
    "generated_on": ("date", "生成日期."),
    "published_at": ("datetime", "发布时间, local time as printed (no zone)."),
    "attachments": ("string", "JSON: a list of {url, name} (in Parquet: a list of structs)."),
    "extra_fields": ("string", "JSON: the page's other label/value rows."),
    "first_seen": ("datetime", "When the archive first saw the record (UTC)."),
    "last_seen": ("datetime", "When the archive last saw the record (UTC)."),
    "last_changed": ("datetime", "When the record last changed in the archive (UTC)."),
}

# the related tables: name -> columns, with their types
RELATED = {
    "sponsorships": (("proposal_url", "string"), ("proposal_id", "integer"), ("site", "string"),
                     ("role", "string"), ("position", "integer"), ("name", "string"), ("person_key", "string")),
    "units": (("proposal_url", "string"), ("proposal_id", "integer"), ("site", "string"), ("role", "string"),
              ("position", "integer"), ("name", "string"), ("unit_key", "string")),
    "revisions": (("proposal_url", "string"), ("proposal_id", "integer"), ("site", "string"),
                  ("changed_at", "datetime"), ("field", "string"), ("old_value", "string"), ("new_value", "string"),
                  ("revision_id", "integer")),
}


def columns_of(table: str) -> tuple[str, ...]:
    return COLUMNS if table == "proposals" else tuple(name for name, _ in RELATED[table])


def table_schema(table: str = "proposals") -> dict[str, Any]:
    """The Frictionless Table Schema of an export (CSV's column types; Parquet's are its own)."""
    if table == "proposals":
        fields = [{"name": column, "type": _TYPES.get(column, ("string", ""))[0]} |
                  ({"description": _TYPES[column][1]} if column in _TYPES else {}) for column in COLUMNS]
        for field in fields:
            if field["name"] == "published_at":  # minutes, as printed
                field["format"] = "%Y-%m-%dT%H:%M"
        return {"fields": fields, "primaryKey": ["url"]}
    fields = [{"name": name, "type": kind} for name, kind in RELATED[table]]
    return {"fields": fields, "foreignKeys": [{"fields": ["proposal_url"],
                                               "reference": {"resource": "proposals", "fields": ["url"]}}]}


def pandas_dtypes(table: str = "proposals") -> dict[str, str]:
    """What `pandas.read_csv(..., dtype=...)` needs to keep every text column text."""
    return {f["name"]: ("Int64" if f["type"] == "integer" else "string") for f in table_schema(table)["fields"]
            if f["type"] in ("string", "integer")}


def update_datapackage(path: Path, table: str = "proposals") -> Path:
    """Write (or update) the datapackage.json beside a CSV export, describing that file."""
    package_path = path.parent / "datapackage.json"
    try:
        package = json.loads(package_path.read_text(encoding="utf-8"))
        resources = [r for r in package.get("resources", []) if r.get("path") != path.name]
    except (OSError, ValueError):
        package, resources = {"profile": "tabular-data-package"}, []
    name = path.stem.lower().replace(" ", "-") or table
    resources.append({"name": name, "path": path.name, "profile": "tabular-data-resource", "format": "csv",
                      "encoding": "utf-8", "schema": table_schema(table)})
    package["resources"] = resources
    package_path.write_text(json.dumps(package, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return package_path


def format_for(out: str, fmt: str | None) -> str:
    """The format of an export to `out` ('-': standard output): as asked, else by the extension."""
    suffix = "" if out == "-" else Path(out).suffix.lower()
    implied = EXTENSIONS.get(suffix)
    if fmt is None:
        if implied is None:
            raise ValueError(f"cannot tell the format of {out}: give --format {'|'.join(FORMATS)}")
        return implied
    if fmt not in FORMATS:
        raise ValueError(f"export formats: {', '.join(FORMATS)}")
    if implied is not None and implied != fmt:
        raise ValueError(f"--format {fmt} contradicts the extension of {out} ({suffix} is {implied})")
    return fmt


def _published_day(record: dict[str, Any]) -> str | None:
    disclosure = record["disclosure"]
    return (disclosure["published_at"] or disclosure["generated_on"] or "")[:10] or None


def flat_row(record: dict[str, Any]) -> dict[str, Any]:
    """One record as one flat row (lists and objects kept as Python values)."""
    reply = record.get("reply") or {}
    row = {key: record.get(key) for key in COLUMNS if key in record}
    row.update({f"reply_{key}": reply.get(key) for key in REPLY_KEYS})
    row.update({column: record["disclosure"][key] for key, column in DISCLOSURE.items()})
    day = _published_day(record)
    row["published_day"] = day
    row["published_year"] = int(day[:4]) if day and day[:4].isdigit() else None
    return {column: row.get(column) for column in COLUMNS}


def csv_row(record: dict[str, Any]) -> dict[str, Any]:
    row = flat_row(record)
    for key in NAME_LISTS:
        row[key] = "; ".join(row[key] or [])
    row["attachments"] = json.dumps(row["attachments"] or [], ensure_ascii=False)
    row["extra_fields"] = json.dumps(row["extra_fields"] or {}, ensure_ascii=False)
    return row


def write_csv(records: Iterable[dict[str, Any]], handle, *, table: str = "proposals") -> int:
    writer = csv.DictWriter(handle, fieldnames=columns_of(table))
    writer.writeheader()
    written = 0
    for record in records:
        writer.writerow(csv_row(record) if table == "proposals" else record)
        written += 1
    return written


def write_jsonl(records: Iterable[dict[str, Any]], handle) -> int:
    written = 0
    for record in records:
        handle.write(json.dumps(record, ensure_ascii=False) + "\n")
        written += 1
    return written


def parquet_schema(table: str = "proposals"):
    import pyarrow as pa

    text, names = pa.string(), pa.list_(pa.string())
    arrow = {"string": text, "integer": pa.int64(), "date": pa.date32(), "datetime": pa.timestamp("ms", tz="UTC")}
    if table != "proposals":
        return pa.schema([(name, arrow[kind]) for name, kind in RELATED[table]])
    types = {column: arrow[_TYPES.get(column, ("string", ""))[0]] for column in COLUMNS}
    types.update({**dict.fromkeys(NAME_LISTS, names), "published_at": pa.timestamp("ms"),
                  "attachments": pa.list_(pa.struct([("url", text), ("name", text)]))})
    return pa.schema([(column, types[column]) for column in COLUMNS])


def _date(value: str | None) -> dt.date | None:
    return dt.date.fromisoformat(value) if value else None


def _instant(value: str | None) -> dt.datetime | None:
    return dt.datetime.fromisoformat(value.replace("Z", "+00:00")) if value else None


def _parquet_row(record: dict[str, Any]) -> dict[str, Any]:
    row = flat_row(record)
    row["extra_fields"] = json.dumps(row["extra_fields"] or {}, ensure_ascii=False)
    for column in ("generated_on", "reply_date", "published_day"):
        row[column] = _date(row[column])
    row["published_at"] = dt.datetime.fromisoformat(row["published_at"]) if row["published_at"] else None
    for column in ("first_seen", "last_seen", "last_changed"):
        row[column] = _instant(row[column])
    return row


def write_parquet(rows: Iterable[dict[str, Any]], where, *, table: str = "proposals", batch: int = 1000) -> int:
    """Row groups of `batch` rows: the file grows while memory stays flat."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    schema = parquet_schema(table)
    convert = _parquet_row if table == "proposals" else _related_parquet_row
    written = 0
    pending: list[dict[str, Any]] = []
    with pq.ParquetWriter(where, schema, compression="zstd") as writer:
        def flush() -> None:
            writer.write_table(pa.Table.from_pylist(pending, schema=schema))
            pending.clear()

        for row in rows:
            pending.append(convert(row))
            written += 1
            if len(pending) >= batch:
                flush()
        if pending or not written:
            flush()
    return written


def _related_parquet_row(row: dict[str, Any]) -> dict[str, Any]:
    return row | ({"changed_at": _instant(row["changed_at"])} if "changed_at" in row else {})


# --- the related tables -----------------------------------------------------------------------------------


def iter_related(session: Session, filters: Filters, table: str, *, batch: int = 500) -> Iterator[dict[str, Any]]:
    """The rows of a related table for the matching records, by record id, then role and position."""
    from . import tables as t

    for ids in iter_ids(session, filters, batch=batch):
        for chunk in chunks(ids, 900):
            base = (t.proposal.c.url, t.proposal.c.id, t.site.c.slug)
            if table == "revisions":
                statement = (select(*base, t.revision.c.changed_at, t.revision.c.field, t.revision.c.old_value,
                                    t.revision.c.new_value, t.revision.c.id)
                             .join(t.proposal, t.proposal.c.id == t.revision.c.proposal_id)
                             .join(t.site, t.site.c.id == t.proposal.c.site_id)
                             .where(t.revision.c.proposal_id.in_(chunk))
                             .order_by(t.proposal.c.id, t.revision.c.changed_at, t.revision.c.id))
                for url, pid, slug, changed_at, field, old, new, rid in session.execute(statement):
                    yield {"proposal_url": url, "proposal_id": pid, "site": slug, "changed_at": iso_time(changed_at),
                           "field": field, "old_value": old, "new_value": new, "revision_id": rid}
                continue
            link, entity, key, label = ((t.proposal_sponsor, t.person, t.proposal_sponsor.c.person_id, "person_key")
                                        if table == "sponsorships" else
                                        (t.proposal_unit, t.organization, t.proposal_unit.c.organization_id,
                                         "unit_key"))
            statement = (select(*base, link.c.role, link.c.position, entity.c.name)
                         .join(t.proposal, t.proposal.c.id == link.c.proposal_id)
                         .join(t.site, t.site.c.id == t.proposal.c.site_id).join(entity, entity.c.id == key)
                         .where(link.c.proposal_id.in_(chunk))
                         .order_by(t.proposal.c.id, link.c.role.desc(), link.c.position))
            for url, pid, slug, role, position, name in session.execute(statement):
                yield {"proposal_url": url, "proposal_id": pid, "site": slug, "role": role, "position": position,
                       "name": name, label: f"{slug}/{name}"}


def export(session: Session, filters: Filters, fmt: str, path: Path | None, *, table: str = "proposals",
           on_record: Callable[[], None] | None = None) -> int:
    """Write every matching record (or related row) to `path` (None: standard output) in `fmt`,
    streaming; returns how many."""
    if fmt not in FORMATS:
        raise ValueError(f"export formats: {', '.join(FORMATS)}")
    source = iter_records(session, filters) if table == "proposals" else iter_related(session, filters, table)

    def counted():
        for row in source:
            if on_record is not None:
                on_record()
            yield row

    if path is None:
        return _write(counted(), fmt, sys.stdout, table)
    # written beside the target and moved into place at the end: no half file under the real name
    partial = path.with_name(path.name + ".part")
    try:
        if fmt == "parquet":
            written = write_parquet(counted(), partial, table=table)
        else:
            with partial.open("w", encoding="utf-8", newline="") as handle:
                written = _write(counted(), fmt, handle, table)
        partial.replace(path)
    finally:
        partial.unlink(missing_ok=True)
    return written


def _write(rows: Iterable[dict[str, Any]], fmt: str, handle, table: str) -> int:
    if fmt == "csv":
        return write_csv(rows, handle, table=table)
    if fmt == "jsonl":
        return write_jsonl(rows, handle)
    import pyarrow as pa

    sink = pa.PythonFile(handle.buffer if hasattr(handle, "buffer") else handle, mode="w")
    return write_parquet(rows, sink, table=table)
