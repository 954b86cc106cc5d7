"""Pure parsers: bytes + URL in, frozen dataclasses out (no Scrapy, no SQLAlchemy, no clock, no network)."""

from .detail import parse_detail
from .page import declared_url
from .records import Attachment, Disclosure, NotAProposalPage, ProposalRecord, Reply

# Bumped whenever a change to the parsers can change a record; `proposals reparse` re-reads
# captures read by an older version.
PARSER_VERSION = "2"

__all__ = ["PARSER_VERSION", "Attachment", "Disclosure", "NotAProposalPage", "ProposalRecord", "Reply",
           "declared_url", "parse_detail"]
