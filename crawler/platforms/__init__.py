"""Publishing-platform families, one module each, behind one registry.

Adding a family is one module that builds a `Platform` (see base.py) and one line below; the
spider, the sites registry and discovery only ever go through `REGISTRY` and `detect`. Detection
tries the families in this order, so put the most specific first.
"""

from __future__ import annotations

from . import hanweb_jpaas, hanweb_jpage, trs_static
from .base import Column, ListEntry, ListPage, ListRequest, NotAListPage, Platform

REGISTRY: dict[str, Platform] = {module.NAME: module.PLATFORM for module in (
    hanweb_jpaas,
    hanweb_jpage,
    trs_static,  # last: its detection (t<date> detail links, a pager) is the most general
)}
PLATFORMS = tuple(REGISTRY)


def detect(markup: str, url: str) -> Platform | None:
    """The family whose column page this is, or None."""
    return next((platform for platform in REGISTRY.values() if platform.detect(markup, url)), None)


__all__ = ["PLATFORMS", "REGISTRY", "Column", "ListEntry", "ListPage", "ListRequest", "NotAListPage", "Platform",
           "detect"]
