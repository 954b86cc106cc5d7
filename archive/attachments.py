"""Attached files in the archive: kept as captures, their text read, their letters made replies.

- `store_files(session, files)` keeps what a crawl fetched: the bytes as a capture (outcome
  `attachment`; bytes the site already has under any URL are not stored twice: the file points
  at that capture), the text read, the validators for the next conditional request, and for a
  failure (an HTTP error, a file over the size limit, a block page) why, without losing a file
  read before. It returns the URLs whose text changed.
- `texts_for(session, site_id, urls)` gives the text lines of the readable ones, which
  `ingest_batch` hands to `parsers.attached.with_attachment_reply`, so that a record whose page
  gives no reply letter gets the attached one, on every path a record is written (crawl,
  import, reparse).
- `refresh_records(session, site_id, urls, now)` writes again the records that link to files
  whose text changed (a revision per changed field, as for any change).
- `reread_files(engine, site)` reads every kept file again from its bytes (reparse).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import zlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import Engine, select, update
from sqlalchemy.orm import Session

from crawler.documents import READ, READER_VERSION, DocumentText, read_document

from .models import Attachment, AttachmentFile, Capture, Proposal, Site
from .records import chunks

ATTACHMENT = "attachment"  # the capture outcome of an attached file's bytes
# what became of a fetch that brought no file
TOO_LARGE, FAILED, BLOCKED = "too-large", "failed", "blocked"


@dataclass(frozen=True, slots=True)
class FetchedFile:
    """One answer for an attached file: its bytes (status 200), a 304, or a failure (`problem`)."""

    site_id: int
    url: str
    fetched_at: dt.datetime
    body: bytes | None = None
    content_type: str | None = None
    etag: str | None = None
    last_modified: str | None = None
    http_status: int | None = None
    name: str | None = None
    not_modified: bool = False
    problem: str | None = None       # too-large, failed, blocked
    reason: str | None = None
    crawl_run_id: int | None = None
    document: DocumentText | None = None  # the text read (read before the transaction)


@dataclass(frozen=True, slots=True)
class KnownFile:
    url: str
    status: str
    etag: str | None
    last_modified: str | None


def read(file: FetchedFile) -> FetchedFile:
    """The file with its text read (outside any transaction: reading a PDF takes its time)."""
    if file.body is None or file.document is not None:
        return file
    from dataclasses import replace

    return replace(file, document=read_document(file.body, file.url, file.content_type, name=file.name))


def known_files(session: Session, site_id: int) -> dict[str, KnownFile]:
    rows = session.execute(select(AttachmentFile.url, AttachmentFile.status, AttachmentFile.etag,
                                  AttachmentFile.last_modified).where(AttachmentFile.site_id == site_id))
    return {url: KnownFile(url, status, etag, modified) for url, status, etag, modified in rows}


def record_attachments(session: Session, site_id: int, proposal_ids: Iterable[int] | None = None
                       ) -> list[tuple[str, str, str]]:
    """(attachment URL, name, record URL) of a site's records (or of these records), in order."""
    statement = (select(Attachment.url, Attachment.name, Proposal.url)
                 .join(Proposal, Proposal.id == Attachment.proposal_id)
                 .where(Proposal.site_id == site_id).order_by(Proposal.id, Attachment.position))
    if proposal_ids is None:
        return [tuple(row) for row in session.execute(statement)]
    found: list[tuple[str, str, str]] = []
    for chunk in chunks(sorted(set(proposal_ids)), 500):
        found.extend(tuple(row) for row in session.execute(statement.where(Proposal.id.in_(chunk))))
    return found


def _capture_for(session: Session, file: FetchedFile) -> int:
    """The capture holding these bytes: the site's capture of the same bytes if there is one, else a new one."""
    connection = session.connection()
    digest = hashlib.sha256(file.body).hexdigest()
    found = connection.execute(select(Capture.id).where(Capture.site_id == file.site_id, Capture.sha256 == digest,
                                                        Capture.outcome == ATTACHMENT).order_by(Capture.id).limit(1)
                               ).scalar()
    if found is not None:
        connection.execute(update(Capture).where(Capture.id == found).values(last_seen_at=file.fetched_at))
        return found
    from .ingest import _insert_new

    document = file.document
    row = {"site_id": file.site_id, "url": file.url, "fetched_at": file.fetched_at, "last_seen_at": file.fetched_at,
           "source": "crawl", "http_status": file.http_status, "etag": file.etag,
           "last_modified": file.last_modified, "content_type": file.content_type, "sha256": digest,
           "size": len(file.body), "body": zlib.compress(file.body, 6), "parser_version": None,
           "outcome": ATTACHMENT, "error": document.detail if document is not None and document.status != READ
           else None, "crawl_run_id": file.crawl_run_id}
    connection.execute(_insert_new(session, Capture, ["site_id", "url", "sha256"]).values(row))
    return connection.execute(select(Capture.id).where(Capture.site_id == file.site_id, Capture.url == file.url,
                                                       Capture.sha256 == digest)).scalar_one()


def store_files(session: Session, files: Sequence[FetchedFile]) -> set[tuple[int, str]]:
    """Keep what a crawl fetched of attached files; the (site, URL) of those whose text changed."""
    connection = session.connection()
    changed: set[tuple[int, str]] = set()
    for file in files:
        old = connection.execute(select(AttachmentFile.id, AttachmentFile.capture_id, AttachmentFile.text,
                                        AttachmentFile.status)
                                 .where(AttachmentFile.site_id == file.site_id, AttachmentFile.url == file.url)).first()
        values: dict = {"checked_at": file.fetched_at}
        if file.not_modified:
            if old is None:
                continue
        elif file.body is not None and file.problem is None:
            document = read(file).document
            values |= {"capture_id": _capture_for(session, file), "status": document.status,
                       "format": document.format, "detail": document.detail, "text": document.text,
                       "etag": file.etag, "last_modified": file.last_modified, "fetched_at": file.fetched_at,
                       "reader_version": READER_VERSION}
            if old is None or old.text != document.text:
                changed.add((file.site_id, file.url))
        elif old is not None and old.capture_id is not None:  # a file kept before: it stays as it was read
            values["detail"] = f"{file.problem or FAILED} at the last fetch: {file.reason}"
        else:
            values |= {"status": file.problem or FAILED, "detail": file.reason}
        if old is None:
            from .ingest import _insert_new

            connection.execute(_insert_new(session, AttachmentFile, ["site_id", "url"]).values(
                {"site_id": file.site_id, "url": file.url, "status": values.pop("status", FAILED)} | values))
        else:
            connection.execute(update(AttachmentFile).where(AttachmentFile.id == old.id).values(values))
    return changed


def texts_for(session: Session, keys: Iterable[tuple[int, str]]) -> dict[tuple[int, str], list[str]]:
    """The text lines of the readable attached files among these (site, URL)."""
    connection = session.connection()
    from sqlalchemy import tuple_

    texts: dict[tuple[int, str], list[str]] = {}
    for chunk in chunks(sorted(set(keys)), 300):
        for site_id, url, text in connection.execute(
                select(AttachmentFile.site_id, AttachmentFile.url, AttachmentFile.text)
                .where(tuple_(AttachmentFile.site_id, AttachmentFile.url).in_(chunk), AttachmentFile.status == READ)):
            if text:
                texts[(site_id, url)] = text.split("\n")
    return texts


def refresh_records(session: Session, keys: Iterable[tuple[int, str]], now: dt.datetime
                    ) -> list[tuple[int, str]]:
    """Write again the records that link to these files (their reply may come from them now)."""
    from crawler.parsers import ProposalRecord

    from .ingest import CaptureIn, ingest_batch
    from .records import load_records

    connection = session.connection()
    ids: set[int] = set()
    by_site: dict[int, set[str]] = {}
    for site_id, url in keys:
        by_site.setdefault(site_id, set()).add(url)
    for site_id, urls in by_site.items():
        for chunk in chunks(sorted(urls), 300):
            ids.update(connection.execute(select(Attachment.proposal_id)
                                          .join(Proposal, Proposal.id == Attachment.proposal_id)
                                          .where(Proposal.site_id == site_id, Attachment.url.in_(chunk))).scalars())
    if not ids:
        return []
    records = load_records(session, sorted(ids))
    rows = {row.id: row for row in connection.execute(
        select(Proposal.id, Proposal.site_id, Capture.url, Capture.body, Capture.fetched_at, Capture.source,
               Capture.http_status, Capture.etag, Capture.last_modified, Capture.content_type, Capture.crawl_run_id)
        .join(Capture, Capture.id == Proposal.capture_id).where(Proposal.id.in_(sorted(ids))))}
    items = []
    for proposal_id in sorted(rows):
        row = rows[proposal_id]
        capture = CaptureIn(row.site_id, row.url, zlib.decompress(row.body), row.fetched_at, source=row.source,
                            http_status=row.http_status, etag=row.etag, last_modified=row.last_modified,
                            content_type=row.content_type, crawl_run_id=row.crawl_run_id)
        items.append((ProposalRecord.from_dict(records[proposal_id]), capture))
    outcomes = ingest_batch(session, items, observed_at=now)
    return [(capture.site_id, str(outcome)) for (_, capture), outcome in zip(items, outcomes, strict=True)]


def reread_files(engine: Engine, site: str | None = None) -> set[tuple[int, str]]:
    """Read every kept attached file again from its bytes; the (site, URL) of those whose text changed."""
    from .db import session_factory, transaction

    with session_factory(engine)() as session:
        statement = (select(AttachmentFile.id, AttachmentFile.site_id, AttachmentFile.url, AttachmentFile.text,
                            Capture.body, Capture.content_type)
                     .join(Capture, Capture.id == AttachmentFile.capture_id))
        if site:
            statement = statement.join(Site, Site.id == AttachmentFile.site_id).where(Site.slug == site)
        rows = session.execute(statement.order_by(AttachmentFile.id)).all()
    changed: set[tuple[int, str]] = set()
    for start in range(0, len(rows), 50):
        updates = []
        for row in rows[start:start + 50]:
            document = read_document(zlib.decompress(row.body), row.url, row.content_type)
            updates.append((row.id, document))
            if document.text != row.text:
                changed.add((row.site_id, row.url))
        with transaction(engine) as session:
            for file_id, document in updates:
                session.execute(update(AttachmentFile).where(AttachmentFile.id == file_id).values(
                    status=document.status, format=document.format, detail=document.detail, text=document.text,
                    reader_version=READER_VERSION))
    return changed


def files_of(session: Session, proposal_id: int) -> list[dict]:
    """The attachments of a record, each with what the archive holds of its file."""
    rows = session.execute(
        select(Attachment.position, Attachment.url, Attachment.name, AttachmentFile.status, AttachmentFile.format,
               AttachmentFile.detail, AttachmentFile.fetched_at, AttachmentFile.checked_at, Capture.sha256,
               Capture.size, Capture.content_type, AttachmentFile.text)
        .join(Proposal, Proposal.id == Attachment.proposal_id)
        .outerjoin(AttachmentFile,
                   (AttachmentFile.site_id == Proposal.site_id) & (AttachmentFile.url == Attachment.url))
        .outerjoin(Capture, Capture.id == AttachmentFile.capture_id)
        .where(Attachment.proposal_id == proposal_id).order_by(Attachment.position))
    from .records import iso_time

    return [{"url": r.url, "name": r.name, "status": r.status or "not fetched", "format": r.format,
             "detail": r.detail, "sha256": r.sha256, "size": r.size, "content_type": r.content_type,
             "fetched_at": iso_time(r.fetched_at), "checked_at": iso_time(r.checked_at),
             "characters": len(r.text) if r.text else 0} for r in rows]
