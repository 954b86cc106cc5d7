"""What a crawl knows of a site before it starts: records, and pages that hold no record."""

from __future__ import annotations

import datetime as dt

from archive.crawls import SKIPPED, known_pages
from archive.db import transaction
from archive.ingest import CaptureIn, archive_failures, ensure_site

WHEN = dt.datetime(2026, 11, 30, 21, 0, tzinfo=dt.UTC)


def test_skipped_pages_are_known_and_final(engine):
    with transaction(engine) as session:
        site = ensure_site(session, "lianhe", base_url="http://www.lianhe.example")
        summary = CaptureIn(site.id, "http://www.lianhe.example/jytabl/202301/t20230105_1.shtml",
                            "<html><body>2022年建议提案办理工作总结</body></html>".encode(), WHEN, etag='"s1"',
                            last_modified="Tue, 03 Jan 2023 08:00:00 GMT")
        failed = CaptureIn(site.id, "http://www.lianhe.example/jytabl/202301/t20230106_2.shtml",
                           b"<html><body>blocked</body></html>", WHEN)
        archive_failures(session, [(summary, SKIPPED, "a yearly summary"), (failed, "blocked", "HTTP 412")])
        site_id = site.id
    with transaction(engine) as session:
        known = known_pages(session, site_id)
    page = known["http://www.lianhe.example/jytabl/202301/t20230105_1.shtml"]
    assert (page.final, page.record, page.etag, page.last_modified) == (
        True, False, '"s1"', "Tue, 03 Jan 2023 08:00:00 GMT")
    # a blocked page is not known: the next crawl asks for it again
    assert "http://www.lianhe.example/jytabl/202301/t20230106_2.shtml" not in known
