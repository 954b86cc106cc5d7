"""Replies that are only attached files, end to end: `proposals crawl` fetches, keeps and reads them.

A replica site (tests/replica_files.py) publishes records whose 答复意见 is `见附件`, empty, or only
the links, with the letter as a PDF behind downfile.jsp, a DOCX behind a JPaaS download gateway
that redirects to another host (the site's allowed_hosts names it), a DOC and a WPS read by a
stub converter, and the files that cannot give a letter: a scan, a file over the size limit, a
corrupt PDF. Every name, unit and number is invented.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from crawlkit import Crawl
from replica_files import (
    Attached,
    FileHost,
    FileRecord,
    FileReplica,
    corrupt_pdf_bytes,
    docx_bytes,
    fake_doc_bytes,
    letter,
    oversized_bytes,
    pdf_bytes,
    scanned_pdf_bytes,
)
from sqlalchemy import select, update

from archive.models import AttachmentFile, Capture

HERE = Path(__file__).resolve().parent
LIMIT = {"PROPOSALS_ATTACHMENT_MAX_SIZE": "64KB"}
CONVERTER = f"{sys.executable} {HERE / 'stub_converter.py'}"

L_PDF = letter(31, "岑雨桐", "海岛县海洋与渔业局", "珊瑚苗圃")
L_DOCX = letter(32, "费思远", "海岛县交通运输局", "潮汐渡口", month=9, day=3)
L_LINKS = letter(33, "甘若溪", "海岛县文化和广电旅游体育局", "灯塔书屋", month=9, day=8)
L_DOC = letter(34, "邝明哲", "海岛县住房和城乡建设局", "渔港驿站", month=9, day=12)
L_WPS = letter(35, "栾嘉禾", "海岛县卫生健康局", "海岛巡诊", month=9, day=15)


def _records() -> list[FileRecord]:
    return [
        FileRecord(202331, "关于建设珊瑚苗圃的建议", "岑雨桐", "<p>见附件</p>",
                   [Attached("202331号提案答复函.pdf", pdf_bytes(L_PDF.lines()), "pdf")], L_PDF),
        FileRecord(202332, "关于改造潮汐渡口的建议", "费思远", "",
                   [Attached("202332号提案答复函（可编辑版）", docx_bytes(L_DOCX.lines()), "docx", route="gateway")],
                   L_DOCX),  # a gateway link, its text no file name
        FileRecord(202333, "关于开设灯塔书屋的建议", "甘若溪", "{links}",
                   [Attached("202333号提案答复函.pdf", pdf_bytes(L_LINKS.lines()), "pdf", route="path")], L_LINKS),
        FileRecord(202334, "关于打造渔港驿站的建议", "邝明哲", "<p>详见附件</p>",
                   [Attached("202334号提案答复函.doc", fake_doc_bytes(L_DOC.lines()), "doc")], L_DOC),
        FileRecord(202335, "关于开展海岛巡诊的建议", "栾嘉禾", "<p>见附件</p>",
                   [Attached("202335号提案答复函（可编辑版）.wps", fake_doc_bytes(L_WPS.lines()), "wps")], L_WPS),
        FileRecord(202336, "关于扩建渔民夜校的建议", "莫知秋", "<p>见附件</p>",
                   [Attached("202336号提案答复函.pdf", scanned_pdf_bytes(), "pdf")]),
        FileRecord(202337, "关于修缮海塘步道的建议", "宁远舟", "<p>见附件</p>",
                   [Attached("202337号提案答复函.pdf", oversized_bytes(100_000), "pdf")]),
        FileRecord(202338, "关于增设候船雨棚的建议", "欧阳晴", "<p>见附件</p>",
                   [Attached("202338号提案答复函.pdf", corrupt_pdf_bytes(), "pdf")]),
    ]


@pytest.fixture
def site(monkeypatch):
    monkeypatch.setenv("PROPOSALS_DOC_CONVERTER", CONVERTER)
    with FileHost() as host, FileReplica(_records(), host) as replica:
        yield replica


def _crawl(tmp_path, site) -> Crawl:
    return Crawl(tmp_path, {"haidao": site}, allowed_hosts={"haidao": [site.host.netloc]})


def _proposals(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "cli", *args], capture_output=True, text=True, check=False,
                          timeout=120)


def _by_number(crawl: Crawl) -> dict[str, dict]:
    return {record["number"]: record for record in crawl.records().values()}


def test_replies_that_are_only_attachments_are_read_from_them(tmp_path, site):
    crawl = _crawl(tmp_path, site)
    result = crawl.run(settings=LIMIT)
    assert result.returncode == 0, result.stderr
    records = _by_number(crawl)
    assert len(records) == 8  # every record archived, the unreadable files' too
    for record_spec in site.file_records:
        got = records[str(record_spec.number)]
        want = record_spec.letter
        if want is None:
            continue
        reply = got["reply"]
        assert (reply["title"], reply["doc_number"], reply["addressee"], reply["signer"], reply["date"]) == (
            want.title, want.doc_number, want.addressee, want.signer, want.date), record_spec.number
        assert reply["source"] == "attachment"
        assert reply["attachment_url"] == site.link(record_spec.files[0])
        assert reply["attachment_url"] == got["attachments"][0]["url"]
        assert want.word in reply["text"]
        assert got["session"] == "十一届二次"
    # the files that hold no readable letter leave the page's reply as it was
    for number in ("202336", "202337", "202338"):
        assert records[number]["reply"] == {"text": "见附件", "title": None, "doc_number": None, "addressee": None,
                                            "signer": None, "date": None, "source": "page", "attachment_url": None}
    # reported, by host, in words
    assert "attachments: 7 fetched, 0 not modified, 5 read, 2 not read; 1 over the size limit" in result.stderr
    assert "5 replies read from them" in result.stderr
    assert "over the size limit (64 KB)" in result.stderr
    assert "scanned: no text layer" in result.stderr
    assert "unreadable: not a readable PDF file" in result.stderr
    # words only in the attached letters are found by a text query
    for record_spec in site.file_records:
        if record_spec.letter is not None:
            found = _proposals("query", record_spec.letter.word, "--format", "json", "--db", str(crawl.db))
            assert found.returncode == 0, found.stderr
            assert [r["number"] for r in json.loads(found.stdout)] == [str(record_spec.number)]


def test_each_file_is_kept_as_a_capture_deduplicated_by_content(tmp_path, site):
    crawl = _crawl(tmp_path, site)
    assert crawl.run(settings=LIMIT).returncode == 0
    engine = crawl.engine()
    with engine.connect() as connection:
        files = {row.url: row for row in connection.execute(select(AttachmentFile))}
        captures = {row.id: row for row in connection.execute(select(Capture).where(Capture.outcome == "attachment"))}
    engine.dispose()
    statuses = sorted(f.status for f in files.values())
    assert statuses == ["read"] * 5 + ["scanned", "too-large", "unreadable"]
    pdf = files[site.link(site.file_records[0].files[0])]
    capture = captures[pdf.capture_id]
    assert (capture.content_type, capture.size) == ("application/pdf", len(site.file_records[0].files[0].body))
    assert len(captures) == 7  # the oversized file was never downloaded
    assert files[site.link(site.file_records[6].files[0])].capture_id is None


def test_a_second_crawl_fetches_no_unchanged_attachment_in_full(tmp_path, site):
    crawl = _crawl(tmp_path, site)
    assert crawl.run(settings=LIMIT).returncode == 0
    first = _by_number(crawl)
    site.clear_log()
    site.host.log.clear()
    again = crawl.run("--full", settings=LIMIT)  # every page fetched again, so every file asked again
    assert again.returncode == 0, again.stderr
    asked = site.file_requests()
    fresh = [r for r in asked if r.status == 200]
    assert not fresh, [r.path for r in fresh]
    assert sum(r.status == 304 for r in asked) == 7 and all(r.conditional for r in asked if r.status == 304)
    assert _by_number(crawl) == first
    assert "attachments: 0 fetched, 7 not modified" in again.stderr


def test_no_attachments_then_attachments_fetch_catches_up(tmp_path, site):
    crawl = _crawl(tmp_path, site)
    assert crawl.run("--no-attachments", settings=LIMIT).returncode == 0
    assert not site.file_requests()
    assert _by_number(crawl)["202331"]["reply"]["source"] == "page"
    sets = [item for name, value in ({"DOWNLOAD_DELAY": "0", "AUTOTHROTTLE_ENABLED": "False"} | LIMIT).items()
            for item in ("--set", f"{name}={value}")]
    fetched = _proposals("attachments", "fetch", "--site", "haidao", "--sites", str(crawl.sites),
                         "--db", str(crawl.db), *sets)
    assert fetched.returncode == 1, fetched.stderr  # the oversized file could not be fetched
    assert "attachments: 7 fetched" in fetched.stderr and "5 replies read from them" in fetched.stderr
    records = _by_number(crawl)
    assert records["202331"]["reply"]["signer"] == L_PDF.signer
    assert records["202331"]["reply"]["source"] == "attachment"
    listed = _proposals("attachments", "list", str(_id_of(crawl, "202336")), "--format", "json", "--db", str(crawl.db))
    assert listed.returncode == 0, listed.stderr
    [scan] = json.loads(listed.stdout)
    assert (scan["status"], scan["format"], scan["name"]) == ("scanned", "pdf", "202336号提案答复函.pdf")
    table = _proposals("attachments", "list", str(_id_of(crawl, "202337")), "--db", str(crawl.db))
    assert "too-large" in table.stdout and "over the size limit" in table.stdout


def test_an_expired_gateway_link_is_read_again_from_its_page(tmp_path, site):
    crawl = _crawl(tmp_path, site)
    assert crawl.run(settings=LIMIT).returncode == 0
    docx = site.file_records[1].files[0]
    stale = site.link(docx)
    site.expire(docx)  # the gateway now refuses the archived link (410); the page prints a new one
    sets = ["--set", "DOWNLOAD_DELAY=0", "--set", "AUTOTHROTTLE_ENABLED=False"]
    fetched = _proposals("attachments", "fetch", "--again", "--site", "haidao", "--sites", str(crawl.sites),
                         "--db", str(crawl.db), *sets, "--set", "PROPOSALS_ATTACHMENT_MAX_SIZE=64KB")
    assert "HTTP 410" in fetched.stderr
    reply = _by_number(crawl)["202332"]["reply"]
    assert reply["attachment_url"] == site.link(docx) != stale
    assert (reply["signer"], reply["source"]) == (L_DOCX.signer, "attachment")


def test_reparse_reads_the_kept_bytes_again(tmp_path, site):
    crawl = _crawl(tmp_path, site)
    assert crawl.run(settings=LIMIT).returncode == 0
    engine = crawl.engine()
    with engine.begin() as connection:  # as if an older reader had read nothing of them
        connection.execute(update(AttachmentFile).values(text=None, status="not-read"))
    engine.dispose()
    result = _proposals("reparse", "--db", str(crawl.db))
    assert result.returncode == 0, result.stderr
    records = _by_number(crawl)
    assert records["202334"]["reply"]["date"] == L_DOC.date
    assert records["202331"]["reply"]["source"] == "attachment"


def _id_of(crawl: Crawl, number: str) -> int:
    found = _proposals("query", "--format", "json", "--db", str(crawl.db), "--limit", "0")
    return next(r["id"] for r in json.loads(found.stdout) if r["number"] == number)


def test_a_blocked_or_failing_file_is_reported_and_fails_nothing_else(tmp_path, site):
    from replica import Fault

    blocked, failing = site.file_records[2].files[0], site.file_records[0].files[0]
    site.inject(site.file_key(blocked), Fault("ruishu", times=None))
    site.inject("/module/download/downfile.jsp", Fault("status", times=None, status=503))  # every downfile link
    crawl = _crawl(tmp_path, site)
    result = crawl.run(settings=LIMIT | {"RETRY_TIMES": "1"})  # the block backoff as shipped
    assert result.returncode == 0, result.stderr  # the pages are all well: the files fail nothing
    assert "1 blocked, 6 failed; 1 replies read from them" in result.stderr, result.stderr
    assert "blocked by a Ruishu challenge (HTTP 412" in result.stderr
    assert "HTTP 503 (server error)" in result.stderr
    records = _by_number(crawl)
    assert len(records) == 8
    assert records["202331"]["reply"]["source"] == "page"
    assert records["202331"]["attachments"][0]["name"] == failing.name
    assert records["202333"]["reply"] is None  # its cell held only the link
    assert records["202332"]["reply"]["source"] == "attachment"  # the gateway's file came through
