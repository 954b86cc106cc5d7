"""The analyst's commands: `proposals query`, `show`, `history`, `stats`, `sponsors`, `units`, `export`,
`datasette-metadata`. The filters they share are declared once, in commands/filters.py."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer

from .common import DbOption, RecordFormat, cell, fail, open_db, print_record, stderr, stdout, ticking
from .filters import filtered


class Format(StrEnum):
    table = "table"
    json = "json"
    jsonl = "jsonl"
    csv = "csv"


class TableFormat(StrEnum):
    table = "table"
    json = "json"
    csv = "csv"


class ExportFormat(StrEnum):
    csv = "csv"
    jsonl = "jsonl"
    parquet = "parquet"


class ExportTable(StrEnum):
    proposals = "proposals"
    sponsorships = "sponsorships"
    units = "units"
    revisions = "revisions"


MergeSites = Annotated[bool, typer.Option("--merge-sites", help="One row per name across sites (people and units "
                                                                "are otherwise a site's own).")]


@contextmanager
def _session(db: str | None, filters=None, *, orm: bool = False) -> Iterator:
    """A read-only connection to the archive (a Connection, so that reading imports no ORM; an ORM
    session with `orm`); query errors and database errors become one line."""
    from sqlalchemy.exc import DBAPIError, OperationalError

    from archive.db import first_line, session_factory
    from archive.query import QueryError, site_slugs

    engine = open_db(db, create=False)
    session = session_factory(engine)() if orm else engine.connect()
    try:
        if filters is not None and filters.site and filters.site not in (slugs := site_slugs(session)):
            raise fail(f"no site {filters.site!r} in the archive (sites: {', '.join(slugs) or 'none'})", 2)
        yield session
    except QueryError as error:
        raise fail(str(error), 2) from None
    except OperationalError as error:  # never the statement: it can be pages long
        message = first_line(error)
        if "canceling statement due to statement timeout" in message:
            message = "the query took longer than the archive allows (statement timeout): narrow it down"
        raise fail(f"the query failed: {message}", 1) from None
    except DBAPIError as error:
        raise fail(f"the query failed: {first_line(error)}", 1) from None
    finally:
        session.close()


# --- output -----------------------------------------------------------------------------------------------

# (header, key), in the order shown; DROP_ORDER: what gives way first when the terminal is narrow
LIST_COLUMNS = {"id": "id", "published": "published", "kind": "kind", "number": "number", "title": "title",
                "sponsors": "lead_sponsors", "class": "adoption_class", "status": "implementation_status",
                "site": "site"}
DEFAULT_COLUMNS = ("id", "published", "kind", "number", "title", "sponsors", "class", "status", "site")
DROP_ORDER = ("site", "kind", "number", "status", "sponsors", "class", "published", "id")
TITLE_MIN = 24


def _summary_value(record: dict, key: str) -> str:
    if key == "published":
        return (record["disclosure"]["published_at"] or record["disclosure"]["generated_on"] or "")[:10]
    if key == "kind":
        return {"cppcc_proposal": "提案", "npc_suggestion": "建议"}.get(record["kind"] or "", "")
    value = record.get(key)
    if isinstance(value, list):
        return "、".join(value)
    return "" if value is None else str(value)


def _plain_rows(headers: list[str], rows: list[list[Any]]) -> None:
    out = sys.stdout
    out.write("\t".join(headers) + "\n")
    for row in rows:
        out.write("\t".join("" if v is None else str(v).replace("\t", " ").replace("\n", " ") for v in row) + "\n")


def _emit_rows(headers: list[str], rows: list[list[Any]], *, numeric: tuple[int, ...] = ()) -> None:
    """A rich table on a terminal (CJK widths right, numbers right-aligned), tab-separated lines when piped."""
    if not stdout.is_terminal:
        _plain_rows(headers, rows)
        return
    from rich.table import Table

    table = Table(show_lines=False)
    for index, header in enumerate(headers):
        table.add_column(header, justify="right" if index in numeric else "left")
    for row in rows:
        table.add_row(*("" if v is None else str(v) for v in row))
    stdout.print(table)


def fit_columns(columns: list[str], cells: list[list[str]], width: int) -> list[str]:
    """The columns that fit a terminal `width` with the title at TITLE_MIN cells or more: the least
    useful ones (DROP_ORDER) go first. Cells are each column's values."""
    from rich.cells import cell_len

    def needed(chosen: list[str]) -> int:
        # every column but the title at its widest, plus rich's borders and padding (3 per column, 1)
        widths = [max([cell_len(h)] + [cell_len(v) for v in cells[columns.index(h)]]) for h in chosen if h != "title"]
        return sum(widths) + 3 * len(chosen) + 1 + (TITLE_MIN if "title" in chosen else 0)

    chosen = list(columns)
    for victim in DROP_ORDER:
        if needed(chosen) <= width or len(chosen) == 1:
            break
        if victim in chosen:
            chosen.remove(victim)
    return chosen


def _emit_listing(records: list[dict], columns: list[str]) -> None:
    cells = [[_summary_value(r, LIST_COLUMNS[c]) for r in records] for c in columns]
    if not stdout.is_terminal:
        _plain_rows(columns, [list(row) for row in zip(*cells, strict=True)] if records else [])
        return
    from rich.table import Table

    shown = fit_columns(columns, cells, stdout.width)
    table = Table(show_lines=False)
    for column in shown:
        if column == "title":  # the title takes the width left and wraps
            table.add_column(column, overflow="fold", ratio=1, min_width=TITLE_MIN)
        else:
            table.add_column(column, no_wrap=True, justify="right" if column == "id" else "left")
    for index in range(len(records)):
        table.add_row(*(cells[columns.index(column)][index] for column in shown))
    stdout.print(table)


def _emit_records(records: list[dict], fmt: Format, columns: list[str]) -> None:
    if fmt is Format.json:
        sys.stdout.write(json.dumps(records, ensure_ascii=False, indent=2) + "\n")
    elif fmt is Format.jsonl:
        from archive.export import write_jsonl

        write_jsonl(records, sys.stdout)
    elif fmt is Format.csv:
        from archive.export import write_csv

        write_csv(records, sys.stdout)
    else:
        _emit_listing(records, columns)


def _columns(value: str | None) -> list[str]:
    if value is None:
        return list(DEFAULT_COLUMNS)
    chosen = [c.strip() for c in value.split(",") if c.strip()]
    unknown = [c for c in chosen if c not in LIST_COLUMNS]
    if unknown or not chosen:
        raise fail(f"--columns takes a comma-separated list of {', '.join(LIST_COLUMNS)}, not {value!r}", 2)
    return chosen


# --- commands -------------------------------------------------------------------------------------------


@filtered
def query_command(
    filters,
    limit: int = typer.Option(50, "--limit", metavar="N", help="At most this many records (0: all)."),
    offset: int = typer.Option(0, "--offset", metavar="N", help="Skip this many first."),
    sort: str = typer.Option("-published", "--sort", metavar="KEY",
                             help="published, -published, year, -year, changed, -changed, title, id, -id."),
    columns: str = typer.Option(None, "--columns", metavar="LIST",
                                help="Table columns, comma-separated: " + ",".join(LIST_COLUMNS) + "."),
    output: Format = typer.Option(Format.table, "--format", "-f", help="The output form."),
    db: DbOption = None,
) -> None:
    """Find records: filters joined by AND, an optional full-text search, newest first.

    JSON holds the record's keys (RECORD.md) plus id, site, first_seen, last_seen, last_changed.

    Example: proposals query 养老 --adoption A --adoption B --year 2023 --format csv > a.csv
    """
    from archive.query import SORTS, count, records, select_ids

    if sort not in SORTS:
        raise fail(f"--sort takes {', '.join(SORTS)}, not {sort}", 2)
    if limit < 0 or offset < 0:
        raise fail("--limit and --offset take numbers from 0", 2)
    shown = _columns(columns)
    with _session(db, filters) as session:
        ids = select_ids(session, filters, sort=sort, limit=limit or None, offset=offset)
        found = records(session, ids)
        total = count(session, filters) if output is Format.table else None
    _emit_records(found, output, shown)
    if output is Format.table:
        span = f"{offset + 1}–{offset + len(found)}" if found else "none"
        stderr.print(f"{total} records match; showing {span}", markup=False)


RecordId = Annotated[int, typer.Argument(metavar="ID", help="The record's id (from query).")]


def _record_id(record_id: int) -> int:
    from archive.query import MAX_ID

    if not 1 <= record_id <= MAX_ID:
        raise fail(f"a record id is a number from 1 to {MAX_ID}, not {record_id}", 2)
    return record_id


def show_command(
    record_id: RecordId,
    output: RecordFormat = typer.Option(RecordFormat.table, "--format", "-f", help="The output form."),
    db: DbOption = None,
) -> None:
    """Show one whole record, with its reply letter.

    Example: proposals show 12 --format json
    """
    from archive.query import records

    with _session(db) as session:
        found = records(session, [_record_id(record_id)])
    if not found:
        raise fail(f"no record with id {record_id}", 1)
    if output is RecordFormat.json:
        sys.stdout.write(json.dumps(found[0], ensure_ascii=False, indent=2) + "\n")
    else:
        print_record(found[0], limit=None)


def history_command(
    record_id: RecordId,
    output: RecordFormat = typer.Option(RecordFormat.table, "--format", "-f", help="The output form."),
    db: DbOption = None,
) -> None:
    """Show how a record changed over time: each revision's time, field, old and new value.

    Example: proposals history 12
    """
    from archive.query import QueryError, history

    _record_id(record_id)
    with _session(db) as session:
        try:
            revisions = history(session, record_id)
        except QueryError as error:
            raise fail(str(error), 1) from None
    if output is RecordFormat.json:
        sys.stdout.write(json.dumps(revisions, ensure_ascii=False, indent=2) + "\n")
        return
    if not revisions:
        stderr.print(f"record {record_id} has not changed since it was first archived", markup=False)
        return
    _emit_rows(["changed at", "field", "old", "new"],
               [[r["changed_at"], r["field"], cell(r["old"], 120), cell(r["new"], 120)] for r in revisions])


@filtered
def stats_command(
    filters,
    by: list[str] = typer.Option(..., "--by", metavar="FIELD",
                                 help="adoption_class, year, published_year, kind, site, category, lead_unit, "
                                      "sponsor or status; twice for a crosstab."),
    merge_sites: MergeSites = False,
    output: TableFormat = typer.Option(TableFormat.table, "--format", "-f", help="The output form."),
    db: DbOption = None,
) -> None:
    """Count records grouped by one field (with shares) or two (a crosstab); the same filters as query.

    `year` is the session year (from the record's number or title); `published_year` the year the
    page was published (发布时间, else 生成日期). Sponsors and lead units are grouped by site and name.

    Example: proposals stats --by adoption_class --by year --kind cppcc
    """
    from archive.query import GROUPS, stats

    unknown = [field for field in by if field not in GROUPS]
    if unknown:
        raise fail(f"cannot group by {unknown[0]}: choose from {', '.join(GROUPS)}", 2)
    if len(by) > 2:
        raise fail("--by takes one or two fields", 2)
    with _session(db, filters) as session:
        result = stats(session, filters, by, merge_sites=merge_sites)
    fields = [f for f in (result["rows"][0] if result["rows"] else {}) if f not in ("count", "share")] or list(by)
    if output is TableFormat.json:
        sys.stdout.write(json.dumps(result, ensure_ascii=False, indent=2) + "\n")
    elif output is TableFormat.csv:
        import csv

        writer = csv.writer(sys.stdout)
        writer.writerow([*fields, "count", "share"])
        for row in result["rows"]:
            writer.writerow([*(row[f] for f in fields), row["count"], f"{row['share']:.4f}"])
    elif len(by) == 1:
        rows = [[*(_label(r[f]) for f in fields), r["count"], f"{r['share']:.1%}"] for r in result["rows"]]
        rows.append(["total", *([""] * (len(fields) - 1)), result["total"], "100.0%" if result["total"] else ""])
        _emit_rows([*fields, "count", "share"], rows, numeric=(len(fields), len(fields) + 1))
    else:
        _emit_crosstab(result, by)


def _label(value: Any) -> str:
    return "—" if value is None else str(value)


def _emit_crosstab(result: dict, by: list[str]) -> None:
    rows_field, columns_field = by
    per_site = "site" in (result["rows"][0] if result["rows"] else {}) and "site" not in by

    def row_key(r):
        return (r["site"], r[rows_field]) if per_site else r[rows_field]

    row_values = list(dict.fromkeys(row_key(r) for r in result["rows"]))
    column_values = sorted({r[columns_field] for r in result["rows"]}, key=lambda v: (v is None, str(v)))
    cells: dict = {}
    for r in result["rows"]:
        cells[(row_key(r), r[columns_field])] = cells.get((row_key(r), r[columns_field]), 0) + r["count"]
    table = []
    for value in row_values:
        counts = [cells.get((value, column), 0) for column in column_values]
        label = [value[0], _label(value[1])] if per_site else [_label(value)]
        table.append([*label, *counts, sum(counts)])
    first = ["site", f"{rows_field} \\ {columns_field}"] if per_site else [f"{rows_field} \\ {columns_field}"]
    headers = [*first, *(_label(c) for c in column_values), "total"]
    _emit_rows(headers, table, numeric=tuple(range(len(first), len(headers))))
    stderr.print(f"{result['total']} records", markup=False)


def _names(of: str, lead_only: bool, chosen, limit: int, fmt: TableFormat, db: str | None,
           merge_sites: bool) -> None:
    from archive.query import CLASSES, NO_CLASS, names

    with _session(db, chosen) as session:
        rows = names(session, chosen, of=of, lead_only=lead_only, merge_sites=merge_sites)
    rows = rows[:limit] if limit else rows
    columns = [*([] if merge_sites else ["site"]), "name", "records", *CLASSES, NO_CLASS]
    if fmt is TableFormat.json:
        sys.stdout.write(json.dumps(rows, ensure_ascii=False, indent=2) + "\n")
    elif fmt is TableFormat.csv:
        import csv

        writer = csv.DictWriter(sys.stdout, fieldnames=columns, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
    else:
        first_number = columns.index("records")
        _emit_rows(columns, [[r[column] for column in columns] for r in rows],
                   numeric=tuple(range(first_number, len(columns))))


@filtered
def sponsors_command(
    filters,
    merge_sites: MergeSites = False,
    limit: int = typer.Option(0, "--limit", metavar="N", help="At most this many names (0: all)."),
    output: TableFormat = typer.Option(TableFormat.table, "--format", "-f", help="The output form."),
    db: DbOption = None,
) -> None:
    """Each sponsor of the matching records (by site and name), with its record count and their adoption classes.

    With --lead-only, lead sponsors only.

    Example: proposals sponsors --kind cppcc --year 2023 --lead-only
    """
    _names("sponsor", filters.lead_only, filters, limit, output, db, merge_sites)


@filtered
def units_command(
    filters,
    lead_units: bool = typer.Option(False, "--lead-units", help="Lead (主办) units only."),
    merge_sites: MergeSites = False,
    limit: int = typer.Option(0, "--limit", metavar="N", help="At most this many names (0: all)."),
    output: TableFormat = typer.Option(TableFormat.table, "--format", "-f", help="The output form."),
    db: DbOption = None,
) -> None:
    """Each handling unit of the matching records (by site and name), with its record count and their adoption
    classes.

    Example: proposals units --adoption A --lead-units
    """
    _names("unit", lead_units, filters, limit, output, db, merge_sites)


@filtered
def export_command(
    filters,
    out: str = typer.Option(None, "--out", "-o", metavar="FILE", help="The file to write; - for standard output."),
    output: ExportFormat = typer.Option(None, "--format", "-f", show_default=False,
                                        help="The file's form (default: from the file's extension)."),
    table: ExportTable = typer.Option(ExportTable.proposals, "--table",
                                      help="What to export: the records, or one of their related tables "
                                           "(each row keyed by the record's URL)."),
    schema: bool = typer.Option(False, "--schema", help="Print the data dictionary (a Frictionless Table Schema) "
                                                        "of the export instead of writing it."),
    db: DbOption = None,
) -> None:
    """Write the matching records (or their sponsorships, units or revisions) to a file, streaming.

    A CSV file gets a datapackage.json beside it that says each column's type (number stays text).

    Example: proposals export --format parquet --out proposals.parquet --since 2023-01-01
    """
    from archive.export import export, format_for, table_schema, update_datapackage

    if schema:
        sys.stdout.write(json.dumps(table_schema(str(table)), ensure_ascii=False, indent=2) + "\n")
        return
    if out is None:
        raise fail("--out FILE is needed (- for standard output), or --schema", 2)
    try:
        fmt = format_for(out, str(output) if output else None)
    except ValueError as error:
        raise fail(str(error), 2) from None
    path = None if out == "-" else Path(out)
    if path is not None and not path.parent.exists():
        raise fail(f"no such directory: {path.parent}", 1)
    from archive.query import count

    with _session(db, filters) as session:
        total = count(session, filters) if path is not None else None
        with ticking("exporting", total) as tick:
            try:
                written = export(session, filters, fmt, path, table=str(table),
                                 on_record=None if path is None else lambda: tick("written"))
            except OSError as error:
                raise fail(f"cannot write {out}: {error.strerror or error}", 1) from None
    if path is not None:
        if fmt == "csv":
            update_datapackage(path, str(table))
        stderr.print(f"exported {written} {'records' if str(table) == 'proposals' else 'rows'} to {out}",
                     markup=False)


def datasette_metadata_command(
    out: str = typer.Option(None, "--out", "-o", metavar="FILE", help="Write it here (default: standard output)."),
    db: DbOption = None,
) -> None:
    """Print Datasette metadata for the archive: table and column descriptions, full-text search, canned queries.

    Example: proposals datasette-metadata --out metadata.json && datasette proposals.db -m metadata.json
    """
    from archive.datasette import metadata
    from archive.db import resolve_url, sqlite_path

    path = sqlite_path(resolve_url(db)[0])
    name = path.stem if path is not None else "proposals"
    text = json.dumps(metadata(name), ensure_ascii=False, indent=2) + "\n"
    if out is None or out == "-":
        sys.stdout.write(text)
        return
    try:
        Path(out).write_text(text, encoding="utf-8")
    except OSError as error:
        raise fail(f"cannot write {out}: {error.strerror or error}", 1) from None
    stderr.print(f"wrote {out}", markup=False)
