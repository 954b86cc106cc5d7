"""Ingest: whole records, idempotent, one revision per changed field, nothing deleted."""

from __future__ import annotations

import datetime as dt
import json

from conftest import archive_snapshot, expected_record, fixture_items, page_bytes, page_url
from sqlalchemy import func, select

from archive.db import session_factory
from archive.ingest import CaptureIn, ensure_site, ingest, ingest_batch, known_captures
from archive.models import Capture, Organization, Person, Proposal, ProposalSponsor, ProposalUnit, Revision
from archive.records import load_records
from crawler.parsers import parse_detail

T0 = dt.datetime(2026, 11, 1, 2, 0, tzinfo=dt.UTC)
T1 = dt.datetime(2026, 11, 2, 2, 0, tzinfo=dt.UTC)
PAGE = "art/2023/9/8/art_1229395011_4090552.html"  # 落实情况 落实中


def test_records_read_back_exactly_as_parsed(engine):
    with session_factory(engine)() as session, session.begin():
        items = fixture_items(session, T0)
        assert ingest_batch(session, items) == ["new"] * len(items)
    with session_factory(engine)() as session:
        ids = dict(session.execute(select(Proposal.url, Proposal.id)).all())
        stored = load_records(session, ids.values())
    for record, capture in items:
        assert stored[ids[capture.url]] == record.to_dict()


def test_importing_twice_gives_the_same_archive(engine):
    with session_factory(engine)() as session, session.begin():
        ingest_batch(session, fixture_items(session, T0))
    before = archive_snapshot(engine)
    with session_factory(engine)() as session, session.begin():
        outcomes = ingest_batch(session, fixture_items(session, T1))
    assert set(outcomes) == {"unchanged"}
    assert archive_snapshot(engine) == before
    with session_factory(engine)() as session:
        assert session.scalar(select(func.count(Capture.id))) == 20
        assert session.scalar(select(func.count(Revision.id))) == 0
        assert session.scalar(select(func.max(Proposal.last_seen))) == T1
        assert session.scalar(select(func.max(Proposal.last_changed))) == T0


def test_a_changed_status_is_one_revision_and_moves_last_changed(engine):
    body = page_bytes("haidao", PAGE)
    later = body.decode().replace('<td class="value">落实中</td>', '<td class="value">已落实</td>').encode()
    url = page_url("haidao", PAGE)
    with session_factory(engine)() as session, session.begin():
        site = ensure_site(session, "haidao").id
        assert ingest(session, parse_detail(body, url), CaptureIn(site, url, body, T0)) == "new"
    with session_factory(engine)() as session, session.begin():
        capture = CaptureIn(site, url, later, T1)
        assert ingest(session, parse_detail(later, url), capture) == "changed"
    with session_factory(engine)() as session:
        revisions = session.scalars(select(Revision)).all()
        assert [(r.field, json.loads(r.old_value), json.loads(r.new_value)) for r in revisions] == [
            ("implementation_status", "落实中", "已落实")]
        proposal = session.scalars(select(Proposal)).one()
        assert (proposal.first_seen, proposal.last_changed, proposal.last_seen) == (T0, T1, T1)
        assert revisions[0].changed_at == T1
        assert revisions[0].capture_id == proposal.capture_id
        assert session.get(Capture, revisions[0].capture_id).sha256 == capture.sha256
        assert session.scalar(select(func.count(Capture.id))) == 2  # the old bytes are kept
        assert load_records(session, [proposal.id])[proposal.id]["implementation_status"] == "已落实"


def test_changed_sponsors_and_reply_update_the_children(engine):
    body = page_bytes("haidao", PAGE)
    url = page_url("haidao", PAGE)
    later = (body.decode().replace("李海军、张　敏、", "李海军、")
             .replace("2023年7月12日", "2023年7月13日").encode())
    with session_factory(engine)() as session, session.begin():
        site = ensure_site(session, "haidao").id
        ingest(session, parse_detail(body, url), CaptureIn(site, url, body, T0))
    with session_factory(engine)() as session, session.begin():
        assert ingest(session, parse_detail(later, url), CaptureIn(site, url, later, T1)) == "changed"
    with session_factory(engine)() as session:
        fields = sorted(session.scalars(select(Revision.field)))
        assert fields == ["co_sponsors", "reply.date", "reply.text"]
        record = load_records(session, session.scalars(select(Proposal.id)).all())
        (stored,) = record.values()
        assert stored["co_sponsors"] == ["李海军", "陈国华", "黄晓丽", "刘洋"]
        assert stored["reply"]["date"] == "2023-07-13"
        # 张敏 no longer sponsors anything, but people are never deleted
        assert session.scalar(select(func.count(Person.id)).where(Person.name == "张敏")) == 1
        assert session.scalar(select(func.count()).select_from(ProposalSponsor)) == 5


def test_one_person_and_one_unit_per_name_within_a_site(engine):
    with session_factory(engine)() as session, session.begin():
        ingest_batch(session, fixture_items(session, T0))
    with session_factory(engine)() as session:
        duplicate_people = session.execute(select(Person.site_id, Person.name).group_by(Person.site_id, Person.name)
                                           .having(func.count() > 1)).all()
        assert duplicate_people == []
        # 县财政局 co-handles several haidao records: one organization row
        assert session.scalar(select(func.count(Organization.id)).where(Organization.name == "县财政局")) == 1
        assert session.scalar(select(func.count()).select_from(ProposalUnit).join(Organization).where(
            Organization.name == "县财政局")) == 4


def test_the_same_page_twice_in_one_batch(engine):
    body = page_bytes("haidao", PAGE)
    url = page_url("haidao", PAGE)
    later = body.decode().replace('<td class="value">落实中</td>', '<td class="value">已落实</td>').encode()
    with session_factory(engine)() as session, session.begin():
        site = ensure_site(session, "haidao").id
        outcomes = ingest_batch(session, [(parse_detail(body, url), CaptureIn(site, url, body, T0)),
                                          (parse_detail(later, url), CaptureIn(site, url, later, T1))])
    assert outcomes == ["new", "changed"]


def test_known_captures_are_recognised_by_their_bytes(engine):
    with session_factory(engine)() as session, session.begin():
        items = fixture_items(session, T0)
        ingest_batch(session, items[:5])
        keys = [capture.key for _, capture in items]
        assert known_captures(session, keys) == {capture.key for _, capture in items[:5]}


def test_expected_records_survive_the_round_trip_field_for_field(engine):
    with session_factory(engine)() as session, session.begin():
        ingest_batch(session, fixture_items(session, T0))
    with session_factory(engine)() as session:
        stored = load_records(session, session.scalars(select(Proposal.id)).all())
    by_url = {record["url"]: record for record in stored.values()}
    assert by_url[page_url("shengsi", "art/2022/8/18/art_1229123456_12345678.html")] == expected_record(
        "shengsi", "art/2022/8/18/art_1229123456_12345678.html")


def test_queries_run_while_a_crawl_writes(tmp_path):
    """SQLite in WAL mode: a reader is not blocked by an open write transaction."""
    from archive.db import make_engine, upgrade

    url = f"sqlite:///{tmp_path / 'wal.db'}"
    writer_engine, reader_engine = make_engine(url), make_engine(url, read_only=True)
    upgrade(writer_engine)
    with session_factory(writer_engine)() as session, session.begin():
        ingest_batch(session, fixture_items(session, T0))
    with session_factory(writer_engine)() as writer, writer.begin():
        writer.execute(Proposal.__table__.update().values(title="改写中"))
        writer.flush()
        with reader_engine.connect() as reader:  # would raise "database is locked" without WAL
            titles = reader.execute(select(Proposal.title)).scalars().all()
        assert len(titles) == 20 and "改写中" not in titles
        writer.rollback()
    writer_engine.dispose()
    reader_engine.dispose()
