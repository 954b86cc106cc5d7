"""Full-text search for Chinese: trigram FTS5 on SQLite, pg_trgm on PostgreSQL, short terms by scan."""

from __future__ import annotations

import datetime as dt

import pytest
from conftest import fixture_items, page_bytes, page_url
from sqlalchemy import select, text

from archive.db import session_factory
from archive.ingest import CaptureIn, ensure_site, ingest, ingest_batch
from archive.models import Proposal
from archive.search import search_ids, terms
from crawler.parsers import parse_detail

T0 = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)


@pytest.fixture
def filled(engine):
    with session_factory(engine)() as session, session.begin():
        ingest_batch(session, fixture_items(session, T0))
    return engine


def _titles(engine, query: str) -> set[str]:
    with session_factory(engine)() as session:
        ids = search_ids(session, query)
        return set(session.scalars(select(Proposal.title).where(Proposal.id.in_(ids))))


def _expected(engine, *needles: str) -> set[str]:
    """Titles of the records whose title, content or reply text holds every needle (by Python)."""
    from archive.records import load_records

    with session_factory(engine)() as session:
        records = load_records(session, session.scalars(select(Proposal.id)).all()).values()
    found = set()
    for record in records:
        haystack = " ".join(filter(None, [record["title"], record["content"],
                                          record["reply"]["text"] if record["reply"] else None]))
        if all(needle.lower() in haystack.lower() for needle in needles):
            found.add(record["title"])
    return found


@pytest.mark.parametrize("query", ["电信网络诈骗", "海水淡化", "渔民 养老", "养老", "渔", "见附件", "远程会诊",
                                   "APP", "app", "2023年", "不存在的词语", "县财政局 养老"])
def test_search_finds_exactly_the_records_holding_every_term(filled, query):
    assert _titles(filled, query) == _expected(filled, *terms(query))


def test_two_character_terms_match(filled):
    assert "关于完善海岛渔民养老保障体系的建议" in _titles(filled, "养老")
    assert len(_titles(filled, "养老")) >= 2


def test_reply_text_is_searched(filled):
    assert _titles(filled, "海人社函") == {"关于完善海岛渔民养老保障体系的建议"}


def test_search_follows_changes(engine):
    rel = "art/2023/9/8/art_1229395011_4090552.html"
    url = page_url("haidao", rel)
    body = page_bytes("haidao", rel)
    later = body.decode().replace("渔民平均月领取养老金约380元", "渔民平均月领取养老金约520元").encode()
    with session_factory(engine)() as session, session.begin():
        site = ensure_site(session, "haidao").id
        ingest(session, parse_detail(body, url), CaptureIn(site, url, body, T0))
    assert _titles(engine, "约380元") == {"关于完善海岛渔民养老保障体系的建议"}
    with session_factory(engine)() as session, session.begin():
        ingest(session, parse_detail(later, url), CaptureIn(site, url, later, T0 + dt.timedelta(days=1)))
    assert _titles(engine, "约380元") == set()
    assert _titles(engine, "约520元") == {"关于完善海岛渔民养老保障体系的建议"}


def test_the_sqlite_index_stores_no_text_of_its_own(filled):
    if filled.dialect.name != "sqlite":
        pytest.skip("FTS5 is SQLite's")
    with filled.connect() as connection:
        sql = connection.execute(text("SELECT sql FROM sqlite_master WHERE name = 'proposal_fts'")).scalar()
        assert "content='proposal_search_text'" in sql and "trigram" in sql
        assert connection.execute(text("INSERT INTO proposal_fts(proposal_fts, rank) VALUES ('integrity-check', 1)"))


def test_terms_fold_widths_and_split_on_spaces():
    assert terms("　渔民　ＡＰＰ  养老 渔民") == ["渔民", "APP", "养老"]
