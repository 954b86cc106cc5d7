"""Hostile and odd input: NULs, UTF-16/32, absurd nesting and size, pages that only mention a block phrase."""

from __future__ import annotations

import codecs
import json

import pytest
from conftest import FIXTURES, expected_record, field_diffs, fixture_pages, page_bytes, page_url, site_json

from crawler.parsers import NotAProposalPage, parse_detail
from crawler.parsers.blocks import challenge_reason
from crawler.parsers.limits import MAX_DEPTH, MAX_TAGS, SCAN_FROM, complexity_refusal, nesting_depth

HAIDAO = "art/2023/9/8/art_1229395011_4090552.html"
LETTER = "www.chengling.example/xxgk/zfxxgkml/jytabl/rddbjy/202207/t20220712_1240018.shtml"


def all_strings(value):
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield key
            yield from all_strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from all_strings(item)


# --- NULs and surrogates ---------------------------------------------------------------------------

@pytest.mark.parametrize(("slug", "rel"), fixture_pages(), ids=[f"{s}/{r}" for s, r in fixture_pages()])
def test_nuls_anywhere_are_removed_from_every_field(slug, rel):
    # a NUL after every 县, 的, 、 and colon: in titles, meta tags, labels, names, extra_fields, the
    # publish line, attachment names and the letter alike
    encoding = site_json(slug)["encoding"]
    page = page_bytes(slug, rel).decode(encoding)
    for char in ("县", "的", "、", "：", "号"):
        page = page.replace(char, char + "\x00")
    assert page.count("\x00") > 20
    record = parse_detail(page.encode(encoding), page_url(slug, rel)).to_dict()
    assert not any("\x00" in text for text in all_strings(record))
    diffs = field_diffs(record, expected_record(slug, rel))
    assert not diffs, "fields that differ:\n" + "\n".join(diffs)


def test_nuls_in_a_letter_page_are_removed():
    want = json.loads((FIXTURES / "letters" / "expected" / (LETTER + ".json")).read_text(encoding="utf-8"))
    page = (FIXTURES / "letters" / "pages" / LETTER).read_bytes().replace("代表".encode(), "代\x00表".encode())
    record = parse_detail(page, want["url"]).to_dict()
    assert not field_diffs(record, want)


def test_character_references_postgresql_would_refuse_become_replacement_characters():
    page = page_bytes("haidao", HAIDAO).decode().replace("王　伟", "王&#0;伟").replace(
        "办理方式", "办理&#xD800;方式").replace("会同办理", "会同&#55296;办理")
    record = parse_detail(page.encode(), page_url("haidao", HAIDAO)).to_dict()
    for text in all_strings(record):
        assert "\x00" not in text
        text.encode("utf-8")  # no lone surrogate: PostgreSQL and every UTF-8 writer accept it
    assert record["lead_sponsors"] == ["王\ufffd伟"]


# --- UTF-16 and UTF-32 with a BOM --------------------------------------------------------------------

@pytest.mark.parametrize(("codec", "bom"), [
    ("utf-16-le", codecs.BOM_UTF16_LE), ("utf-16-be", codecs.BOM_UTF16_BE),
    ("utf-32-le", codecs.BOM_UTF32_LE), ("utf-32-be", codecs.BOM_UTF32_BE),
])
@pytest.mark.parametrize(("slug", "rel"), [("haidao", HAIDAO), ("gucheng", "art/2020/11/5/art_40512_580012.html"),
                                           ("letters", LETTER)])
def test_wide_unicode_pages_with_a_bom_give_the_same_record(codec, bom, slug, rel):
    if slug == "letters":
        body = (FIXTURES / "letters" / "pages" / rel).read_bytes()
        want = json.loads((FIXTURES / "letters" / "expected" / (rel + ".json")).read_text(encoding="utf-8"))
        url = want["url"]
    else:
        body, want, url = page_bytes(slug, rel), expected_record(slug, rel), page_url(slug, rel)
    text = body.decode("gb18030" if slug == "gucheng" else "utf-8")
    record = parse_detail(bom + text.encode(codec), url).to_dict()
    diffs = field_diffs(record, want)
    assert not diffs, f"{codec}: fields that differ:\n" + "\n".join(diffs)


def test_the_utf32_le_bom_is_not_read_as_utf16():
    text = page_bytes("haidao", HAIDAO).decode()
    body = codecs.BOM_UTF32_LE + text.encode("utf-32-le")
    assert body.startswith(codecs.BOM_UTF16_LE)
    assert parse_detail(body, page_url("haidao", HAIDAO)).lead_sponsors == ("王伟",)


def test_a_lone_surrogate_in_a_utf16_page_never_reaches_a_field():
    text = page_bytes("haidao", HAIDAO).decode()
    body = codecs.BOM_UTF16_LE + text.encode("utf-16-le").replace("王".encode("utf-16-le"), b"\x00\xd8", 1)
    record = parse_detail(body, page_url("haidao", HAIDAO)).to_dict()
    for value in all_strings(record):
        value.encode("utf-8")


def test_a_truncated_utf16_page_is_still_truncated():
    text = page_bytes("haidao", HAIDAO).decode()
    body = codecs.BOM_UTF16_LE + text[: len(text) // 2].encode("utf-16-le")
    with pytest.raises(NotAProposalPage) as caught:
        parse_detail(body, page_url("haidao", HAIDAO))
    assert caught.value.reason == "truncated"


# --- nesting and size -----------------------------------------------------------------------------------

def page(inner: bytes) -> bytes:
    return b"<html><head><title>x</title></head><body>" + inner + b"</body></html>"


@pytest.mark.parametrize("levels", [100_000, 1_000_000])
def test_absurdly_nested_documents_are_refused_before_parsing(levels):
    with pytest.raises(NotAProposalPage) as caught:
        parse_detail(page(b"<div>" * levels + b"x" + b"</div>" * levels), "https://x.example/a.html")
    assert caught.value.reason == "too-complex"


@pytest.mark.parametrize(("name", "inner"), [
    # end tags that close nothing (a </span> never closes past a <div>, a </div> never past a <td>)
    ("stray end tags", b"<span>" + b"<div></span>" * 5000),
    ("cells", b"<div>" + b"<table><tr><td></div>" * 2000),
    ("lists", b"<ul><li>" * 3000),
    ("unclosed divs", b"<div>" * 5000),
    ("upper case", b"<DIV>" * 5000),
    # end tags inside comments and scripts close nothing either
    ("comment", b"<div>" * 1500 + b"<!--" + b"</div>" * 1500 + b"-->" + b"<div>" * 1500),
    ("script", b"<div>" * 1500 + b"<script>" + b"</div>" * 1500 + b"</script>" + b"<div>" * 1500),
])
def test_depth_cannot_hide(name, inner):
    assert nesting_depth(page(inner), MAX_DEPTH) > MAX_DEPTH
    assert "deep" in (complexity_refusal(page(inner)) or "")


@pytest.mark.parametrize(("name", "inner"), [
    ("unclosed paragraphs", b"<p>text" * 5000),
    ("unclosed list items", b"<ul>" + b"<li>text" * 5000 + b"</ul>"),
    ("unclosed cells", b"<table>" + b"<tr><td>a<td>b" * 2000 + b"</table>"),
    ("void elements", b"<div>" + b"<br><img src=x><input>" * 3000 + b"</div>"),
    ("formatting", b"<p>" + b"<b>bold</b><i>it</i><a href=#>link</a>" * 1500 + b"</p>"),
    ("headings", b"<h1>a<h2>b" * 2000),
    ("options", b"<select>" + b"<option>a" * 5000 + b"</select>"),
])
def test_big_shallow_documents_are_not_refused(name, inner):
    body = page(inner)
    assert body.count(b"<") > SCAN_FROM
    assert nesting_depth(body, MAX_DEPTH) < 10
    assert complexity_refusal(body) is None


def test_every_fixture_page_nests_shallowly():
    pages = [p for p in FIXTURES.rglob("*") if p.is_file() and p.suffix in (".html", ".shtml")]
    assert len(pages) > 30
    assert max(nesting_depth(p.read_bytes(), 10_000) for p in pages) < 30


def test_a_document_of_too_many_tags_is_refused():
    body = page(b"<p>x</p>" * (MAX_TAGS // 2 + 10))
    with pytest.raises(NotAProposalPage) as caught:
        parse_detail(body, "https://x.example/a.html")
    assert caught.value.reason == "too-complex" and "tags" in caught.value.detail


def test_a_real_page_padded_past_the_scan_threshold_still_parses():
    text = page_bytes("haidao", HAIDAO).decode()
    links = "<div class='links'>" + "<a href='/x'>友情链接</a>" * 3000 + "</div>"
    padded = text.replace("<!--webbuild_footer end-->", links)
    assert padded.encode().count(b"<") > SCAN_FROM
    record = parse_detail(padded.encode(), page_url("haidao", HAIDAO)).to_dict()
    assert not field_diffs(record, expected_record("haidao", HAIDAO))


# --- pages that only mention a block phrase --------------------------------------------------------------

NEWS = """<!DOCTYPE html><html><head><meta charset="utf-8"><title>县数据局完成政务外网升级</title></head>
<body><h1>县数据局完成政务外网升级</h1>
<p>近日，县数据局完成了政务外网升级改造，新系统上线后，用户登录需通过安全验证，访问过于频繁的账号将被临时锁定。</p>
<p>县数据局</p><p>2023年5月6日</p></body></html>"""


def test_a_small_news_page_mentioning_block_phrases_is_not_a_block_page():
    assert challenge_reason(NEWS) is None
    assert challenge_reason(NEWS, anywhere=True) is None
    with pytest.raises(NotAProposalPage) as caught:
        parse_detail(NEWS.encode(), "https://x.example/news.html")
    assert caught.value.reason == "not-a-record"


def test_a_letter_page_mentioning_a_block_phrase_is_still_a_record():
    want = json.loads((FIXTURES / "letters" / "expected" / (LETTER + ".json")).read_text(encoding="utf-8"))
    body = (FIXTURES / "letters" / "pages" / LETTER).read_bytes().decode().replace(
        "下一步，我局将", "下一步，针对部分电站监控平台访问过于频繁、需安全验证的问题，我局将")
    record = parse_detail(body.encode(), want["url"])
    assert "访问过于频繁" in record.reply.text


@pytest.mark.parametrize("body", [
    "<html><head><title>请稍候</title></head><body><p>访问过于频繁，请稍后再试</p></body></html>",
    "<html><head><title>安全验证 - 某县人民政府</title></head><body><div>请拖动滑块完成验证</div></body></html>",
    "<html><body><h3>您的访问被拒绝</h3><p>事件ID：ab12</p></body></html>",
    # a WAF page that explains itself in a paragraph
    "<html><head><title>访问受限</title></head><body><h2>访问过于频繁</h2><p>系统检测到您所在网络的访问频率超过了"
    "本站设定的安全阈值，为保障网站正常运行，已暂时限制您的访问，请十分钟后再试，如有疑问请联系网站管理员。</p>"
    "</body></html>",
])
def test_block_pages_of_other_wordings_are_still_block_pages(body):
    assert challenge_reason(body)
    with pytest.raises(NotAProposalPage) as caught:
        parse_detail(body.encode(), "https://x.example/a.html")
    assert caught.value.reason == "blocked"


@pytest.mark.parametrize(("name", "inner", "reason"), [
    # small enough to skip the depth scan, deep enough to have cost seconds in walks up and down
    # the tree: each is read (and refused) like any page
    ("wrapper chain", b"<span>" * 2900 + b"x", "no-fields"),
    ("wrappers and comments", b"<span><!-- -->" * 1450 + b"x", "no-fields"),
    ("text at every level", b"<span>a" * 2900, "not-a-record"),
    ("labels at every level", "<font>领衔人：".encode() * 1450 + b"x", "not-a-record"),
    ("unclosed divs", b"<div>" * 2900 + b"x", "no-fields"),
    ("nested lists", b"<ul><li>" * 1450 + b"x", "no-fields"),
    ("nested cells", b"<table><tr><td>" * 960 + b"x", "no-fields"),
])
def test_deep_small_documents_are_read_like_any_page(name, inner, reason):
    body = page(inner)
    assert body.count(b"<") <= SCAN_FROM
    with pytest.raises(NotAProposalPage) as caught:
        parse_detail(body, "https://x.example/a.html")
    assert caught.value.reason == reason
