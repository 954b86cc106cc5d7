"""Ingest: whole records, idempotent, one revision per changed field, nothing deleted."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json

import pytest
from conftest import archive_snapshot, expected_record, fixture_items, fixture_pages, page_bytes, page_url
from sqlalchemy import func, select

from archive.db import session_factory
from archive.ingest import CaptureIn, Failed, archive_failures, ensure_site, ingest, ingest_batch, known_captures
from archive.models import Capture, Organization, Person, Proposal, ProposalSponsor, ProposalUnit, Revision
from archive.records import load_records
from crawler.parsers import parse_detail

T0 = dt.datetime(2026, 11, 1, 2, 0, tzinfo=dt.UTC)
T1 = dt.datetime(2026, 11, 2, 2, 0, tzinfo=dt.UTC)
PAGE = "art/2023/9/8/art_1229395011_4090552.html"  # 落实情况 落实中


def _status_change() -> tuple[bytes, str, bytes]:
    """PAGE's bytes, URL, and its bytes once its 落实情况 says 已落实."""
    body = page_bytes("haidao", PAGE)
    return body, page_url("haidao", PAGE), body.decode().replace('<td class="value">落实中</td>',
                                                                 '<td class="value">已落实</td>').encode()


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
        assert session.scalar(select(func.count(Capture.id))) == len(fixture_pages())
        assert session.scalar(select(func.count(Revision.id))) == 0
        assert session.scalar(select(func.max(Proposal.last_seen))) == T1
        assert session.scalar(select(func.max(Proposal.last_changed))) == T0


def test_a_changed_status_is_one_revision_and_moves_last_changed(engine):
    body, url, later = _status_change()
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


def test_the_archive_keys_read_back_as_utc_iso_text(engine):
    body, url, later = _status_change()
    # microseconds are cut, a zone other than UTC is turned into UTC
    first = T0.replace(microsecond=654321)
    then = (T1 + dt.timedelta(seconds=7)).astimezone(dt.timezone(dt.timedelta(hours=8)))
    with session_factory(engine)() as session, session.begin():
        site = ensure_site(session, "haidao").id
        ingest(session, parse_detail(body, url), CaptureIn(site, url, body, first))
    with session_factory(engine)() as session, session.begin():
        ingest(session, parse_detail(later, url), CaptureIn(site, url, later, then))
    with session_factory(engine)() as session:
        [record] = load_records(session, session.scalars(select(Proposal.id)).all(), with_meta=True).values()
    assert list(record)[:5] == ["id", "site", "first_seen", "last_seen", "last_changed"]
    assert (record["site"], record["first_seen"], record["last_seen"], record["last_changed"]) == (
        "haidao", "2026-11-01T02:00:00Z", "2026-11-02T02:00:07Z", "2026-11-02T02:00:07Z")
    assert record["disclosure"]["generated_on"] == expected_record("haidao", PAGE)["disclosure"]["generated_on"]
    assert record["reply"]["date"] == expected_record("haidao", PAGE)["reply"]["date"]


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
    body, url, later = _status_change()
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
        assert len(titles) == len(fixture_pages()) and "改写中" not in titles
        writer.rollback()
    writer_engine.dispose()
    reader_engine.dispose()


# --- one bad record never sinks its batch ----------------------------------------------------------


def _count(session, model) -> int:
    return session.scalar(select(func.count()).select_from(model))


def test_a_record_the_database_refuses_fails_alone(engine):
    with session_factory(engine)() as session, session.begin():
        items = fixture_items(session, T0)
        bad_record, bad_capture = items[3]
        items[3] = (dataclasses.replace(bad_record, kind="petition"), bad_capture)  # the CHECK on kind refuses it
        outcomes = ingest_batch(session, items)
    assert outcomes[:3] + outcomes[4:] == ["new"] * (len(items) - 1)
    failed = outcomes[3]
    assert isinstance(failed, Failed) and failed == "failed"
    assert "check constraint" in failed.reason.lower() and "kind" in failed.reason
    with session_factory(engine)() as session:
        assert _count(session, Proposal) == len(items) - 1
        assert _count(session, Capture) == len(items) - 1  # nothing of the refused record is left
        assert session.scalar(select(Proposal.id).where(Proposal.url == bad_capture.url)) is None
        stored = load_records(session, session.scalars(select(Proposal.id)).all())
    by_url = {record["url"]: record for record in stored.values()}
    for index, (record, capture) in enumerate(items):
        if index != 3:
            assert by_url[capture.url] == record.to_dict()


def test_values_postgresql_refuses_fail_their_record_only(engine):
    """A NUL character and a number longer than its column: PostgreSQL refuses both, SQLite keeps them."""
    postgres = engine.dialect.name == "postgresql"
    with session_factory(engine)() as session, session.begin():
        items = fixture_items(session, T0)
        nul_record, nul_capture = items[0]
        items[0] = (dataclasses.replace(nul_record, title=nul_record.title + "\x00"), nul_capture)
        long_record, long_capture = items[5]
        items[5] = (dataclasses.replace(long_record, number="9" * 41), long_capture)
        outcomes = ingest_batch(session, items)
    if postgres:
        assert isinstance(outcomes[0], Failed) and "NUL" in outcomes[0].reason
        assert isinstance(outcomes[5], Failed) and "value too long for type character varying(40)" in outcomes[5].reason
        assert [o for i, o in enumerate(outcomes) if i not in (0, 5)] == ["new"] * (len(items) - 2)
    else:
        assert outcomes == ["new"] * len(items)
    with session_factory(engine)() as session:
        assert _count(session, Proposal) == len(items) - (2 if postgres else 0)
        titles = set(session.scalars(select(Proposal.title)))
    assert (nul_record.title + "\x00" in titles) is not postgres


def test_a_refused_change_keeps_the_archived_record(engine):
    body, url, later = _status_change()
    with session_factory(engine)() as session, session.begin():
        site = ensure_site(session, "haidao").id
        assert ingest(session, parse_detail(body, url), CaptureIn(site, url, body, T0)) == "new"
    before = archive_snapshot(engine)
    with session_factory(engine)() as session, session.begin():
        refused = dataclasses.replace(parse_detail(later, url), adoption_class="Z")
        outcome = ingest(session, refused, CaptureIn(site, url, later, T1))
    assert isinstance(outcome, Failed) and "adoption_class" in outcome.reason
    assert archive_snapshot(engine) == before


def test_failed_is_the_outcome_failed_with_a_reason():
    import pickle
    from collections import Counter

    outcome = Failed("value too long for type character varying(40)")
    assert outcome == "failed" and str(outcome) == "failed" and f"{outcome}" == "failed"
    assert Counter(["new", outcome, Failed("other"), "unchanged"]) == {"new": 1, "failed": 2, "unchanged": 1}
    assert outcome.reason == "value too long for type character varying(40)"
    assert repr(outcome) == "Failed('value too long for type character varying(40)')"
    assert pickle.loads(pickle.dumps(outcome)).reason == outcome.reason
    match outcome:
        case Failed(reason):
            assert reason.startswith("value too long")
    with pytest.raises(AttributeError):
        outcome.reason = "changed"


def test_pages_kept_as_failures_are_isolated_too(engine):
    postgres = engine.dialect.name == "postgresql"
    with session_factory(engine)() as session, session.begin():
        site = ensure_site(session, "haidao").id
        failures = [(CaptureIn(site, f"https://www.haidao.example/blocked/{n}.html", b"<html>busy</html>" + bytes([n]),
                               T0), "blocked", "访问过于频繁" + ("\x00" if n == 1 else "")) for n in range(3)]
        refused = archive_failures(session, failures)
    assert [(capture.url, outcome) for capture, outcome in refused] == (
        [("https://www.haidao.example/blocked/1.html", "failed")] if postgres else [])
    with session_factory(engine)() as session:
        assert _count(session, Capture) == (2 if postgres else 3)


# --- two writers at once ---------------------------------------------------------------------------


def test_two_writers_racing_for_the_same_new_rows_both_succeed(archive_url):
    """Writer B looks for sites, people, units, captures and records that writer A has inserted
    but not committed: on SQLite B waits for A's lock; on PostgreSQL its inserts wait for A's rows,
    then find them. Either way B succeeds, and nothing is archived twice."""
    import threading
    import time

    from archive.db import make_engine

    first, second = make_engine(archive_url), make_engine(archive_url)
    with session_factory(first)() as session, session.begin():
        count = len(fixture_items(session, T0))  # the sites exist before the race
    session_a = session_factory(first)()
    session_a.begin()
    assert ingest_batch(session_a, fixture_items(session_a, T0)) == ["new"] * count
    result: dict = {}

    def writer_b() -> None:
        try:
            with session_factory(second)() as session, session.begin():
                items = [(record, CaptureIn(capture.site_id, capture.url, capture.body + b"<!-- b -->", T1))
                         for record, capture in fixture_items(session, T1)]
                result["outcomes"] = ingest_batch(session, items)
        except Exception as error:  # reported by the assertion below
            result["error"] = error

    thread = threading.Thread(target=writer_b)
    thread.start()
    time.sleep(1)
    assert thread.is_alive(), result  # waiting for A, not failed
    session_a.commit()
    session_a.close()
    thread.join(60)
    assert "error" not in result, result
    assert result["outcomes"] == ["unchanged"] * count
    with session_factory(first)() as session:
        assert _count(session, Proposal) == count
        assert _count(session, Capture) == 2 * count  # B's bytes differ: a capture of its own for each page
        assert session.execute(select(Person.site_id, Person.name).group_by(Person.site_id, Person.name)
                               .having(func.count() > 1)).all() == []
        assert session.execute(select(Organization.site_id, Organization.name)
                               .group_by(Organization.site_id, Organization.name).having(func.count() > 1)).all() == []
        assert session.scalar(select(func.count(Revision.id))) == 0
    first.dispose()
    second.dispose()
