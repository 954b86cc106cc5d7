"""`proposals demo`: the bundled demo crawled offline by the real crawler, into a fresh archive."""

from __future__ import annotations

import json
import socket
import subprocess
from pathlib import Path

from crawlkit import guard_env, guarded
from sqlalchemy import select

from archive.db import make_engine, session_factory
from archive.models import Proposal
from archive.records import load_records
from replica import demo


def free_ports(count: int = 3) -> int:
    """The first of `count` consecutive free loopback ports."""
    for _ in range(50):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            first = probe.getsockname()[1]
        if first + count > 65535:
            continue
        taken = []
        try:
            for port in range(first, first + count):
                sock = socket.socket()
                taken.append(sock)
                sock.bind(("127.0.0.1", port))
            return first
        except OSError:
            continue
        finally:
            for sock in taken:
                sock.close()
    raise RuntimeError("no three consecutive free ports")


def run_demo(tmp: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(guarded(["demo", *args], tmp / "offloopback.txt"), cwd=tmp, capture_output=True,
                          text=True, timeout=120, check=False, env=guard_env(tmp))


def archived(db: Path) -> dict[str, dict]:
    engine = make_engine(f"sqlite:///{db}")
    with session_factory(engine)() as session:
        records = load_records(session, session.scalars(select(Proposal.id)).all(), with_meta=True)
    engine.dispose()
    return {record["url"].split("/", 3)[3]: record for record in records.values()}


def test_the_demo_crawls_every_demo_record_offline_and_again_incrementally(tmp_path):
    port = free_ports()
    first = run_demo(tmp_path, "--port", str(port))
    assert first.returncode == 0, first.stderr
    assert not (tmp_path / "offloopback.txt").exists() or not (tmp_path / "offloopback.txt").read_text()
    assert "15 listed, 15 fetched" in first.stderr and "15 new" in first.stderr and "0 failed" in first.stderr
    assert "proposals query 养老 --db demo.db" in first.stderr

    records = archived(tmp_path / "demo.db")
    assert len(records) == 15
    assert {r["site"] for r in records.values()} == {"qingxi", "shimen", "yunling"}
    pension = records["art/2024/9/18/art_1229600011_b81c2e.html"]
    assert (pension["number"], pension["kind"], pension["session"]) == ("0031", "cppcc_proposal", "十一届三次")
    assert pension["lead_sponsors"] == ["周雅琴", "孙立明"] and pension["co_units"] == ["县财政局", "县卫生健康局"]
    assert (pension["adoption_class"], pension["implementation_status"]) == ("A", "已落实")
    assert (pension["reply"]["doc_number"], pension["reply"]["date"]) == ("青民函〔2024〕27号", "2024-08-26")
    # the mixed jpage column: the reply's title tells a suggestion from a proposal
    mixed = records["art/2024/7/2/art_40733_sm2405.html"]
    assert (mixed["kind"], mixed["reply"]["date"]) == ("npc_suggestion", "2024-06-14")
    # a TRS letter page: the letter is the record
    letter = records["xxgk/jytabl/zxwyta/202408/t20240827_3618802.shtml"]
    assert (letter["number"], letter["title"]) == ("9", "关于推进县域医共体建设的提案")
    assert letter["lead_sponsors"] == ["董明", "柳芳"] and letter["reply"]["signer"] == "云岭县卫生健康局"

    again = run_demo(tmp_path, "--port", str(port))
    assert again.returncode == 0, again.stderr
    assert "0 fetched" in again.stderr and "0 new" in again.stderr
    assert len(archived(tmp_path / "demo.db")) == 15


def test_every_demo_page_parses_to_what_its_data_says(tmp_path):
    """Each demo record's page, parsed, gives back the sponsors, units and letter it was built from."""
    from crawler.parsers import parse_detail

    folders = demo.build(tmp_path)
    data = {record["id"]: record for site in demo.sites() for column in site["columns"] for record in column["records"]}
    seen = 0
    for folder in folders.values():
        site = json.loads((folder / "site.json").read_text(encoding="utf-8"))
        for column in site["columns"]:
            for listed in column["records"]:
                source = data[listed["path"].rsplit("_", 1)[1].split(".")[0]]
                got = parse_detail((folder / "pages" / listed["path"].lstrip("/")).read_bytes(),
                                   site["base_url"] + listed["path"]).to_dict()
                reply = source.get("reply") or source
                assert got["reply"]["title"] == reply["title"], listed["path"]
                assert got["reply"]["signer"] == reply["signer"], listed["path"]
                if "lead" in source:
                    assert got["lead_units"] == [source["lead"]], listed["path"]
                    assert got["reply"]["doc_number"] == source["reply"]["doc_number"], listed["path"]
                    assert got["adoption_label"] == source["adoption"], listed["path"]
                else:
                    assert got["reply"]["addressee"] == source["addressee"], listed["path"]
                seen += 1
    assert seen == 15


def test_the_demo_refuses_a_database_url(tmp_path):
    result = run_demo(tmp_path, "--db", "postgresql://localhost/x")
    assert result.returncode == 2
    assert result.stderr.strip() == "error: the demo writes a SQLite file: give --db a file path"
