"""The analyst's commands: `proposals query`, `show`, `history`, `stats`, `sponsors`, `units`, `export`."""

from __future__ import annotations

import datetime as dt
import io
import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from .common import DbOption, RecordFormat, cell, fail, open_db, print_record, stderr, stdout, ticking

# --- the filters every command here takes --------------------------------------------------------------

Text = Annotated[str | None, typer.Argument(help="Full-text search over title, content and reply (all words).")]
Sponsor = Annotated[str | None, typer.Option("--sponsor", help="A sponsor's name (lead or co).")]
LeadOnly = Annotated[bool, typer.Option("--lead-only", help="With --sponsor: lead sponsors only.")]
Adoption = Annotated[list[str] | None, typer.Option("--adoption", metavar="A|B|C|D",
                                                    help="Adoption class (repeatable).")]
Year = Annotated[list[int] | None, typer.Option("--year", help="The record's (session) year (repeatable).")]
Kind = Annotated[str | None, typer.Option("--kind", metavar="cppcc|npc", help="Proposals or suggestions.")]
Unit = Annotated[str | None, typer.Option("--unit", help="A handling unit (lead or co).")]
Category = Annotated[str | None, typer.Option("--category", help="类型, as printed.")]
Status = Annotated[str | None, typer.Option("--status", help="落实情况, as printed.")]
Site = Annotated[str | None, typer.Option("--site", help="A site slug.")]
Since = Annotated[str | None, typer.Option("--since", metavar="DATE", help="Published on or after (YYYY-MM-DD).")]
ChangedSince = Annotated[str | None, typer.Option("--changed-since", metavar="DATE",
                                                  help="Changed on or after (YYYY-MM-DD).")]


def _date(value: str | None, option: str) -> dt.date | None:
    if value is None:
        return None
    for pattern in ("%Y-%m-%d", "%Y-%m", "%Y"):
        try:
            return dt.datetime.strptime(value.strip(), pattern).date()
        except ValueError:
            continue
    raise fail(f"{option} takes a date as YYYY-MM-DD, not {value!r}", 2)


def filters(text=None, sponsor=None, lead_only=False, adoption=None, year=None, kind=None, unit=None,
            category=None, status=None, site=None, since=None, changed_since=None):
    from archive.query import CLASSES, KINDS, Filters

    classes = tuple(a.strip().upper() for a in adoption or ())
    bad = [a for a in classes if a not in CLASSES]
    if bad:
        raise fail(f"--adoption takes A, B, C or D, not {bad[0]}", 2)
    if kind is not None and kind not in KINDS:
        raise fail(f"--kind takes cppcc or npc, not {kind}", 2)
    return Filters(text=text, sponsor=sponsor, lead_only=lead_only, adoption=classes, year=tuple(year or ()),
                   kind=kind, unit=unit, category=category, status=status, site=site,
                   since=_date(since, "--since"), changed_since=_date(changed_since, "--changed-since"))


def _session(db: str | None):
    from archive.db import session_factory

    return session_factory(open_db(db, create=False))()


# --- output -----------------------------------------------------------------------------------------------

FORMATS = ("table", "json", "jsonl", "csv")
LIST_COLUMNS = (("id", "id"), ("published", "published"), ("kind", "kind"), ("number", "number"),
                ("title", "title"), ("lead sponsors", "lead_sponsors"), ("class", "adoption_class"),
                ("status", "implementation_status"), ("site", "site"))


def _format(value: str, allowed: tuple[str, ...] = FORMATS) -> str:
    if value not in allowed:
        raise fail(f"--format takes {'|'.join(allowed)}, not {value}", 2)
    return value


def _summary_value(record: dict, key: str) -> str:
    if key == "published":
        return (record["disclosure"]["published_at"] or record["disclosure"]["generated_on"] or "")[:10]
    if key == "kind":
        return {"cppcc_proposal": "提案", "npc_suggestion": "建议"}.get(record["kind"] or "", "")
    value = record.get(key)
    if isinstance(value, list):
        return "、".join(value)
    return "" if value is None else str(value)


def _emit_rows(headers: list[str], rows: list[list[Any]], *, title: str | None = None) -> None:
    """A rich table on a terminal (CJK widths right), tab-separated lines when piped."""
    if stdout.is_terminal:
        table = Table(*headers, title=title, show_lines=False)
        for row in rows:
            table.add_row(*("" if v is None else str(v) for v in row))
        stdout.print(table)
        return
    out = sys.stdout
    out.write("\t".join(headers) + "\n")
    for row in rows:
        out.write("\t".join("" if v is None else str(v).replace("\t", " ").replace("\n", " ") for v in row) + "\n")


def _emit_records(records: list[dict], fmt: str) -> None:
    from archive.export import write_csv, write_jsonl

    if fmt == "json":
        sys.stdout.write(json.dumps(records, ensure_ascii=False, indent=2) + "\n")
    elif fmt == "jsonl":
        write_jsonl(records, sys.stdout)
    elif fmt == "csv":
        buffer = io.StringIO()
        write_csv(records, buffer)
        sys.stdout.write(buffer.getvalue())
    else:
        _emit_rows([h for h, _ in LIST_COLUMNS], [[_summary_value(r, k) for _, k in LIST_COLUMNS] for r in records])


# --- commands -------------------------------------------------------------------------------------------


def query_command(
    text: Text = None, sponsor: Sponsor = None, lead_only: LeadOnly = False, adoption: Adoption = None,
    year: Year = None, kind: Kind = None, unit: Unit = None, category: Category = None, status: Status = None,
    site: Site = None, since: Since = None, changed_since: ChangedSince = None,
    limit: int = typer.Option(50, "--limit", help="At most this many records (0: all)."),
    offset: int = typer.Option(0, "--offset", help="Skip this many first."),
    sort: str = typer.Option("-published", "--sort",
                             help="published, -published, year, -year, changed, -changed, title, id, -id."),
    output: str = typer.Option("table", "--format", "-f", help="table, json, jsonl or csv."),
    db: DbOption = None,
) -> None:
    """Find records: filters joined by AND, an optional full-text search, newest first.

    JSON holds the record's keys (RECORD.md) plus id, site, first_seen, last_seen, last_changed.

    Example: proposals query 养老 --adoption A --adoption B --year 2023 --format csv > a.csv
    """
    from archive.query import SORTS, count, records, select_ids

    fmt = _format(output)
    if sort not in SORTS:
        raise fail(f"--sort takes {', '.join(SORTS)}, not {sort}", 2)
    if limit < 0 or offset < 0:
        raise fail("--limit and --offset take numbers from 0", 2)
    chosen = filters(text, sponsor, lead_only, adoption, year, kind, unit, category, status, site, since,
                     changed_since)
    with _session(db) as session:
        ids = select_ids(session, chosen, sort=sort, limit=limit or None, offset=offset)
        found = records(session, ids)
        total = count(session, chosen) if fmt == "table" else None
    _emit_records(found, fmt)
    if fmt == "table":
        shown = f"{offset + 1}–{offset + len(found)}" if found else "none"
        stderr.print(f"{total} records match; showing {shown}", markup=False)


def show_command(
    record_id: int = typer.Argument(..., metavar="ID", help="The record's id (from query)."),
    output: RecordFormat = typer.Option(RecordFormat.table, "--format", "-f", help="table or json."),
    db: DbOption = None,
) -> None:
    """Show one whole record, with its reply letter.

    Example: proposals show 12 --format json
    """
    from archive.query import records

    with _session(db) as session:
        found = records(session, [record_id])
    if not found:
        raise fail(f"no record with id {record_id}", 1)
    if output is RecordFormat.json:
        sys.stdout.write(json.dumps(found[0], ensure_ascii=False, indent=2) + "\n")
    else:
        print_record(found[0], limit=None)


def history_command(
    record_id: int = typer.Argument(..., metavar="ID", help="The record's id (from query)."),
    output: RecordFormat = typer.Option(RecordFormat.table, "--format", "-f", help="table or json."),
    db: DbOption = None,
) -> None:
    """Show how a record changed over time: each revision's time, field, old and new value.

    Example: proposals history 12
    """
    from archive.query import QueryError, history

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


def stats_command(
    by: list[str] = typer.Option(..., "--by", metavar="FIELD",
                                 help="adoption_class, year, kind, site, category, lead_unit, sponsor or status; "
                                      "twice for a crosstab."),
    text: Text = None, sponsor: Sponsor = None, lead_only: LeadOnly = False, adoption: Adoption = None,
    year: Year = None, kind: Kind = None, unit: Unit = None, category: Category = None, status: Status = None,
    site: Site = None, since: Since = None, changed_since: ChangedSince = None,
    output: str = typer.Option("table", "--format", "-f", help="table, json or csv."),
    db: DbOption = None,
) -> None:
    """Count records grouped by one field (with shares) or two (a crosstab); the same filters as query.

    Example: proposals stats --by adoption_class --by year --kind cppcc
    """
    from archive.query import GROUPS, stats

    fmt = _format(output, ("table", "json", "csv"))
    unknown = [field for field in by if field not in GROUPS]
    if unknown:
        raise fail(f"cannot group by {unknown[0]}: choose from {', '.join(GROUPS)}", 2)
    if len(by) > 2:
        raise fail("--by takes one or two fields", 2)
    chosen = filters(text, sponsor, lead_only, adoption, year, kind, unit, category, status, site, since,
                     changed_since)
    with _session(db) as session:
        result = stats(session, chosen, by)
    if fmt == "json":
        sys.stdout.write(json.dumps(result, ensure_ascii=False, indent=2) + "\n")
    elif fmt == "csv":
        import csv

        writer = csv.writer(sys.stdout)
        writer.writerow([*by, "count", "share"])
        for row in result["rows"]:
            writer.writerow([*(row[f] for f in by), row["count"], f"{row['share']:.4f}"])
    elif len(by) == 1:
        _emit_rows([by[0], "count", "share"],
                   [[_label(r[by[0]]), r["count"], f"{r['share']:.1%}"] for r in result["rows"]]
                   + [["total", result["total"], "100.0%" if result["total"] else ""]])
    else:
        _emit_crosstab(result, by)


def _label(value: Any) -> str:
    return "—" if value is None else str(value)


def _emit_crosstab(result: dict, by: list[str]) -> None:
    rows_field, columns_field = by
    row_values = list(dict.fromkeys(r[rows_field] for r in result["rows"]))
    column_values = sorted({r[columns_field] for r in result["rows"]}, key=lambda v: (v is None, str(v)))
    cells = {(r[rows_field], r[columns_field]): r["count"] for r in result["rows"]}
    table = [[_label(value), *(cells.get((value, column), 0) for column in column_values),
              sum(cells.get((value, column), 0) for column in column_values)] for value in row_values]
    _emit_rows([f"{rows_field} \\ {columns_field}", *(_label(c) for c in column_values), "total"], table)
    stderr.print(f"{result['total']} records", markup=False)


def _names(of: str, lead_only: bool, chosen, limit: int, fmt: str, db: str | None) -> None:
    from archive.query import CLASSES, NO_CLASS, names

    with _session(db) as session:
        rows = names(session, chosen, of=of, lead_only=lead_only)
    rows = rows[:limit] if limit else rows
    columns = ["name", "records", *CLASSES, NO_CLASS]
    if fmt == "json":
        sys.stdout.write(json.dumps(rows, ensure_ascii=False, indent=2) + "\n")
    elif fmt == "csv":
        import csv

        writer = csv.DictWriter(sys.stdout, fieldnames=columns)
        writer.writeheader()
        writer.writerows(rows)
    else:
        _emit_rows(columns, [[r[column] for column in columns] for r in rows])


def sponsors_command(
    text: Text = None, sponsor: Sponsor = None, lead_only: LeadOnly = False, adoption: Adoption = None,
    year: Year = None, kind: Kind = None, unit: Unit = None, category: Category = None, status: Status = None,
    site: Site = None, since: Since = None, changed_since: ChangedSince = None,
    limit: int = typer.Option(0, "--limit", help="At most this many names (0: all)."),
    output: str = typer.Option("table", "--format", "-f", help="table, json or csv."),
    db: DbOption = None,
) -> None:
    """Each sponsor of the matching records, with its record count and their adoption classes.

    Example: proposals sponsors --kind cppcc --year 2023 --lead-only
    """
    fmt = _format(output, ("table", "json", "csv"))
    chosen = filters(text, sponsor, False, adoption, year, kind, unit, category, status, site, since,
                     changed_since)
    _names("sponsor", lead_only, chosen, limit, fmt, db)


def units_command(
    text: Text = None, sponsor: Sponsor = None, lead_only: LeadOnly = False, adoption: Adoption = None,
    year: Year = None, kind: Kind = None, unit: Unit = None, category: Category = None, status: Status = None,
    site: Site = None, since: Since = None, changed_since: ChangedSince = None,
    lead_units: bool = typer.Option(False, "--lead-units", help="Lead (主办) units only."),
    limit: int = typer.Option(0, "--limit", help="At most this many names (0: all)."),
    output: str = typer.Option("table", "--format", "-f", help="table, json or csv."),
    db: DbOption = None,
) -> None:
    """Each handling unit of the matching records, with its record count and their adoption classes.

    Example: proposals units --adoption A --lead-units
    """
    fmt = _format(output, ("table", "json", "csv"))
    chosen = filters(text, sponsor, lead_only, adoption, year, kind, unit, category, status, site, since,
                     changed_since)
    _names("unit", lead_units, chosen, limit, fmt, db)


def export_command(
    output: str = typer.Option(..., "--format", "-f", help="csv, jsonl or parquet."),
    out: Path = typer.Option(..., "--out", "-o", help="The file to write."),
    text: Text = None, sponsor: Sponsor = None, lead_only: LeadOnly = False, adoption: Adoption = None,
    year: Year = None, kind: Kind = None, unit: Unit = None, category: Category = None, status: Status = None,
    site: Site = None, since: Since = None, changed_since: ChangedSince = None,
    db: DbOption = None,
) -> None:
    """Write the matching records to a file, streaming (constant memory), with a progress bar.

    Example: proposals export --format parquet --out proposals.parquet --since 2023-01-01
    """
    from archive.export import FORMATS, export
    from archive.query import count

    fmt = _format(output, FORMATS)
    if not out.parent.exists():
        raise fail(f"no such directory: {out.parent}", 1)
    chosen = filters(text, sponsor, lead_only, adoption, year, kind, unit, category, status, site, since,
                     changed_since)
    with _session(db) as session:
        total = count(session, chosen)
        with ticking("exporting", total) as tick:
            try:
                written = export(session, chosen, fmt, out, on_record=lambda: tick("written"))
            except OSError as error:
                raise fail(f"cannot write {out}: {error.strerror or error}", 1) from None
    stderr.print(f"exported {written} records to {out}", markup=False)
