"""Records into the archive: batch-first, idempotent, every change kept as revisions.

`ingest_batch(session, [(record, capture), …])` writes whole records with their children in the
caller's transaction (the session belongs to the caller): a batch is committed whole or not at
all, so a crash never leaves a half-written record. Ingesting the same capture again changes
nothing; a later capture that changes a record updates its rows and writes one `revision` row
per changed field, with the old and the new value. No record, capture, person or unit is ever
deleted: a changed record's child rows are rewritten, and its revisions keep what they said.

One bad record never sinks its batch: the batch is written under a SAVEPOINT, and if the
database refuses it, again record by record, each under its own; a record it refuses comes back
as `Failed(reason)` in place of its outcome, and the others are archived.

Several writers may share an archive (two imports, an import and a crawl): the first use of a
site, a person, a unit, a capture or a record is an INSERT … ON CONFLICT DO NOTHING read back
afterwards, so whichever writer comes second finds the row the first one made.

Statements go through the session's connection as Core (the session and its transaction stay
the caller's), skipping the ORM's work per statement.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import zlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, NamedTuple
from urllib.parse import urlsplit

from sqlalchemy import bindparam, delete, insert, select, text, tuple_, update
from sqlalchemy.orm import Session

from crawler.parsers import PARSER_VERSION, ProposalRecord

from .db import first_line
from .models import (
    Attachment,
    Capture,
    ExtraField,
    Organization,
    Person,
    Proposal,
    ProposalSponsor,
    ProposalUnit,
    Reply,
    Revision,
    Site,
)
from .records import child_rows, chunks, flatten, load_records, proposal_row

Outcome = Literal["new", "changed", "unchanged"]


class Failed(str):
    """The outcome of a record the archive could not write, with the reason (the database's
    first line, e.g. `value too long for type character varying(40)`).

    It is the string "failed" (equal to it, hashed as it, `str()` of it), so that code counting
    outcomes by name counts it as failed: `Counter(outcomes)["failed"]`. `isinstance(outcome,
    Failed)` tells it from the others; `outcome.reason` says why."""

    __match_args__ = ("reason",)
    reason: str

    def __new__(cls, reason: str) -> Failed:
        self = super().__new__(cls, "failed")
        self.__dict__["reason"] = reason
        return self

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"{type(self).__name__} is immutable")

    def __repr__(self) -> str:
        return f"Failed({self.reason!r})"

    def __reduce__(self):
        return Failed, (self.reason,)

CHILD_TABLES = {"proposal_sponsor": ProposalSponsor, "proposal_unit": ProposalUnit, "reply": Reply,
                "attachment": Attachment, "extra_field": ExtraField}


@dataclass(frozen=True, slots=True)
class CaptureIn:
    """A fetched or imported page on its way into the archive (body compressed once, here)."""

    site_id: int
    url: str
    body: bytes
    fetched_at: dt.datetime
    source: str = "crawl"
    http_status: int | None = None
    etag: str | None = None
    last_modified: str | None = None
    content_type: str | None = None
    crawl_run_id: int | None = None
    sha256: str = field(init=False)
    compressed: bytes = field(init=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "sha256", hashlib.sha256(self.body).hexdigest())
        object.__setattr__(self, "compressed", zlib.compress(self.body, 6))

    @property
    def key(self) -> tuple[int, str, str]:
        return self.site_id, self.url, self.sha256

    def row(self, outcome: str, error: str | None = None) -> dict[str, Any]:
        return {"site_id": self.site_id, "url": self.url, "fetched_at": self.fetched_at,
                "last_seen_at": self.fetched_at, "source": self.source, "http_status": self.http_status,
                "etag": self.etag, "last_modified": self.last_modified, "content_type": self.content_type,
                "sha256": self.sha256, "size": len(self.body), "body": self.compressed,
                "parser_version": PARSER_VERSION if outcome == "record" else None, "outcome": outcome,
                "error": error, "crawl_run_id": self.crawl_run_id}


def capture_body(capture: Capture) -> bytes:
    """The page bytes a capture keeps."""
    return zlib.decompress(capture.body)


# --- inserts that several writers may race to -----------------------------------------------------


def _insert_new(session: Session, model, conflict: Sequence[str]):
    """INSERT … ON CONFLICT (natural key) DO NOTHING, in the dialect's own words."""
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as dialect_insert
    else:
        from sqlalchemy.dialects.sqlite import insert as dialect_insert
    return dialect_insert(model).on_conflict_do_nothing(index_elements=list(conflict))


# --- sites ----------------------------------------------------------------------------------------


def ensure_site(session: Session, slug: str, *, name: str | None = None, base_url: str | None = None,
                platform: str | None = None) -> Site:
    """The site of this slug, created on first use; given details fill in what it lacks."""
    site = session.scalars(select(Site).where(Site.slug == slug)).one_or_none()
    if site is None:
        session.execute(_insert_new(session, Site, ["slug"]).values(
            slug=slug, name=name or slug, base_url=base_url, platform=platform))
        site = session.scalars(select(Site).where(Site.slug == slug)).one()
    if name and site.name == site.slug:
        site.name = name
    site.base_url = site.base_url or base_url
    site.platform = platform or site.platform
    return site


def site_for_url(session: Session, url: str, slug: str | None = None) -> Site:
    """The site a page belongs to: the given slug, else the archived site of its host (and port),
    else a new site named after them."""
    if slug:
        return ensure_site(session, slug)
    netloc = urlsplit(url).netloc.lower()
    if not netloc:
        return ensure_site(session, "local")
    for site in session.scalars(select(Site).where(Site.base_url.is_not(None)).order_by(Site.id)):
        if urlsplit(site.base_url).netloc.lower() == netloc:
            return site
    parts = urlsplit(url)
    return ensure_site(session, netloc, base_url=f"{parts.scheme}://{parts.netloc}")


# --- captures --------------------------------------------------------------------------------------


def _capture_id_map(session: Session, keys: Iterable[tuple[int, str, str]]) -> dict[tuple[int, str, str], int]:
    """The ids of the archived captures among these (site, url, sha256) keys."""
    connection = session.connection()
    ids: dict[tuple[int, str, str], int] = {}
    for chunk in chunks(list(set(keys)), 300):
        ids.update({(s, u, h): i for i, s, u, h in connection.execute(
            select(Capture.id, Capture.site_id, Capture.url, Capture.sha256)
            .where(tuple_(Capture.site_id, Capture.url, Capture.sha256).in_(chunk)))})
    return ids


def known_captures(session: Session, keys: Iterable[tuple[int, str, str]]) -> set[tuple[int, str, str]]:
    """Which (site, url, sha256) are archived already: their bytes need no second parse."""
    return set(_capture_id_map(session, keys))


def records_elsewhere(session: Session, digests: Iterable[str]) -> dict[str, list[tuple[int, str]]]:
    """For page bytes (by sha256) that some archived record came from: the (site, url) pairs it was
    captured under, oldest first. Bytes under another URL are the same page saved twice."""
    connection = session.connection()
    found: dict[str, list[tuple[int, str]]] = {}
    for chunk in chunks(sorted(set(digests)), 450):
        rows = connection.execute(select(Capture.sha256, Capture.site_id, Capture.url)
                                  .where(Capture.sha256.in_(chunk), Capture.outcome == "record").order_by(Capture.id))
        for digest, site_id, url in rows:
            if (site_id, url) not in found.setdefault(digest, []):
                found[digest].append((site_id, url))
    return found


def touch(session: Session, keys: Sequence[tuple[int, str, str]], seen_at: dt.datetime) -> None:
    """Bytes fetched again unchanged: the capture and its record were seen again, nothing else."""
    connection = session.connection()
    for chunk in chunks(list(keys), 300):
        connection.execute(update(Capture).where(tuple_(Capture.site_id, Capture.url, Capture.sha256).in_(chunk))
                           .values(last_seen_at=seen_at))
        connection.execute(update(Proposal).where(tuple_(Proposal.site_id, Proposal.url).in_([k[:2] for k in chunk]))
                           .values(last_seen=seen_at))


def archive_failures(session: Session,
                     failures: Sequence[tuple[CaptureIn, str, str]]) -> list[tuple[CaptureIn, Failed]]:
    """Keep pages that gave no record (blocked, truncated, not a proposal page) for inspection.

    Returns the pages the database would not keep either, each with its Failed reason (the rest
    are kept: one refused page does not lose the others)."""
    if not failures:
        return []
    refused = _isolated(session, list(failures), _archive_failures)
    return [(capture, outcome) for (capture, _, _), outcome in zip(failures, refused, strict=True)
            if isinstance(outcome, Failed)]


def _archive_failures(session: Session, failures: Sequence[tuple[CaptureIn, str, str]]) -> list[str]:
    connection = session.connection()
    known = known_captures(session, (capture.key for capture, _, _ in failures))
    rows, seen = [], set()
    for capture, outcome, error in sorted(failures, key=lambda failure: failure[0].key):
        if capture.key in known or capture.key in seen:
            continue
        seen.add(capture.key)
        rows.append(capture.row(outcome, error))
    if rows:
        connection.execute(_insert_new(session, Capture, ["site_id", "url", "sha256"]), rows)
    if known:
        touch(session, sorted(known), max(c.fetched_at for c, _, _ in failures))
    return ["kept"] * len(failures)


# --- records ---------------------------------------------------------------------------------------


def ingest(session: Session, record: ProposalRecord, capture: CaptureIn) -> Outcome | Failed:
    """One record with the capture it came from: new, changed or unchanged (or Failed)."""
    return ingest_batch(session, [(record, capture)])[0]


def ingest_batch(session: Session, items: Sequence[tuple[ProposalRecord, CaptureIn]], *,
                 observed_at: dt.datetime | None = None) -> list[Outcome | Failed]:
    """Many records at once, in the caller's transaction: one outcome per item, in order.

    A record the database refuses gets `Failed(reason)` and leaves nothing behind; the others
    are written (see the module's doc). `observed_at` overrides the capture time as the time of
    change (reparse: the archive changed now, not when the page was fetched)."""
    items = with_attached_replies(session, items)
    return _isolated(session, list(items), lambda s, batch: _ingest_in_order(s, batch, observed_at))


def with_attached_replies(session: Session, items: Sequence[tuple[ProposalRecord, CaptureIn]]
                          ) -> list[tuple[ProposalRecord, CaptureIn]]:
    """The records whose page gives no reply letter, with the letter read from their attached
    files where the archive holds one it could read (parsers/attached.py says which)."""
    from crawler.parsers.attached import wants_attachment, with_attachment_reply

    from .attachments import texts_for

    wanting = [index for index, (record, _) in enumerate(items)
               if record.attachments and wants_attachment(record.reply, [a.name for a in record.attachments])]
    if not wanting:
        return list(items)
    texts = texts_for(session, ((items[i][1].site_id, a.url) for i in wanting for a in items[i][0].attachments))
    done = list(items)
    for index in wanting:
        record, capture = items[index]
        mine = {a.url: texts[(capture.site_id, a.url)] for a in record.attachments
                if (capture.site_id, a.url) in texts}
        done[index] = (with_attachment_reply(record, mine), capture)
    return done


def _isolated(session: Session, items: list, write) -> list:
    """`write(session, items)` under a SAVEPOINT; if it fails, each item alone under its own, and
    the ones that fail again become Failed(reason)."""
    if not items:
        return []
    try:
        with session.begin_nested():
            return write(session, items)
    except Exception as error:
        if len(items) == 1:
            return [_failure(session, error)]
    outcomes = []
    for item in items:
        try:
            with session.begin_nested():
                outcomes.extend(write(session, [item]))
        except Exception as error:
            outcomes.append(_failure(session, error))
    return outcomes


def _failure(session: Session, error: Exception) -> Failed:
    """The Failed outcome for an error that is the record's doing; other errors are raised again:
    a lost connection, and on SQLite an operational error (a full disk, an I/O error, a lock),
    are no record's fault and would fail every other record as well."""
    from sqlalchemy.exc import OperationalError

    if getattr(error, "connection_invalidated", False) or (
            isinstance(error, OperationalError) and session.get_bind().dialect.name == "sqlite"):
        raise error
    return Failed(first_line(error))


def _ingest_in_order(session: Session, items: Sequence[tuple[ProposalRecord, CaptureIn]],
                     observed_at: dt.datetime | None) -> list[Outcome]:
    outcomes: list[Outcome | None] = [None] * len(items)
    pending = list(range(len(items)))
    while pending:  # a page twice in one batch: the second copy goes in after the first
        seen: set[tuple[int, str]] = set()
        now, later = [], []
        for index in pending:
            key = (items[index][1].site_id, items[index][1].url)
            (later if key in seen else now).append(index)
            seen.add(key)
        for index, outcome in zip(now, _ingest_distinct(session, [items[i] for i in now], observed_at), strict=True):
            outcomes[index] = outcome
        pending = later
    return outcomes  # type: ignore[return-value]


def _ingest_distinct(session: Session, items: Sequence[tuple[ProposalRecord, CaptureIn]],
                     observed_at: dt.datetime | None) -> list[Outcome]:
    connection = session.connection()
    captures = [capture for _, capture in items]
    capture_ids = _capture_ids(session, captures)
    records = [record.to_dict() for record, _ in items]
    existing = _existing(session, [(c.site_id, c.url) for c in captures])
    old_records = load_records(session, [pid for pid in existing.values()])
    person_ids = _name_ids(session, Person, [(c.site_id, name) for c, r in zip(captures, records, strict=True)
                                             for name in r["lead_sponsors"] + r["co_sponsors"]])
    organization_ids = _name_ids(session, Organization, [(c.site_id, name)
                                                         for c, r in zip(captures, records, strict=True)
                                                         for name in r["lead_units"] + r["co_units"]])
    outcomes: list[Outcome] = []
    new_rows: list[dict[str, Any]] = []
    new_items: dict[tuple[int, str], tuple[int, dict[str, Any]]] = {}  # (site, url) -> (item, record)
    changed: list[_Change] = []
    seen_rows: list[dict[str, Any]] = []
    for index, (capture, record) in enumerate(zip(captures, records, strict=True)):
        when = observed_at or capture.fetched_at
        proposal_id = existing.get((capture.site_id, capture.url))
        if proposal_id is None:
            new_rows.append(proposal_row(record) | {"site_id": capture.site_id, "url": capture.url,
                                                    "first_seen": when, "last_seen": when, "last_changed": when,
                                                    "capture_id": capture_ids[capture.key]})
            new_items[(capture.site_id, capture.url)] = (index, record)
            outcomes.append("new")
            continue
        old = old_records[proposal_id]
        old_flat, new_flat = flatten(old), flatten(record)
        if old_flat == new_flat:
            seen_rows.append({"id": proposal_id, "last_seen": when, "capture_id": capture_ids[capture.key]})
            outcomes.append("unchanged")
        else:
            changed.append(_Change(proposal_id, old, record, capture, old_flat, new_flat))
            outcomes.append("changed")

    children: dict[str, list[dict[str, Any]]] = {name: [] for name in CHILD_TABLES}
    fts_new: list[dict[str, Any]] = []
    raced: list[int] = []  # records another writer inserted since we looked: ingested again below
    if new_rows:
        new_rows.sort(key=lambda row: (row["site_id"], row["url"]))  # one lock order for every writer
        inserted = {(site_id, url): proposal_id for proposal_id, site_id, url in connection.execute(
            _insert_new(session, Proposal, ["site_id", "url"])
            .returning(Proposal.id, Proposal.site_id, Proposal.url), new_rows)}
        for key, (index, record) in new_items.items():
            if key not in inserted:
                raced.append(index)
                continue
            _add_children(children, inserted[key], record, key[0], person_ids, organization_ids)
            fts_new.append(_fts_row(inserted[key], record))
    if seen_rows:
        _update_proposals(session, seen_rows)
    if changed:
        _apply_changes(session, changed, capture_ids, children, fts_new, person_ids, organization_ids, observed_at)
    for name, rows in children.items():
        if rows:
            connection.execute(insert(CHILD_TABLES[name]), rows)
    if fts_new and connection.dialect.name == "sqlite":
        connection.execute(text("INSERT INTO proposal_fts(rowid, title, content, reply) "
                             "VALUES (:id, :title, :content, :reply)"), fts_new)
    if raced:
        for index, outcome in zip(raced, _ingest_distinct(session, [items[i] for i in raced], observed_at),
                                  strict=True):
            outcomes[index] = outcome
    return outcomes


class _Change(NamedTuple):
    proposal_id: int
    old: dict[str, Any]          # the archived record
    record: dict[str, Any]       # the record of the new capture
    capture: CaptureIn
    old_flat: dict[str, Any]     # both flattened, as revisions compare them
    new_flat: dict[str, Any]


def _apply_changes(session: Session, changed: list[_Change], capture_ids, children, fts_new, person_ids,
                   organization_ids, observed_at) -> None:
    connection = session.connection()
    ids = [change.proposal_id for change in changed]
    for chunk in chunks(ids, 900):
        for table in CHILD_TABLES.values():
            connection.execute(delete(table).where(table.proposal_id.in_(chunk)))
    revisions, updates, fts_old = [], [], []
    for proposal_id, old, record, capture, old_flat, new_flat in changed:
        when = observed_at or capture.fetched_at
        for name, value in new_flat.items():
            if old_flat[name] != value:
                revisions.append({"proposal_id": proposal_id, "capture_id": capture_ids[capture.key],
                                  "changed_at": when, "field": name, "old_value": _json(old_flat[name]),
                                  "new_value": _json(value)})
        updates.append(proposal_row(record) | {"id": proposal_id, "last_seen": when, "last_changed": when,
                                               "capture_id": capture_ids[capture.key]})
        _add_children(children, proposal_id, record, capture.site_id, person_ids, organization_ids)
        fts_old.append(_fts_row(proposal_id, old) | {"command": "delete"})
        fts_new.append(_fts_row(proposal_id, record))
    _update_proposals(session, updates)
    connection.execute(insert(Revision), revisions)
    if connection.dialect.name == "sqlite":
        # an external-content index forgets a row only when told the values it indexed
        connection.execute(text("INSERT INTO proposal_fts(proposal_fts, rowid, title, content, reply) "
                             "VALUES (:command, :id, :title, :content, :reply)"), fts_old)


def _update_proposals(session: Session, rows: list[dict[str, Any]]) -> None:
    """UPDATE proposal rows by id, each row a dict of the same columns: one executemany in Core
    (the ORM's bulk update by primary key costs more than the statement itself)."""
    table = Proposal.__table__
    columns = [name for name in rows[0] if name != "id"]
    statement = update(table).where(table.c.id == bindparam("_id")).values(
        {name: bindparam(f"_{name}") for name in columns})
    session.connection().execute(statement, [{f"_{name}": value for name, value in row.items()} for row in rows])


def _add_children(children, proposal_id, record, site_id, person_ids, organization_ids) -> None:
    rows = child_rows(proposal_id, record, {n: person_ids[(site_id, n)] for n in
                                            record["lead_sponsors"] + record["co_sponsors"]},
                      {n: organization_ids[(site_id, n)] for n in record["lead_units"] + record["co_units"]})
    for name, table_rows in rows.items():
        children[name].extend(table_rows)


def _fts_row(proposal_id: int, record: dict[str, Any]) -> dict[str, Any]:
    reply = record["reply"]
    return {"id": proposal_id, "title": record["title"], "content": record["content"],
            "reply": reply["text"] if reply else None}


def _capture_ids(session: Session, captures: Sequence[CaptureIn]) -> dict[tuple[int, str, str], int]:
    """Ids of these captures, inserting the new ones; every one now gave a record."""
    connection = session.connection()
    ids = _capture_id_map(session, (c.key for c in captures))
    rows, fresh = [], set()
    for capture in sorted(captures, key=lambda c: c.key):
        if capture.key not in ids and capture.key not in fresh:
            fresh.add(capture.key)
            rows.append(capture.row("record"))
    if rows:
        ids.update({(s, u, h): i for i, s, u, h in connection.execute(
            _insert_new(session, Capture, ["site_id", "url", "sha256"])
            .returning(Capture.id, Capture.site_id, Capture.url, Capture.sha256), rows)})
        raced = [key for key in fresh if key not in ids]  # kept by another writer since we looked
        if raced:
            ids.update(_capture_id_map(session, raced))
    known = [ids[key] for key in {c.key for c in captures} - fresh]
    if known:
        connection.execute(update(Capture).where(Capture.id.in_(known))
                        .values(last_seen_at=max(c.fetched_at for c in captures), parser_version=PARSER_VERSION,
                                outcome="record", error=None))
    return ids


def _existing(session: Session, keys: list[tuple[int, str]]) -> dict[tuple[int, str], int]:
    """Ids of the archived records among these (site, url); on PostgreSQL their rows are locked
    until the transaction ends, so that two writers changing one record take turns."""
    connection = session.connection()
    found: dict[tuple[int, str], int] = {}
    lock = connection.dialect.name == "postgresql"
    for chunk in chunks(sorted(set(keys)), 450):
        statement = select(Proposal.id, Proposal.site_id, Proposal.url).where(
            tuple_(Proposal.site_id, Proposal.url).in_(chunk)).order_by(Proposal.id)
        if lock:
            statement = statement.with_for_update()
        found.update({(s, u): i for i, s, u in connection.execute(statement)})
    return found


def _name_ids(session: Session, model, keys: list[tuple[int, str]]) -> dict[tuple[int, str], int]:
    """Ids of people (or units) by (site, normalized name), creating the missing ones."""
    connection = session.connection()
    wanted = sorted(set(keys))
    ids: dict[tuple[int, str], int] = {}
    for chunk in chunks(wanted, 450):
        ids.update({(s, n): i for i, s, n in connection.execute(
            select(model.id, model.site_id, model.name).where(tuple_(model.site_id, model.name).in_(chunk)))})
    missing = [key for key in wanted if key not in ids]
    if missing:
        ids.update({(s, n): i for i, s, n in connection.execute(
            _insert_new(session, model, ["site_id", "name"]).returning(model.id, model.site_id, model.name),
            [{"site_id": s, "name": n} for s, n in missing])})
        raced = [key for key in missing if key not in ids]  # made by another writer since we looked
        for chunk in chunks(raced, 450):
            ids.update({(s, n): i for i, s, n in connection.execute(
                select(model.id, model.site_id, model.name).where(tuple_(model.site_id, model.name).in_(chunk)))})
    return ids


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)
