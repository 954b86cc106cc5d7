"""Attached files in the archive (archive/attachments.py), on SQLite and PostgreSQL: kept by content,
their letter made the reply with a revision, found by full text, kept through a later failure."""

from __future__ import annotations

import datetime as dt

from replica_files import letter, pdf_bytes
from sqlalchemy import func, select

from archive.attachments import FetchedFile, read, refresh_records, store_files
from archive.db import session_factory
from archive.ingest import CaptureIn, ensure_site, ingest_batch
from archive.models import AttachmentFile, Capture, Revision
from archive.query import Filters, select_ids
from archive.records import load_records
from crawler.parsers import Attachment, ProposalRecord, Reply

T0 = dt.datetime(2026, 3, 1, 8, 0, tzinfo=dt.UTC)
LETTER = letter(51, "司马蓝", "海岛县商务局", "冰鲜码头", month=11, day=2)
PAGE = "https://www.qiandao.example/art/2023/11/2/art_1_51.html"
PDF = "https://www.qiandao.example/module/download/downfile.jsp?classid=0&filename=51.pdf"
COPY = "https://oss.qiandao.example/jcms_files/51.pdf"


def _record() -> ProposalRecord:
    return ProposalRecord(url=PAGE, kind="cppcc_proposal", raw_title="(202351号)关于建设冰鲜码头的建议",
                          title="关于建设冰鲜码头的建议", number="202351", year=2023, session=None, category=None,
                          lead_sponsors=("司马蓝",), co_sponsors=(), content="建议内容", lead_units=(), co_units=(),
                          reply=Reply("见附件"), adoption_label=None, adoption_class=None,
                          implementation_status=None, impact_scope=None, approved_by=None,
                          attachments=(Attachment(PDF, "202351号提案答复函.pdf"), Attachment(COPY, "答复函副本.pdf")))


def test_a_file_read_becomes_the_reply_and_is_searched(engine):
    body = pdf_bytes(LETTER.lines())
    with session_factory(engine)() as session, session.begin():
        site = ensure_site(session, "qiandao", base_url="https://www.qiandao.example")
        page = CaptureIn(site.id, PAGE, b"<html><body>page</body></html>", T0)
        assert ingest_batch(session, [(_record(), page)]) == ["new"]
        files = [read(FetchedFile(site.id, url, T0 + dt.timedelta(minutes=1), body=body,
                                  content_type="application/pdf", etag='"e51"')) for url in (PDF, COPY)]
        changed = store_files(session, files)
        assert changed == {(site.id, PDF), (site.id, COPY)}
        assert refresh_records(session, changed, T0 + dt.timedelta(minutes=2)) == [(site.id, "changed")]
        site_id = site.id
    with session_factory(engine)() as session:
        [record] = load_records(session, [1]).values()
        reply = record["reply"]
        assert (reply["title"], reply["doc_number"], reply["addressee"], reply["signer"], reply["date"],
                reply["source"], reply["attachment_url"]) == (
            LETTER.title, LETTER.doc_number, LETTER.addressee, LETTER.signer, LETTER.date, "attachment", PDF)
        assert select_ids(session, Filters(text=LETTER.word)) == [1]
        assert select_ids(session, Filters(text="冰鲜码头 司马蓝")) == [1]
        fields = set(session.scalars(select(Revision.field)))
        assert {"reply.text", "reply.signer", "reply.source", "reply.attachment_url", "session"} <= fields
        # one capture for the same bytes under two URLs
        assert session.scalar(select(func.count()).select_from(Capture).where(Capture.outcome == "attachment")) == 1
        assert len(set(session.scalars(select(AttachmentFile.capture_id)))) == 1
    # a later failure keeps the file as it was read, and changes no record
    with session_factory(engine)() as session, session.begin():
        failed = FetchedFile(site_id, PDF, T0 + dt.timedelta(days=1), problem="failed",
                             reason="HTTP 503 (server error)")
        assert store_files(session, [failed]) == set()
        row = session.scalars(select(AttachmentFile).where(AttachmentFile.url == PDF)).one()
        assert (row.status, row.detail) == ("read", "failed at the last fetch: HTTP 503 (server error)")
    # the page fetched again (still 见附件) is unchanged: the attached letter is applied on ingest too
    with session_factory(engine)() as session, session.begin():
        again = CaptureIn(site_id, PAGE, b"<html><body>page</body></html>", T0 + dt.timedelta(days=2))
        assert ingest_batch(session, [(_record(), again)]) == ["unchanged"]
