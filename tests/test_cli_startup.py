"""Start-up: what `proposals --version`, `--help` and a read-only query import (no timings, which
bench/query.py measures), and the quick coercion in front of Typer's giving Typer's own results."""

from __future__ import annotations

import enum
import json
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import fixture_items

ROOT = Path(__file__).resolve().parent.parent

# runs the CLI's entry point as `proposals` does, then lists the modules it imported
PROBE = """
import json, sys
import cli
sys.argv = ["proposals", *json.loads(sys.argv[1])]
try:
    cli.main()
except SystemExit as exit:
    code = exit.code
with open(OUT, "w") as out:
    json.dump({"code": code, "modules": sorted(sys.modules)}, out)
"""

HEAVY = ("sqlalchemy", "scrapy", "twisted", "pyarrow", "pydantic", "alembic", "archive", "crawler", "rich.table")


def imported(tmp_path: Path, *args: str) -> tuple[int, set[str], str]:
    out = tmp_path / "modules.json"
    result = subprocess.run([sys.executable, "-c", f"OUT = {str(out)!r}\n{PROBE}", json.dumps(args)], cwd=ROOT,
                            capture_output=True, text=True, check=False, timeout=120)
    found = json.loads(out.read_text())
    return found["code"], set(found["modules"]), result.stdout


def loaded(modules: set[str], package: str) -> bool:
    return any(name == package or name.startswith(package + ".") for name in modules)


def test_version_imports_no_archive_database_crawler_or_table(tmp_path):
    code, modules, stdout = imported(tmp_path, "--version")
    assert code == 0
    assert stdout.startswith("proposals ")
    assert [package for package in HEAVY if loaded(modules, package)] == []
    assert not loaded(modules, "commands.analysis") and not loaded(modules, "commands.crawling")


def test_help_imports_no_archive_database_or_crawler(tmp_path):
    # the help itself is Typer's rich panels, so rich.table is allowed here
    code, modules, stdout = imported(tmp_path, "--help")
    assert code == 0
    assert "datasette-metadata" in stdout and "query" in stdout
    assert [package for package in HEAVY[:-1] if loaded(modules, package)] == []


@pytest.fixture
def small_archive(tmp_path):
    from archive.db import open_archive, session_factory
    from archive.ingest import ingest_batch

    path = tmp_path / "small.db"
    engine = open_archive(str(path))
    with session_factory(engine)() as session, session.begin():
        ingest_batch(session, fixture_items(session))
    engine.dispose()
    return path


@pytest.mark.parametrize("args", [
    ("query", "养老", "--format", "json"),
    ("query", "--adoption", "B", "--year", "2023", "--limit", "5"),  # table output, piped
    ("stats", "--by", "adoption_class"),
    ("show", "1", "--format", "json"),
])
def test_read_only_commands_import_no_orm_crawler_export_or_validators(tmp_path, small_archive, args):
    code, modules, stdout = imported(tmp_path, *args, "--db", str(small_archive))
    assert code == 0, stdout
    assert stdout.strip()
    # reading runs Core statements on a Connection: the ORM and its mapped classes stay out
    # and output to a pipe is written plain, without rich
    unused = ("scrapy", "twisted", "pyarrow", "pydantic", "alembic", "crawler", "archive.export",
              "sqlalchemy.dialects.postgresql", "sqlalchemy.orm", "archive.models", "rich",
              "commands.crawling", "commands.pages")
    assert [package for package in unused if loaded(modules, package)] == []


@pytest.mark.parametrize("text", [
    "10526 records match; showing 1–50", "error: no site 'x' in the archive", "a: b", "宽字符" * 40,
    "two\nlines", "  spaced  ", "", "a\tb", ":smile: face", "x\r y", "\x1b[31mred", "[bold]x[/bold]",
])
def test_a_console_writing_to_a_pipe_prints_what_rich_prints(text, capsys):
    import io

    from rich.console import Console

    from commands.common import _LazyConsole

    expected = io.StringIO()
    Console(file=expected, highlight=False, soft_wrap=True).print(text, markup=False, style="red")
    _LazyConsole().print(text, markup=False, style="red")
    assert capsys.readouterr().out == expected.getvalue()


def test_a_sponsor_query_normalises_the_name_without_loading_the_parser(tmp_path, small_archive):
    code, modules, stdout = imported(tmp_path, "query", "--sponsor", "魏　巍", "--format", "json",
                                     "--db", str(small_archive))
    assert code == 0, stdout
    assert "crawler.parsers.text" in modules
    assert [m for m in ("selectolax", "crawler.parsers.page", "crawler.parsers.detail") if loaded(modules, m)] == []


# --- the quick coercion gives what Typer's own gives, value or error ------------------------------------


class Colour(enum.StrEnum):
    red = "red"
    green = "green"


def _descriptor(annotation, **options):
    import typer
    from typer._coercion import resolve_type_descriptor

    return resolve_type_descriptor(annotation, typer.Option(None, "--x", **options))


def _outcome(runtime, value):
    from types import SimpleNamespace

    from typer._click.exceptions import BadParameter

    # what coercion reads of a parameter: whether it takes many values
    param = SimpleNamespace(multiple=isinstance(value, tuple), nargs=1)
    try:
        got = runtime.coerce(value, param=param, ctx=None)
        return "value", type(got).__name__, got
    except BadParameter as error:
        return "error", error.message


CASES = [
    (str, {}, ["养老", "", " a b "]),
    (int, {}, ["50", "0", "-3", "007", "x", "1_000", " 5", "５", "1e3", "99999999999999999999999", 50]),
    (int, {"min": 1}, ["0", "5"]),
    (bool, {}, [True, False, "yes"]),
    (Colour, {}, ["red", "RED", "blue", Colour.green]),
    (Colour, {"case_sensitive": False}, ["RED", "Green", "blue"]),
    (list[int], {}, [("2023", "2024"), ("2023", "x"), ()]),
    (list[Colour], {"case_sensitive": False}, [("red", "GREEN"), ("red", "pink")]),
    (list[str], {}, [("a", "b")]),
]


@pytest.mark.parametrize(("annotation", "options", "values"), CASES, ids=[repr(c[0]) + str(c[1]) for c in CASES])
def test_quick_coercion_matches_typers_own(annotation, options, values):
    pytest.importorskip("typer._coercion", reason="this Typer has no Pydantic coercion to stand in front of")
    from typer._coercion import build_runtime_param

    from commands.coercion import quick_runtime_param

    descriptor = _descriptor(annotation, **options)
    quick = quick_runtime_param(descriptor, build_runtime_param)
    assert (quick is None) == ("min" in options)  # a range is Typer's to check
    for value in values:
        assert _outcome(quick or build_runtime_param(descriptor), value) == \
            _outcome(build_runtime_param(descriptor), value), value


def test_bad_values_keep_typers_one_line_errors(small_archive):
    result = subprocess.run([sys.executable, "-m", "cli", "query", "--limit", "x", "--db", str(small_archive)],
                            cwd=ROOT, capture_output=True, text=True, check=False, timeout=120)
    assert result.returncode == 2
    # Pydantic's wording, as Typer gives it: the quick path handed the bad value on
    assert result.stderr.strip().splitlines() == [
        "error: Invalid value for '--limit': Input should be a valid integer, unable to parse string as an integer "
        "(see proposals query --help)"]


def test_the_collector_paused_for_start_up_runs_again_after_it():
    # a long command (a crawl) must not run without the cyclic collector
    probe = ("import gc, time, cli\n"
             "cli._pause_collector(0.2)\n"
             "paused = not gc.isenabled()\n"
             "time.sleep(1.0)\n"
             "print(paused, gc.isenabled(), gc.get_freeze_count() > 0)\n")
    result = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, timeout=60,
                            check=True)
    assert result.stdout.split() == ["True", "True", "True"]
