"""Every fixture detail page parses to its expected record, field by field."""

from __future__ import annotations

import jsonschema
import pytest
from conftest import SITES, expected_record, field_diffs, fixture_pages, page_bytes, page_url, site_json

from crawler.parsers import parse_detail

PAGES = fixture_pages()


def test_every_site_has_pages():
    # every record a fixture site lists has its expected file, and no expected file is unlisted
    listed = {(slug, record["path"].lstrip("/")) for slug in SITES for column in site_json(slug)["columns"]
              for record in column["records"] if record.get("record", True)}
    assert set(PAGES) == listed
    assert {"gucheng", "haidao", "shengsi"} <= {slug for slug, _ in PAGES}


@pytest.mark.parametrize(("slug", "rel"), PAGES, ids=[f"{s}/{r}" for s, r in PAGES])
def test_page_matches_expected(slug, rel):
    record = parse_detail(page_bytes(slug, rel), page_url(slug, rel)).to_dict()
    diffs = field_diffs(record, expected_record(slug, rel))
    assert not diffs, "fields that differ:\n" + "\n".join(diffs)


@pytest.mark.parametrize(("slug", "rel"), PAGES, ids=[f"{s}/{r}" for s, r in PAGES])
def test_page_validates_against_schema(slug, rel, record_schema):
    record = parse_detail(page_bytes(slug, rel), page_url(slug, rel)).to_dict()
    jsonschema.validate(record, record_schema, format_checker=jsonschema.FormatChecker())
    assert list(record) == record_schema["required"]


def test_http_charset_wins_over_meta_and_gbk_pages_decode_as_gb18030():
    slug, rel = "gucheng", "art/2020/10/28/art_40512_578120.html"
    body = page_bytes(slug, rel)
    record = parse_detail(body, page_url(slug, rel), encoding="gbk")
    assert "—" in record.reply.text and "\u2015" not in record.reply.text
    assert record.to_dict() == expected_record(slug, rel)


def test_record_is_frozen():
    slug, rel = PAGES[0]
    record = parse_detail(page_bytes(slug, rel), page_url(slug, rel))
    with pytest.raises(AttributeError):
        record.title = "x"  # type: ignore[misc]
