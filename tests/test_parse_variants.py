"""The parser follows general rules, not the fixtures' markup.

Each case rewrites real fixture pages into another layout or wording the platforms use (th
labels, a label row above its value row, several pairs in a row, label and value in one cell,
dl/dt/dd, div rows, other synonyms, no meta tags, other encodings) and expects the very same
record: the rewrite changes how a field is printed, never what it says.
"""

from __future__ import annotations

import re

import pytest
from conftest import FIXTURES, expected_record, field_diffs, fixture_pages, page_bytes, page_url

from crawler.parsers import parse_detail
from crawler.parsers.reply import parse_reply

HAIDAO = [rel for slug, rel in fixture_pages() if slug == "haidao"]
ROW = re.compile(r'<tr>\s*<td class="label">(.*?)</td>\s*<td class="value">(.*?)</td>\s*</tr>', re.S)
TABLE = re.compile(r'<table class="proposal-table".*?</table>', re.S)


def th_labels(page: str) -> str:
    return ROW.sub(lambda m: f"<tr><th>{m[1]}</th><td>{m[2]}</td></tr>", page)


def label_above_value(page: str) -> str:
    return ROW.sub(lambda m: f'<tr><td colspan="2">{m[1]}</td></tr><tr><td colspan="2">{m[2]}</td></tr>', page)


def label_and_value_in_one_cell(page: str) -> str:
    return ROW.sub(lambda m: f'<tr><td colspan="2">{m[1]}{m[2]}</td></tr>'
                   if "<p" not in m[2] and len(m[2]) < 80 else m[0], page)


def two_pairs_per_row(page: str) -> str:
    rows = list(ROW.finditer(page))
    for first, second in zip(rows[0::2], rows[1::2], strict=False):
        merged = (f'<tr><td class="label">{first[1]}</td><td class="value">{first[2]}</td>'
                  f'<td class="label">{second[1]}</td><td class="value">{second[2]}</td></tr>')
        page = page.replace(first[0] + page[first.end():second.start()] + second[0], merged)
    return page


def definition_list(page: str) -> str:
    return TABLE.sub(lambda m: "<dl>" + "".join(f"<dt>{r[1]}</dt><dd>{r[2]}</dd>" for r in ROW.finditer(m[0]))
                     + "</dl>", page)


def div_rows(page: str) -> str:
    return TABLE.sub(lambda m: '<div class="record">' + "".join(
        f'<div class="row"><span class="l">{r[1]}</span><div class="v">{r[2]}</div></div>'
        for r in ROW.finditer(m[0])) + "</div>", page)


def labels_without_colons(page: str) -> str:
    return re.sub(r'<td class="label">(.*?)：</td>', r'<td class="label">\1</td>', page)


SYNONYMS = {"领衔人": "提案人", "附议人": "联名人", "建议内容": "案由", "主办单位": "承办单位", "会办单位": "协办单位",
            "答复意见": "复文正文", "采纳情况": "答复类型"}


def other_synonyms(page: str) -> str:
    for label, synonym in SYNONYMS.items():
        page = page.replace(f'<td class="label">{label}：</td>', f'<td class="label">{synonym}：</td>')
    return page


def no_meta_tags(page: str) -> str:
    return re.sub(r'<meta name="(ArticleTitle|PubDate|ContentSource|ColumnName|Url)"[^>]*>', "", page)


def no_zoom_id(page: str) -> str:
    return page.replace('id="zoom"', 'id="content"')


def footer_naming_a_sponsor_unit(page: str) -> str:
    return page.replace("<tr><td>网站标识码：</td>", "<tr><td>主办单位：</td><td>海岛县人民政府办公室</td></tr>"
                                                   "<tr><td>网站标识码：</td>")


REWRITES = [th_labels, label_above_value, label_and_value_in_one_cell, two_pairs_per_row, definition_list,
            div_rows, labels_without_colons, other_synonyms, no_meta_tags, no_zoom_id, footer_naming_a_sponsor_unit]


@pytest.mark.parametrize("rewrite", REWRITES, ids=[r.__name__ for r in REWRITES])
@pytest.mark.parametrize("rel", HAIDAO)
def test_rewritten_layout_gives_the_same_record(rewrite, rel):
    page = page_bytes("haidao", rel).decode("utf-8")
    rewritten = rewrite(page)
    assert rewritten != page or rewrite is label_and_value_in_one_cell
    record = parse_detail(rewritten.encode("utf-8"), page_url("haidao", rel)).to_dict()
    diffs = field_diffs(record, expected_record("haidao", rel))
    assert not diffs, f"{rewrite.__name__}: fields that differ:\n" + "\n".join(diffs)


GUCHENG = "art/2020/10/28/art_40512_578120.html"
HAIDAO_PAGE = "art/2023/9/22/art_1229395011_4096107.html"


@pytest.mark.parametrize(("slug", "rel", "transcode", "http_charset"), [
    ("gucheng", GUCHENG, None, "utf-8"),  # a server that lies about a GBK page
    ("gucheng", GUCHENG, lambda t: t.replace("charset=gb2312", "charset=utf-8").encode("utf-8"), None),
    ("gucheng", GUCHENG, lambda t: re.sub(r"<meta http-equiv[^>]*>", "", t).encode("gb18030"), None),
    ("haidao", HAIDAO_PAGE, lambda t: t.replace('<meta charset="utf-8">', '<meta charset="gbk">').encode("gb18030"),
     None),
    ("haidao", HAIDAO_PAGE, lambda t: t.encode("gb18030"), "GBK"),
    ("haidao", HAIDAO_PAGE, lambda t: b"\xef\xbb\xbf" + t.encode("utf-8"), None),
])
def test_other_encodings_give_the_same_record(slug, rel, transcode, http_charset):
    body = page_bytes(slug, rel)
    if transcode is not None:
        body = transcode(body.decode("gb18030" if slug == "gucheng" else "utf-8"))
    record = parse_detail(body, page_url(slug, rel), encoding=http_charset).to_dict()
    diffs = field_diffs(record, expected_record(slug, rel))
    assert not diffs, "fields that differ:\n" + "\n".join(diffs)


def test_a_title_printed_over_two_paragraphs_and_a_signer_beside_the_date():
    reply = parse_reply(["嵊泗县人民政府办公室关于对县政协九届六次会议", "第16号提案答复的函", "嵊政办函〔2021〕12号",
                         "魏巍委员：", "您提出的建议收悉。", "感谢您的支持。", "嵊泗县人民政府办公室 2021年7月20日",
                         "抄送：县政协提案委"])
    assert reply.title == "嵊泗县人民政府办公室关于对县政协九届六次会议第16号提案答复的函"
    assert (reply.doc_number, reply.addressee, reply.signer, reply.date) == (
        "嵊政办函〔2021〕12号", "魏巍委员", "嵊泗县人民政府办公室", "2021-07-20")


def test_a_salutation_run_into_the_body_and_a_remark_after_the_date():
    reply = parse_reply(["关于县十七届人大二次会议第12号建议的答复", "魏巍代表：您提出的建议收悉，现答复如下：",
                         "一、已经办理。", "县交通运输局", "二〇二一年七月二十日", "（联系人：王五，电话：12345678）"])
    assert (reply.title, reply.doc_number, reply.addressee, reply.signer, reply.date) == (
        "关于县十七届人大二次会议第12号建议的答复", None, "魏巍代表", "县交通运输局", "2021-07-20")


def test_a_letter_without_a_signer_line():
    reply = parse_reply(["关于第3号提案的答复", "张三委员：", "已办理。感谢您的关心。", "2021年7月20日"])
    assert (reply.signer, reply.date) == (None, "2021-07-20")


def test_a_pointer_to_an_attachment_is_the_whole_reply():
    reply = parse_reply(["见附件"])
    assert reply.text == "见附件"
    assert (reply.title, reply.doc_number, reply.addressee, reply.signer, reply.date) == (None,) * 5


def test_word_style_paragraphs_without_any_table():
    """Label paragraphs whose values run on over the following paragraphs, as pasted from Word."""
    page = (FIXTURES / "layouts" / "word-paragraphs.html").read_bytes()
    record = parse_detail(page, "http://www.example.gov.cn/art/2023/5/6/art_1_2.html")
    assert record.number == "0012"
    assert record.lead_sponsors == ("郑秀兰", "许志刚")
    assert record.content == "城区停车难问题日益突出。\n建议：一是规划建设公共停车场；二是推进错时共享停车。"
    assert record.lead_units == ("县住房和城乡建设局",)
    assert record.reply.title == "某县住房和城乡建设局关于对县政协十届二次会议第12号提案的答复"
    assert (record.reply.doc_number, record.reply.addressee, record.reply.signer, record.reply.date) == (
        "某住建函〔2023〕8号", "郑秀兰委员", "某县住房和城乡建设局", "2023-04-20")
    assert (record.adoption_label, record.adoption_class, record.session) == ("A类", "A", "十届二次")
    assert (record.disclosure.published_at, record.disclosure.source) == ("2023-05-06T10:20", "县住建局")
    assert record.kind == "cppcc_proposal"


def test_zero_width_characters_and_entities_in_cells():
    rel = "art/2023/9/8/art_1229395011_4090552.html"
    page = page_bytes("haidao", rel).decode().replace("王　伟", "王\u200b伟&nbsp;").replace(
        '<td class="value">落实中</td>', '<td class="value">&#33853;实中\ufeff</td>')
    record = parse_detail(page.encode(), page_url("haidao", rel))
    assert record.lead_sponsors == ("王伟",)
    assert record.implementation_status == "落实中"


def test_a_seal_line_between_signer_and_date():
    reply = parse_reply(["关于第3号提案的答复", "张三委员：", "已办理。", "县交通运输局", "（盖章）", "2021年7月20日"])
    assert (reply.signer, reply.date) == ("县交通运输局", "2021-07-20")


def test_a_doc_number_printed_at_the_foot():
    reply = parse_reply(["关于市十六届人大一次会议第123号建议的答复", "赵六代表：", "已办理。", "舟山市海洋与渔业局",
                         "2022年5月30日", "（舟海渔建〔2022〕5号）"])
    assert (reply.doc_number, reply.signer, reply.date) == ("舟海渔建〔2022〕5号", "舟山市海洋与渔业局", "2022-05-30")
