"""The Hanweb family's detail pages (JPaaS and legacy JCMS): read by the page reader in `page.py`,
which reads every family's label pages and letter pages. These names stay for the code that
imports them from here."""

from .page import DetailPage as HanwebPage
from .page import block_lines, declared_url
from .page import parse_page as parse_hanweb_detail
from .text import kind_from_text

__all__ = ["HanwebPage", "block_lines", "declared_url", "kind_from_text", "parse_hanweb_detail"]
