"""`proposals import`, `reparse` and `db`: summaries, exit codes, one-line errors."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import pytest
from conftest import FIXTURES, page_url
from sqlalchemy import func, select

from archive.db import make_engine, session_factory
from archive.models import Capture, Proposal, Revision, Site
from archive.records import load_records


def proposals(*args: str, cwd=None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "cli", *args], capture_output=True, text=True, cwd=cwd,
                          check=False)


@pytest.fixture
def db(tmp_path):
    path = tmp_path / "archive.db"
    assert proposals("db", "upgrade", "--db", str(path)).returncode == 0
    return str(path)


def test_import_twice_then_every_page_is_unchanged(db):
    pages = [str(FIXTURES / slug / "pages") for slug in ("haidao", "shengsi")]
    first = proposals("import", *pages, "--db", db)
    assert first.returncode == 0, first.stderr
    assert "imported 14 pages: 14 new, 0 changed, 0 unchanged, 0 failed" in first.stderr
    second = proposals("import", *pages, "--db", db)
    assert "imported 14 pages: 0 new, 0 changed, 14 unchanged, 0 failed" in second.stderr
    engine = make_engine(f"sqlite:///{db}")
    with session_factory(engine)() as session:
        assert session.scalar(select(func.count(Proposal.id))) == 14
        assert session.scalar(select(func.count(Capture.id))) == 14
        # pages declare their URL (<meta name="Url">): their sites come from the hosts
        assert set(session.scalars(select(Site.slug))) == {"www.haidao.example", "www.shengsi.gov.cn"}


def test_base_url_and_site_for_a_mirror(db):
    result = proposals("import", str(FIXTURES / "gucheng" / "pages"), "--url", "http://www.gucheng.example/",
                       "--site", "gucheng", "--db", db)
    assert result.returncode == 0, result.stderr
    engine = make_engine(f"sqlite:///{db}")
    with session_factory(engine)() as session:
        urls = set(session.scalars(select(Proposal.url)))
        assert page_url("gucheng", "art/2020/11/5/art_40512_580012.html") in urls
        assert set(session.scalars(select(Site.slug))) == {"gucheng"}
        records = load_records(session, session.scalars(select(Proposal.id)).all())
    (wps,) = [r for r in records.values() if r["attachments"]]
    assert wps["attachments"][0]["url"].startswith("http://www.gucheng.example/jcms_files/")


def test_a_bad_file_is_reported_and_skipped(db):
    result = proposals("import", str(FIXTURES / "gucheng"), "--url", "http://www.gucheng.example/", "--db", db)
    assert result.returncode == 1
    assert "failed: " in result.stderr and "col-40512-index.html: not a proposal page" in result.stderr
    assert "6 new, 0 changed, 0 unchanged, 1 failed" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(("args", "code", "message"), [
    (["import", "no/such/dir"], 1, "no such file or directory: no/such/dir"),
    (["import", str(FIXTURES / "shengsi" / "pages"), "--url", "relative/"], 2, "absolute URL"),
])
def test_import_errors(db, args, code, message):
    result = proposals(*args, "--db", db)
    assert result.returncode == code
    assert message in result.stderr and "Traceback" not in result.stderr


def test_a_database_behind_is_refused_until_upgraded(tmp_path):
    import sqlite3

    path = tmp_path / "old.db"
    with sqlite3.connect(path) as connection:  # a database, but not one at any revision of ours
        connection.execute("CREATE TABLE placeholder (id INTEGER)")
    result = proposals("import", str(FIXTURES / "shengsi" / "pages"), "--db", str(path))
    assert result.returncode == 1
    assert "run `proposals db upgrade`" in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert proposals("db", "current", "--db", str(path)).returncode == 1
    assert proposals("db", "upgrade", "--db", str(path)).returncode == 0
    assert "(head)" in proposals("db", "current", "--db", str(path)).stdout
    assert proposals("import", str(FIXTURES / "shengsi" / "pages"), "--db", str(path)).returncode == 0
    check = proposals("db", "check", "--db", str(path))  # the models know no table `placeholder`
    assert check.returncode == 1 and "schema drift" in check.stderr and "placeholder" in check.stderr


def test_a_new_sqlite_file_is_created_at_the_newest_schema(tmp_path):
    result = proposals("import", str(FIXTURES / "shengsi" / "pages"), "--db", str(tmp_path / "new.db"))
    assert result.returncode == 0, result.stderr
    assert "(head)" in proposals("db", "current", "--db", str(tmp_path / "new.db")).stdout
    result = proposals("import", str(FIXTURES / "shengsi" / "pages"), "--db", str(tmp_path / "no" / "dir.db"))
    assert result.returncode == 1 and "no directory" in result.stderr


def test_the_default_archive_is_created_in_the_working_directory(tmp_path, monkeypatch):
    monkeypatch.delenv("PROPOSALS_DB", raising=False)
    result = proposals("import", str(FIXTURES / "shengsi" / "pages"), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "proposals.db").exists()


def test_proposals_db_env_var(tmp_path, monkeypatch, db):
    monkeypatch.setenv("PROPOSALS_DB", db)
    assert proposals("import", str(FIXTURES / "shengsi" / "pages"), cwd=tmp_path).returncode == 0
    assert not (tmp_path / "proposals.db").exists()


def test_reparse_records_what_a_better_parser_changes(db, tmp_path):
    assert proposals("import", str(FIXTURES / "haidao" / "pages"), "--db", db).returncode == 0
    engine = make_engine(f"sqlite:///{db}")
    # an older parser read this record's status wrong: the archive holds its output
    with session_factory(engine)() as session, session.begin():
        proposal = session.scalars(select(Proposal).where(Proposal.implementation_status == "落实中")).first()
        proposal.implementation_status = "落实 中"
        wrong_id = proposal.id
    result = proposals("reparse", "--db", db)
    assert result.returncode == 0, result.stderr
    assert "reparsed 13 captures: 0 new, 1 changed, 12 unchanged, 0 failed" in result.stderr
    with session_factory(engine)() as session:
        revision = session.scalars(select(Revision)).one()
        assert (revision.proposal_id, revision.field) == (wrong_id, "implementation_status")
        assert (json.loads(revision.old_value), json.loads(revision.new_value)) == ("落实 中", "落实中")


# --- a record the archive refuses ------------------------------------------------------------------

REFUSED = "art/2022/8/3/art_1229395011_3907325.html"


def _refuse(url: str, on: bool = True) -> None:
    """A trigger that makes the database refuse one record, as a real refusal would (on both dialects)."""
    engine = make_engine(url)
    with engine.begin() as connection:
        if engine.dialect.name == "sqlite":
            connection.exec_driver_sql(
                f"CREATE TRIGGER refuse BEFORE INSERT ON proposal WHEN NEW.url LIKE '%{REFUSED}' "
                "BEGIN SELECT RAISE(ABORT, 'refused for the test'); END" if on else "DROP TRIGGER refuse")
        elif on:
            connection.exec_driver_sql(
                "CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
                f"IF NEW.url LIKE '%%{REFUSED}' THEN RAISE EXCEPTION 'refused for the test'; END IF; "
                "RETURN NEW; END $$")
            connection.exec_driver_sql("CREATE TRIGGER refuse BEFORE INSERT ON proposal "
                                       "FOR EACH ROW EXECUTE FUNCTION refuse()")
        else:
            connection.exec_driver_sql("DROP TRIGGER refuse ON proposal")
    engine.dispose()


def test_a_refused_record_is_reported_and_the_rest_archived(archive_url):
    pages = FIXTURES / "haidao" / "pages"
    _refuse(archive_url)
    result = proposals("import", str(pages), "--db", archive_url)
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        f"failed: {pages / REFUSED}: the archive refused the record of {page_url('haidao', REFUSED)}: "
        "refused for the test",
        "imported 13 pages: 12 new, 0 changed, 0 unchanged, 1 failed"]
    engine = make_engine(archive_url)
    with session_factory(engine)() as session:
        urls = set(session.scalars(select(Proposal.url)))
        assert len(urls) == 12 and page_url("haidao", REFUSED) not in urls
        assert session.scalar(select(func.count(Capture.id))) == 12
    again = proposals("import", str(pages), "--db", archive_url)
    assert again.returncode == 1 and "0 new, 0 changed, 12 unchanged, 1 failed" in again.stderr
    _refuse(archive_url, on=False)
    last = proposals("import", str(pages), "--db", archive_url)
    assert last.returncode == 0 and "1 new, 0 changed, 12 unchanged, 0 failed" in last.stderr
    engine.dispose()


def test_pages_with_nuls_are_every_one_archived_without_them(archive_url, tmp_path):
    """PostgreSQL refuses U+0000 in text: stray NULs in a page (body, a cell, the title) are cleaned
    by the parser, so every page of the import is archived, on both databases."""
    source = FIXTURES / "haidao" / "pages"
    pages = tmp_path / "pages"
    shutil.copytree(source, pages)
    hurt = sorted(pages.rglob("*.html"))
    for n, page in enumerate(hurt):
        body = page.read_bytes()
        at = [body.find(b"</h1>"), body.find("答复意见".encode()), body.find(b"</body>")][n % 3]
        assert at > 0, page
        page.write_bytes(body[:at] + b"\x00" + body[at:])
    result = proposals("import", str(pages), "--db", archive_url, "--url", "https://www.haidao.example/")
    assert result.returncode == 0, result.stderr
    assert len(hurt) == 13
    assert result.stderr.splitlines()[-1] == "imported 13 pages: 13 new, 0 changed, 0 unchanged, 0 failed"
    engine = make_engine(archive_url)
    with session_factory(engine)() as session:
        records = load_records(session, session.scalars(select(Proposal.id)).all())
    engine.dispose()
    assert len(records) == len(hurt)
    assert not [r["url"] for r in records.values() if "\x00" in json.dumps(r, ensure_ascii=False)]


# --- duplicates and sites --------------------------------------------------------------------------


def test_the_same_bytes_under_another_url_are_a_duplicate(db, tmp_path):
    page = (FIXTURES / "haidao" / "pages" / REFUSED).read_bytes()
    mirror = tmp_path / "mirror"
    mirror.mkdir()
    (mirror / "a.html").write_bytes(page)
    (mirror / "b.html").write_bytes(page)
    result = proposals("import", str(mirror), "--url", "https://www.haidao.example/", "--db", db)
    assert result.returncode == 0, result.stderr
    assert result.stderr.splitlines() == [
        f"{mirror / 'b.html'}: duplicate of https://www.haidao.example/a.html: the same bytes are archived there",
        "imported 2 pages: 1 new, 0 changed, 0 unchanged, 0 failed, 1 duplicate"]
    # in a later run, and under another host (another site)
    other = proposals("import", str(mirror / "b.html"), "--url", "https://copy.example/x.html", "--db", db)
    assert other.returncode == 0
    assert (f"{mirror / 'b.html'}: duplicate of https://www.haidao.example/a.html (site www.haidao.example)"
            in other.stderr)
    # the page under its own URL again is simply unchanged
    same = proposals("import", str(mirror / "a.html"), "--url", "https://www.haidao.example/a.html", "--db", db)
    assert "0 new, 0 changed, 1 unchanged, 0 failed" in same.stderr
    engine = make_engine(f"sqlite:///{db}")
    with session_factory(engine)() as session:
        assert list(session.scalars(select(Proposal.url))) == ["https://www.haidao.example/a.html"]
        assert session.scalar(select(func.count(Capture.id))) == 1


def test_imported_pages_land_in_the_registered_site_of_their_host(db, tmp_path):
    sites = tmp_path / "sites.toml"
    sites.write_text('[sites.haidao]\nname = "海岛县人民政府"\nplatform = "hanweb-jpaas"\n'
                     'columns = ["https://www.haidao.example/col/col1229395011/index.html"]\n', encoding="utf-8")
    result = subprocess.run([sys.executable, "-m", "cli", "import", str(FIXTURES / "haidao" / "pages"), "--db", db],
                            capture_output=True, text=True, check=False,
                            env={**os.environ, "PROPOSALS_SITES": str(sites)})
    assert result.returncode == 0, result.stderr
    engine = make_engine(f"sqlite:///{db}")
    with session_factory(engine)() as session:
        (site,) = session.scalars(select(Site)).all()
        assert (site.slug, site.name, site.base_url, site.platform) == (
            "haidao", "海岛县人民政府", "https://www.haidao.example", "hanweb-jpaas")
        assert session.scalar(select(func.count(Proposal.id)).where(Proposal.site_id == site.id)) == 13


def test_imported_pages_land_in_the_archived_site_of_their_host(db):
    from archive.ingest import ensure_site

    engine = make_engine(f"sqlite:///{db}")
    with session_factory(engine)() as session, session.begin():  # as a crawl of an unregistered column leaves it
        ensure_site(session, "hd", name="海岛", base_url="https://www.haidao.example")
    result = proposals("import", str(FIXTURES / "haidao" / "pages"), "--db", db)
    assert result.returncode == 0, result.stderr
    with session_factory(engine)() as session:
        assert list(session.scalars(select(Site.slug))) == ["hd"]


def test_reparse_of_an_unknown_site_is_one_line_and_exit_2(db):
    assert proposals("import", str(FIXTURES / "shengsi" / "pages"), "--db", db).returncode == 0
    result = proposals("reparse", "--site", "atlantis", "--db", db)
    assert result.returncode == 2
    assert result.stderr.strip() == "error: unknown site: atlantis (archived: www.shengsi.gov.cn)"


# --- hostile files ---------------------------------------------------------------------------------


def _fifo(path):
    os.mkfifo(path)
    return path


def _socket(path):
    import socket

    server = socket.socket(socket.AF_UNIX)
    server.bind(str(path))
    return path


@pytest.mark.parametrize(("make", "kind"), [(_fifo, "a FIFO"), (_socket, "a socket")])
@pytest.mark.parametrize("command", ["parse", "import"])
def test_what_is_not_a_regular_file_is_refused_without_waiting(tmp_path, db, make, kind, command):
    special = make(tmp_path / "page.html")
    args = ["parse", str(special)] if command == "parse" else ["import", str(special), "--db", db]
    result = subprocess.run([sys.executable, "-m", "cli", *args], capture_output=True, text=True, check=False,
                            timeout=30)  # a reader that opened the FIFO would wait here for a writer
    assert result.returncode == 1
    assert result.stderr.strip() == f"error: {special}: not a regular file ({kind})"


@pytest.mark.parametrize(("device", "kind"), [("/dev/zero", "a character device"), ("/dev/null", "a character device")])
def test_devices_are_refused(device, kind, db):
    for args in (["parse", device], ["import", device, "--db", db]):
        result = proposals(*args)
        assert result.returncode == 1 and result.stderr.strip() == f"error: {device}: not a regular file ({kind})"


def test_a_fifo_in_a_directory_is_reported_and_skipped(tmp_path, db):
    mirror = tmp_path / "mirror"
    shutil.copytree(FIXTURES / "shengsi" / "pages", mirror)
    fifo = _fifo(mirror / "art" / "stuck.html")
    result = subprocess.run([sys.executable, "-m", "cli", "import", str(mirror), "--db", db], capture_output=True,
                            text=True, check=False, timeout=30)
    assert result.returncode == 1
    assert result.stderr.splitlines() == [f"failed: {fifo}: not a regular file (a FIFO)",
                                          "imported 2 pages: 1 new, 0 changed, 0 unchanged, 1 failed"]


def test_files_over_the_size_limit_are_refused(tmp_path, db):
    big = tmp_path / "big.html"
    with big.open("wb") as file:  # sparse: 16 MB and one byte, never written out
        file.truncate(16 * 1024 * 1024 + 1)
    for args in (["parse", str(big)], ["import", str(big), "--db", db]):
        result = proposals(*args)
        assert result.returncode == 1
        assert result.stderr.strip() == (f"error: {big}: 16777217 bytes, over the 16 MB limit "
                                         "(--max-size or PROPOSALS_MAX_SIZE)")
    page = FIXTURES / "shengsi" / "pages" / "art/2022/8/18/art_1229123456_12345678.html"
    size = page.stat().st_size
    small = proposals("parse", str(page), "--max-size", "1KB")
    assert small.returncode == 1 and small.stderr.strip() == (
        f"error: {page}: {size} bytes, over the 1 KB limit (--max-size or PROPOSALS_MAX_SIZE)")
    env = subprocess.run([sys.executable, "-m", "cli", "import", str(FIXTURES / "shengsi" / "pages"), "--db", db],
                         capture_output=True, text=True, check=False, env={**os.environ, "PROPOSALS_MAX_SIZE": "2k"})
    assert env.returncode == 1
    assert env.stderr.splitlines() == [f"failed: {page}: {size} bytes, over the 2 KB limit "
                                       "(--max-size or PROPOSALS_MAX_SIZE)",
                                       "imported 1 pages: 0 new, 0 changed, 0 unchanged, 1 failed"]
    assert proposals("parse", str(page), "--max-size", "1MB").returncode == 0
    bad = proposals("parse", str(page), "--max-size", "lots")
    assert bad.returncode == 2 and "--max-size: not a size: 'lots'" in bad.stderr


def test_an_unreadable_file_is_one_line_and_exit_1(tmp_path, db):
    # /proc/self/mem is a regular file whose read fails (EIO), whoever runs the test (root too)
    for args in (["parse", "/proc/self/mem"], ["import", "/proc/self/mem", "--db", db]):
        result = proposals(*args)
        assert result.returncode == 1
        lines = result.stderr.strip().splitlines()
        assert len(lines) in (1, 2) and "/proc/self/mem: cannot read it: Input/output error" in lines[0]


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads files whatever their mode")
def test_a_file_without_read_permission(tmp_path):
    page = tmp_path / "page.html"
    page.write_bytes(b"<html></html>")
    page.chmod(0)
    result = proposals("parse", str(page))
    assert result.returncode == 1 and result.stderr.strip() == f"error: {page}: cannot read it: Permission denied"


def test_import_memory_stays_flat_in_pages(tmp_path):
    """Pages are read one at a time and written in batches bounded in bytes: the peak of Python's
    memory importing 80 pages of 1 MB is that of 40, and a fraction of what the pages hold."""
    import tracemalloc

    from archive.db import upgrade
    from archive.files import page_files
    from archive.importer import BATCH_BYTES, import_pages

    page = (FIXTURES / "haidao" / "pages" / REFUSED).read_bytes()

    def mirror(name: str, count: int):
        root = tmp_path / name
        root.mkdir()
        for n in range(count):  # 1 MB of padding each, half of it incompressible
            (root / f"p{n:03d}.html").write_bytes(page + b"<!-- " + os.urandom(512 * 1024).hex().encode() + b" -->")
        return root

    def peak(root) -> int:
        engine = make_engine(f"sqlite:///{root}.db")
        upgrade(engine)
        tracemalloc.start()
        summary = import_pages(engine, page_files([root], "https://www.haidao.example/"))
        used = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        engine.dispose()
        assert summary.counts["new"] == len(list(root.iterdir()))
        return used

    peak(mirror("warm", 3))  # the first statements compiled and cached
    half, full = peak(mirror("half", 40)), peak(mirror("full", 80))
    assert full < 1.25 * half, (half, full)
    assert full < 3 * BATCH_BYTES < 80 * 1024 * 1024


# --- the entry point -------------------------------------------------------------------------------


@pytest.mark.parametrize("args", [
    ["parse", str(FIXTURES / "shengsi" / "pages" / "art/2022/8/18/art_1229123456_12345678.html")],
    ["sites", "list"],
])
def test_a_closed_stdout_ends_quietly(args):
    process = subprocess.Popen([sys.executable, "-m", "cli", *args], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    process.stdout.close()  # the reader is gone (`| head -0`) before anything is written
    _out, err = process.communicate(timeout=60)
    assert process.returncode == 1
    assert err == ""


def test_a_closed_stdout_after_the_first_line(tmp_path, db):
    from archive.db import head_revision

    page = FIXTURES / "shengsi" / "pages" / "art/2022/8/18/art_1229123456_12345678.html"
    assert proposals("import", str(page), "--db", db).returncode == 0
    result = subprocess.run(f"{sys.executable} -m cli parse {page} | head -1; "
                            f"{sys.executable} -m cli db current --db {db} | head -c 3",
                            shell=True, capture_output=True, text=True, check=False, timeout=60)
    assert result.stdout == "{\n" + head_revision()[:3]
    assert result.stderr == ""


@pytest.mark.parametrize(("args", "message"), [
    (["import"], "Missing argument 'paths'. (see proposals import --help)"),
    (["nosuch"], "No such command 'nosuch'"),
    (["import", str(FIXTURES / "shengsi" / "pages"), "--max-size", "0"], "a size limit must be positive"),
    (["db", "current", "--db", "postgresql://u@h:port/db"], "not a database URL"),
])
def test_usage_errors_are_one_line_and_exit_2(db, args, message):
    result = proposals(*args)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and message in lines[0], result.stderr
