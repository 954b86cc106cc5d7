"""Shared test helpers: the fixture sites copied from ../shared/fixtures."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

FIXTURES = Path(__file__).resolve().parent / "fixtures"
SITES = sorted(p.name for p in FIXTURES.iterdir() if (p / "site.json").is_file())


def site_json(slug: str) -> dict:
    return json.loads((FIXTURES / slug / "site.json").read_text(encoding="utf-8"))


def fixture_pages() -> list[tuple[str, str]]:
    """(site slug, page path under pages/) for every detail page with an expected record."""
    pages = []
    for slug in SITES:
        for expected in sorted((FIXTURES / slug / "expected").rglob("*.json")):
            rel = expected.relative_to(FIXTURES / slug / "expected").as_posix()[: -len(".json")]
            pages.append((slug, rel))
    return pages


def page_bytes(slug: str, rel: str) -> bytes:
    return (FIXTURES / slug / "pages" / rel).read_bytes()


def expected_record(slug: str, rel: str) -> dict:
    return json.loads((FIXTURES / slug / "expected" / (rel + ".json")).read_text(encoding="utf-8"))


def page_url(slug: str, rel: str) -> str:
    return site_json(slug)["base_url"] + "/" + rel


def field_diffs(got: object, want: object, path: str = "") -> list[str]:
    """Every field where two records differ, named by its dotted path."""
    if isinstance(got, dict) and isinstance(want, dict):
        diffs = []
        for key in list(want) + [k for k in got if k not in want]:
            sub = f"{path}.{key}" if path else key
            if key not in got:
                diffs.append(f"{sub}: missing (expected {want[key]!r})")
            elif key not in want:
                diffs.append(f"{sub}: unexpected key (got {got[key]!r})")
            else:
                diffs.extend(field_diffs(got[key], want[key], sub))
        return diffs
    if got != want:
        return [f"{path}: got {got!r}, expected {want!r}"]
    return []


@pytest.fixture(scope="session")
def record_schema() -> dict:
    return json.loads((FIXTURES / "record.schema.json").read_text(encoding="utf-8"))
