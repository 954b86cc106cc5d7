"""Pages that are not proposal pages are refused with one documented exception, never parsed."""

from __future__ import annotations

import pytest
from conftest import page_bytes, page_url

from crawler.parsers import NotAProposalPage, parse_detail
from crawler.parsers.blocks import challenge_reason
from replica import BLOCKS


@pytest.mark.parametrize(("name", "why"), [
    ("ruishu-412.html", "Ruishu"),
    ("jsl-521.html", "cookie-setting challenge"),
    ("jsl-521-stage2.html", "JiaSuLe"),
    ("too-frequent-200.html", "访问受限"),  # its title says so before its text says 访问过于频繁
    ("verify-200.html", "安全验证"),
])
def test_challenge_and_block_pages_are_refused_as_blocked(name, why):
    with pytest.raises(NotAProposalPage) as caught:
        parse_detail((BLOCKS / name).read_bytes(), "https://www.haidao.example/art/2023/9/8/x.html")
    assert caught.value.reason == "blocked"
    assert why in str(caught.value)
    assert why in (challenge_reason((BLOCKS / name).read_text(encoding="utf-8")) or "")


def test_a_proposal_page_mentioning_a_block_phrase_in_its_body_is_still_parsed():
    body = page_bytes("haidao", "art/2023/9/8/art_1229395011_4090552.html").decode()
    body = body.replace("为此建议：", "为此建议（网站曾提示访问过于频繁、需安全验证）：")
    record = parse_detail(body.encode(), page_url("haidao", "art/2023/9/8/art_1229395011_4090552.html"))
    assert "访问过于频繁" in record.content


def test_a_real_page_carrying_a_challenge_script_is_still_parsed():
    # Ruishu-protected sites embed their script in the pages they do serve
    rel = "art/2023/9/8/art_1229395011_4090552.html"
    body = page_bytes("haidao", rel).decode().replace(
        "</head>", "<script type='text/javascript' r='m'>$_ts=window['$_ts'];if(!$_ts)$_ts={};</script></head>")
    assert parse_detail(body.encode(), page_url("haidao", rel)).lead_sponsors == ("王伟",)


@pytest.mark.parametrize("cut", [0.3, 0.6, 0.95])
def test_truncated_pages_are_refused(cut):
    body = page_bytes("shengsi", "art/2022/8/18/art_1229123456_12345678.html")
    with pytest.raises(NotAProposalPage) as caught:
        parse_detail(body[: int(len(body) * cut)], "https://www.shengsi.gov.cn/x.html")
    assert caught.value.reason == "truncated"


@pytest.mark.parametrize("body", [b"", b"   \r\n"])
def test_empty_bodies_are_refused(body):
    with pytest.raises(NotAProposalPage) as caught:
        parse_detail(body, "https://x.example/")
    assert caught.value.reason == "empty"


def test_a_notice_without_proposal_rows_is_not_a_record():
    # an ordinary 信息公开 notice: header table, a title and an article, no proposal rows, no reply letter
    page = """<html><head><meta charset="utf-8"><title>关于开展安全生产月活动的通知</title>
    <meta name="ArticleTitle" content="关于开展安全生产月活动的通知"></head><body>
    <table><tr><th>索引号：</th><td>001/2023-1</td><th>发布机构：</th><td>县应急局</td></tr></table>
    <h1>关于开展安全生产月活动的通知</h1><div id="zoom"><p>各乡镇：现将有关事项通知如下。</p></div>
    </body></html>"""
    with pytest.raises(NotAProposalPage) as caught:
        parse_detail(page.encode(), "https://x.example/a.html")
    assert caught.value.reason == "not-a-record"
    assert "通知" in caught.value.detail


def test_a_page_without_proposal_rows_or_article_text_has_no_fields():
    page = """<html><head><meta charset="utf-8"><title>关于县政协十届五次会议第3号提案的答复</title></head><body>
    <table><tr><th>索引号：</th><td>001/2023-1</td><th>发布机构：</th><td>县应急局</td></tr></table>
    <h1>关于县政协十届五次会议第3号提案的答复</h1><div id="zoom"></div></body></html>"""
    with pytest.raises(NotAProposalPage) as caught:
        parse_detail(page.encode(), "https://x.example/a.html")
    assert caught.value.reason == "no-fields"


def test_a_page_without_a_title_is_refused():
    page = "<html><head><meta charset='utf-8'></head><body><table><tr><td>领衔人：</td><td>魏巍</td></tr>" \
           "<tr><td>建议内容：</td><td>内容</td></tr></table></body></html>"
    with pytest.raises(NotAProposalPage) as caught:
        parse_detail(page.encode(), "https://x.example/a.html")
    assert caught.value.reason == "no-title"


def test_the_exception_is_a_value_error_with_its_reason():
    error = NotAProposalPage("blocked", "Ruishu")
    assert isinstance(error, ValueError) and error.reason == "blocked" and error.detail == "Ruishu"
