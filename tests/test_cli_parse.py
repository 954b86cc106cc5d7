"""`proposals parse`: the record as JSON or a table; bad input is one line on stderr and exit 1."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from conftest import FIXTURES, expected_record, page_url
from typer.testing import CliRunner

from cli import app
from replica import BLOCKS

runner = CliRunner()
SHENGSI = "art/2022/8/18/art_1229123456_12345678.html"
SHENGSI_PAGE = FIXTURES / "shengsi" / "pages" / SHENGSI


def proposals(*args: str) -> subprocess.CompletedProcess:
    """The installed command as a user runs it (errors and exit codes included)."""
    return subprocess.run([sys.executable, "-m", "cli", *args], capture_output=True, text=True, check=False)


def test_json_is_exactly_the_seed_record():
    result = runner.invoke(app, ["parse", str(SHENGSI_PAGE), "--format", "json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == expected_record("shengsi", SHENGSI)


def test_url_defaults_to_the_url_the_page_declares():
    result = runner.invoke(app, ["parse", str(SHENGSI_PAGE)])
    assert json.loads(result.stdout)["url"] == page_url("shengsi", SHENGSI)


def test_url_and_encoding_options():
    page = FIXTURES / "gucheng" / "pages" / "art/2020/11/5/art_40512_580012.html"
    url = page_url("gucheng", "art/2020/11/5/art_40512_580012.html")
    result = runner.invoke(app, ["parse", str(page), "--url", url, "--encoding", "gbk"])
    assert result.exit_code == 0
    assert json.loads(result.stdout) == expected_record("gucheng", "art/2020/11/5/art_40512_580012.html")


def test_table_is_a_readable_summary():
    result = runner.invoke(app, ["parse", str(SHENGSI_PAGE), "--format", "table"])
    assert result.exit_code == 0
    for text in ("raw_title", "(202116号)关于进一步提升我县电信网络诈骗防范成效的建议", "lead_sponsors", "魏巍",
                 "reply.doc_number", "嵊政办函〔2021〕12号", "adoption_class", "disclosure.index_no"):
        assert text in result.stdout


@pytest.mark.parametrize(("args", "message"), [
    (["parse", "no/such/page.html"], "no such file: no/such/page.html"),
    (["parse", str(FIXTURES)], "is a directory"),
    (["parse", str(BLOCKS / "ruishu-412.html")], "not a proposal page: Ruishu"),
    (["parse", str(BLOCKS / "too-frequent-200.html")], "not a proposal page: block page"),
    (["parse", str(FIXTURES / "README.md")], "not a proposal page"),
    (["parse", str(SHENGSI_PAGE), "--encoding", "klingon"], "unknown encoding: klingon"),
])
def test_bad_input_is_one_line_on_stderr_and_exit_1(args, message):
    result = proposals(*args)
    assert result.returncode == 1
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and message in lines[0]
    assert "Traceback" not in result.stderr


def test_bad_usage_exits_2():
    assert proposals("parse", str(SHENGSI_PAGE), "--format", "yaml").returncode == 2
    assert proposals("parse").returncode == 2


def test_help_everywhere():
    assert "Parse one saved detail page" in runner.invoke(app, ["parse", "--help"]).stdout
    assert "parse" in runner.invoke(app, ["--help"]).stdout
