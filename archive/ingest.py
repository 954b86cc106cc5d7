"""Records into the archive: batch-first, idempotent, every change kept as revisions.

`ingest_batch(session, [(record, capture), …])` writes whole records with their children in the
caller's transaction (the session belongs to the caller): a batch is committed whole or not at
all, so a crash never leaves a half-written record. Ingesting the same capture again changes
nothing; a later capture that changes a record updates its rows and writes one `revision` row
per changed field, with the old and the new value. No record, capture, person or unit is ever
deleted: a changed record's child rows are rewritten, and its revisions keep what they said.
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

from sqlalchemy import delete, insert, select, text, tuple_, update
from sqlalchemy.orm import Session

from crawler.parsers import PARSER_VERSION, ProposalRecord

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


# --- sites ----------------------------------------------------------------------------------------


def ensure_site(session: Session, slug: str, *, name: str | None = None, base_url: str | None = None,
                platform: str | None = None) -> Site:
    """The site of this slug, created on first use; given details fill in what it lacks."""
    site = session.scalars(select(Site).where(Site.slug == slug)).one_or_none()
    if site is None:
        site = Site(slug=slug, name=name or slug, base_url=base_url, platform=platform)
        session.add(site)
        session.flush()
    else:
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
    for site in session.scalars(select(Site).where(Site.base_url.is_not(None))):
        if urlsplit(site.base_url).netloc.lower() == netloc:
            return site
    parts = urlsplit(url)
    return ensure_site(session, netloc, base_url=f"{parts.scheme}://{parts.netloc}")


# --- captures --------------------------------------------------------------------------------------


def _capture_id_map(session: Session, keys: Iterable[tuple[int, str, str]]) -> dict[tuple[int, str, str], int]:
    """The ids of the archived captures among these (site, url, sha256) keys."""
    ids: dict[tuple[int, str, str], int] = {}
    for chunk in chunks(list(set(keys)), 300):
        ids.update({(s, u, h): i for i, s, u, h in session.execute(
            select(Capture.id, Capture.site_id, Capture.url, Capture.sha256)
            .where(tuple_(Capture.site_id, Capture.url, Capture.sha256).in_(chunk)))})
    return ids


def known_captures(session: Session, keys: Iterable[tuple[int, str, str]]) -> set[tuple[int, str, str]]:
    """Which (site, url, sha256) are archived already: their bytes need no second parse."""
    return set(_capture_id_map(session, keys))


def touch(session: Session, keys: Sequence[tuple[int, str, str]], seen_at: dt.datetime) -> None:
    """Bytes fetched again unchanged: the capture and its record were seen again, nothing else."""
    for chunk in chunks(list(keys), 300):
        session.execute(update(Capture).where(tuple_(Capture.site_id, Capture.url, Capture.sha256).in_(chunk))
                        .values(last_seen_at=seen_at))
        session.execute(update(Proposal).where(tuple_(Proposal.site_id, Proposal.url).in_([k[:2] for k in chunk]))
                        .values(last_seen=seen_at))


def archive_failures(session: Session, failures: Sequence[tuple[CaptureIn, str, str]]) -> None:
    """Keep pages that gave no record (blocked, truncated, not a proposal page) for inspection."""
    known = known_captures(session, (capture.key for capture, _, _ in failures))
    rows, seen = [], set()
    for capture, outcome, error in failures:
        if capture.key in known or capture.key in seen:
            continue
        seen.add(capture.key)
        rows.append(capture.row(outcome, error))
    if rows:
        session.execute(insert(Capture), rows)
    if known:
        touch(session, list(known), max(c.fetched_at for c, _, _ in failures))


# --- records ---------------------------------------------------------------------------------------


def ingest(session: Session, record: ProposalRecord, capture: CaptureIn) -> Outcome:
    """One record with the capture it came from: new, changed or unchanged."""
    return ingest_batch(session, [(record, capture)])[0]


def ingest_batch(session: Session, items: Sequence[tuple[ProposalRecord, CaptureIn]], *,
                 observed_at: dt.datetime | None = None) -> list[Outcome]:
    """Many records at once, in the caller's transaction. `observed_at` overrides the capture time
    as the time of change (reparse: the archive changed now, not when the page was fetched)."""
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
    new_items: list[tuple[int, dict[str, Any]]] = []
    changed: list[_Change] = []
    seen_rows: list[dict[str, Any]] = []
    for capture, record in zip(captures, records, strict=True):
        when = observed_at or capture.fetched_at
        proposal_id = existing.get((capture.site_id, capture.url))
        if proposal_id is None:
            row = proposal_row(record) | {"site_id": capture.site_id, "url": capture.url, "first_seen": when,
                                          "last_seen": when, "last_changed": when,
                                          "capture_id": capture_ids[capture.key]}
            new_rows.append(row)
            new_items.append((len(new_rows) - 1, record))
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
    if new_rows:
        ids = session.execute(insert(Proposal).returning(Proposal.id, sort_by_parameter_order=True),
                              new_rows).scalars().all()
        for (row_index, record), proposal_id in zip(new_items, ids, strict=True):
            site_id = new_rows[row_index]["site_id"]
            _add_children(children, proposal_id, record, site_id, person_ids, organization_ids)
            fts_new.append(_fts_row(proposal_id, record))
    if seen_rows:
        session.execute(update(Proposal), seen_rows)
    if changed:
        _apply_changes(session, changed, capture_ids, children, fts_new, person_ids, organization_ids, observed_at)
    for name, rows in children.items():
        if rows:
            session.execute(insert(CHILD_TABLES[name]), rows)
    if fts_new and session.get_bind().dialect.name == "sqlite":
        session.execute(text("INSERT INTO proposal_fts(rowid, title, content, reply) "
                             "VALUES (:id, :title, :content, :reply)"), fts_new)
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
    ids = [change.proposal_id for change in changed]
    for chunk in chunks(ids, 900):
        for table in CHILD_TABLES.values():
            session.execute(delete(table).where(table.proposal_id.in_(chunk)))
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
    session.execute(update(Proposal), updates)
    session.execute(insert(Revision), revisions)
    if session.get_bind().dialect.name == "sqlite":
        # an external-content index forgets a row only when told the values it indexed
        session.execute(text("INSERT INTO proposal_fts(proposal_fts, rowid, title, content, reply) "
                             "VALUES (:command, :id, :title, :content, :reply)"), fts_old)


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
    ids = _capture_id_map(session, (c.key for c in captures))
    if ids:
        latest = max(c.fetched_at for c in captures)
        session.execute(update(Capture).where(Capture.id.in_(list(ids.values())))
                        .values(last_seen_at=latest, parser_version=PARSER_VERSION, outcome="record", error=None))
    fresh, rows = [], []
    for capture in captures:
        if capture.key not in ids and capture.key not in fresh:
            fresh.append(capture.key)
            rows.append(capture.row("record"))
    if rows:
        new_ids = session.execute(insert(Capture).returning(Capture.id, sort_by_parameter_order=True),
                                  rows).scalars().all()
        ids.update(zip(fresh, new_ids, strict=True))
    return ids


def _existing(session: Session, keys: list[tuple[int, str]]) -> dict[tuple[int, str], int]:
    found: dict[tuple[int, str], int] = {}
    for chunk in chunks(list(set(keys)), 450):
        statement = select(Proposal.id, Proposal.site_id, Proposal.url).where(
            tuple_(Proposal.site_id, Proposal.url).in_(chunk))
        found.update({(s, u): i for i, s, u in session.execute(statement)})
    return found


def _name_ids(session: Session, model, keys: list[tuple[int, str]]) -> dict[tuple[int, str], int]:
    """Ids of people (or units) by (site, normalized name), creating the missing ones."""
    wanted = list(dict.fromkeys(keys))
    ids: dict[tuple[int, str], int] = {}
    for chunk in chunks(wanted, 450):
        ids.update({(s, n): i for i, s, n in session.execute(
            select(model.id, model.site_id, model.name).where(tuple_(model.site_id, model.name).in_(chunk)))})
    missing = [key for key in wanted if key not in ids]
    if missing:
        new_ids = session.execute(insert(model).returning(model.id, sort_by_parameter_order=True),
                                  [{"site_id": s, "name": n} for s, n in missing]).scalars().all()
        ids.update(zip(missing, new_ids, strict=True))
    return ids


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)

