"""Records out of the archive in the forms other tools read: CSV, JSON lines, Parquet (streamed).

A flat row has one column per field of the record (reply.* and disclosure.* spread out); in CSV
the name lists are joined with "; " (a name never holds one) and attachments and extra_fields are
JSON; in Parquet they keep their types (lists of strings, a list of {url, name}).
"""

from __future__ import annotations

import csv
import json
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from .query import Filters, iter_records
from .records import DISCLOSURE, REPLY_KEYS

NAME_LISTS = ("lead_sponsors", "co_sponsors", "lead_units", "co_units")
COLUMNS = ("id", "site", "url", "kind", "raw_title", "title", "number", "year", "session", "category",
           "lead_sponsors", "co_sponsors", "content", "lead_units", "co_units", "reply_text", "reply_title",
           "reply_doc_number", "reply_addressee", "reply_signer", "reply_date", "adoption_label", "adoption_class",
           "implementation_status", "impact_scope", "approved_by", "index_no", "disclosure_category", "publisher",
           "generated_on", "disclosure_mode", "published_at", "source", "attachments", "extra_fields",
           "first_seen", "last_seen", "last_changed")
FORMATS = ("csv", "jsonl", "parquet")


def flat_row(record: dict[str, Any]) -> dict[str, Any]:
    """One record as one flat row (lists and objects kept as Python values)."""
    reply = record.get("reply") or {}
    row = {key: record.get(key) for key in COLUMNS if key in record}
    row.update({f"reply_{key}": reply.get(key) for key in REPLY_KEYS})
    row.update({column: record["disclosure"][key] for key, column in DISCLOSURE.items()})
    return {column: row.get(column) for column in COLUMNS}


def csv_row(record: dict[str, Any]) -> dict[str, Any]:
    row = flat_row(record)
    for key in NAME_LISTS:
        row[key] = "; ".join(row[key] or [])
    row["attachments"] = json.dumps(row["attachments"] or [], ensure_ascii=False)
    row["extra_fields"] = json.dumps(row["extra_fields"] or {}, ensure_ascii=False)
    return row


def write_csv(records: Iterable[dict[str, Any]], handle) -> int:
    writer = csv.DictWriter(handle, fieldnames=COLUMNS)
    writer.writeheader()
    written = 0
    for record in records:
        writer.writerow(csv_row(record))
        written += 1
    return written


def write_jsonl(records: Iterable[dict[str, Any]], handle) -> int:
    written = 0
    for record in records:
        handle.write(json.dumps(record, ensure_ascii=False) + "\n")
        written += 1
    return written


def parquet_schema():
    import pyarrow as pa

    text, names = pa.string(), pa.list_(pa.string())
    types = {column: text for column in COLUMNS}
    types.update({"id": pa.int64(), "year": pa.int64(), **dict.fromkeys(NAME_LISTS, names),
                  "attachments": pa.list_(pa.struct([("url", text), ("name", text)]))})
    return pa.schema([(column, types[column]) for column in COLUMNS])


def write_parquet(records: Iterable[dict[str, Any]], path: Path, *, batch: int = 1000) -> int:
    """Row groups of `batch` records: the file grows while memory stays flat."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    schema = parquet_schema()
    written = 0
    rows: list[dict[str, Any]] = []
    with pq.ParquetWriter(path, schema, compression="zstd") as writer:
        def flush() -> None:
            writer.write_table(pa.Table.from_pylist(rows, schema=schema))
            rows.clear()

        for record in records:
            row = flat_row(record)
            row["extra_fields"] = json.dumps(row["extra_fields"] or {}, ensure_ascii=False)
            rows.append(row)
            written += 1
            if len(rows) >= batch:
                flush()
        if rows or not written:
            flush()
    return written


def export(session: Session, filters: Filters, fmt: str, path: Path,
           on_record: Callable[[], None] | None = None) -> int:
    """Write every matching record to `path` in `fmt`, streaming; returns how many."""
    if fmt not in FORMATS:
        raise ValueError(f"export formats: {', '.join(FORMATS)}")

    def counted():
        for record in iter_records(session, filters):
            if on_record is not None:
                on_record()
            yield record

    # written beside the target and moved into place at the end: no half file under the real name
    partial = path.with_name(path.name + ".part")
    try:
        if fmt == "parquet":
            written = write_parquet(counted(), partial)
        else:
            with partial.open("w", encoding="utf-8", newline="") as handle:
                written = write_csv(counted(), handle) if fmt == "csv" else write_jsonl(counted(), handle)
        partial.replace(path)
    finally:
        partial.unlink(missing_ok=True)
    return written
