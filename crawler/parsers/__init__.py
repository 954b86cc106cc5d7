"""Pure parsers: bytes + URL in, frozen dataclasses out (no Scrapy, no SQLAlchemy, no clock, no network)."""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING

# Bumped whenever a change to the parsers can change a record; `proposals reparse` re-reads
# captures read by an older version.
PARSER_VERSION = "2"

# Each name is imported from its module on first use: a user of one pure helper (the archive
# normalising a --sponsor name with crawler.parsers.text) does not load the whole parser and
# selectolax, a --sponsor query's tenth of a second.
_WHERE = {"parse_detail": ".detail", "declared_url": ".page", "Attachment": ".records", "Disclosure": ".records",
          "NotAProposalPage": ".records", "ProposalRecord": ".records", "Reply": ".records"}

if TYPE_CHECKING:
    from .detail import parse_detail
    from .page import declared_url
    from .records import Attachment, Disclosure, NotAProposalPage, ProposalRecord, Reply


def __getattr__(name: str):
    try:
        module = _WHERE[name]
    except KeyError:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}") from None
    value = getattr(import_module(module, __name__), name)
    globals()[name] = value
    return value


__all__ = ["PARSER_VERSION", "Attachment", "Disclosure", "NotAProposalPage", "ProposalRecord", "Reply",
           "declared_url", "parse_detail"]
