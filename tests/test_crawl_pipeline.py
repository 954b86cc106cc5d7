"""The crawl's archive pipeline: one record the database refuses fails alone; the feed gets plain records."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from types import SimpleNamespace

import pytest
from conftest import page_bytes, page_url, site_json
from scrapy.exceptions import DropItem
from scrapy.settings import Settings

from crawler import pipelines
from crawler.items import FAILED, RECORD, PageItem
from crawler.parsers import parse_detail
from crawler.pipelines import ArchivePipeline
from crawler.sites import SiteConfig
from crawler.state import CrawlState

PAGES = ["art/2023/9/8/art_1229395011_4090552.html", "art/2023/9/22/art_1229395011_4096107.html",
         "art/2023/8/30/art_1229395011_4087260.html", "art/2023/8/11/art_1229395011_4079934.html",
         "art/2022/9/14/art_1229395011_3935716.html"]
BAD = PAGES[2]


def _pipeline(archive_url: str) -> tuple[ArchivePipeline, CrawlState]:
    site = site_json("haidao")
    config = SiteConfig("haidao", site["name"], (site["base_url"] + "/col/col1229395011/index.html",),
                        base_url=site["base_url"])
    state = CrawlState.open(archive_url, [config], full=False)
    crawler = SimpleNamespace(settings=Settings({"PROPOSALS_BATCH": 50}), spider=SimpleNamespace(state=state),
                              signals=SimpleNamespace(connect=lambda *a, **k: None))
    return ArchivePipeline.from_crawler(crawler), state


def _items(refused: str | None = BAD) -> list[PageItem]:
    items = []
    for rel in PAGES:
        body, url = page_bytes("haidao", rel), page_url("haidao", rel)
        record = parse_detail(body, url)
        if rel == refused:  # a record the database cannot take (its CHECK constraint on the class)
            record = dataclasses.replace(record, adoption_class="Z")
        items.append(PageItem(RECORD, "haidao", url, fetched_at=dt.datetime.now(dt.UTC), status=200, body=body,
                              record=record, column="col"))
    return items


def _archived(state: CrawlState) -> set[str]:
    from sqlalchemy import select

    from archive.db import session_factory
    from archive.models import Proposal

    with session_factory(state.engine)() as session:
        return set(session.scalars(select(Proposal.url)))


def test_a_record_the_database_refuses_fails_alone(archive_url):
    pipeline, state = _pipeline(archive_url)
    feed = [pipeline.process_item(item) for item in _items()]
    pipeline.close_spider()
    counts = state.sites["haidao"].counts
    assert (counts["new"], counts["failed"], counts["fetched"]) == (4, 1, 5)
    assert _archived(state) == {page_url("haidao", rel) for rel in PAGES if rel != BAD}
    (host, causes), = state.problems().items()
    (cause,) = causes
    assert host == "www.haidao.example" and cause.startswith("the archive refused it: ")
    # the feed: plain, JSON-ready records with their site
    assert [entry["url"] for entry in feed] == [page_url("haidao", rel) for rel in PAGES]
    json.dumps(feed, ensure_ascii=False)
    assert feed[0]["site"] == "haidao" and "body" not in feed[0]
    state.engine.dispose()


def test_pages_that_are_not_records_stay_out_of_the_feed(archive_url):
    pipeline, state = _pipeline(archive_url)
    with pytest.raises(DropItem):
        pipeline.process_item(PageItem(FAILED, "haidao", page_url("haidao", PAGES[0]), reason="HTTP 500"))
    pipeline.close_spider()
    assert state.sites["haidao"].counts["failed"] == 1
    state.engine.dispose()


def test_records_ingest_reports_as_failed_are_counted_without_a_second_pass(archive_url, monkeypatch):
    """Where ingest_batch isolates a record itself (an outcome with a reason), the batch is not rewritten."""
    real = pipelines.ingest_batch
    calls = []

    def isolating(session, items, **kwargs):
        calls.append(len(items))
        good = [(record, capture) for record, capture in items if record.adoption_class != "Z"]
        done = iter(real(session, good, **kwargs))
        return [SimpleNamespace(reason="value out of range") if record.adoption_class == "Z" else next(done)
                for record, _ in items]

    monkeypatch.setattr(pipelines, "ingest_batch", isolating)
    pipeline, state = _pipeline(archive_url)
    for item in _items():
        pipeline.process_item(item)
    pipeline.close_spider()
    assert calls == [5]  # one batch, no page-by-page pass
    assert (state.sites["haidao"].counts["new"], state.sites["haidao"].counts["failed"]) == (4, 1)
    assert list(next(iter(state.problems().values()))) == ["the archive refused it: value out of range"]
    state.engine.dispose()


def test_an_error_reading_a_page_fails_that_page():
    from scrapy.http import HtmlResponse, Request

    from crawler.middlewares import SpiderErrorsMiddleware

    request = Request("http://www.haidao.example/col/col1/index.html", meta={"site": "haidao", "column": "c"})
    response = HtmlResponse(request.url, body=b"<html></html>", request=request)
    (item,) = SpiderErrorsMiddleware().process_spider_exception(response, KeyError("pageNo"))
    assert (item.kind, item.site, item.url, item.column) == (FAILED, "haidao", request.url, "c")
    assert item.reason == "error reading the page: KeyError: 'pageNo'"
