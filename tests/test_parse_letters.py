"""Letter pages (RECORD.md, "Letter pages" and "Letter rules"): pages on which the reply letter is the record.

tests/fixtures/letters/ holds pages of several CMS templates (TRS WCM, a home-grown one, a Hanweb-style
div#zoom one; UTF-8 and GB18030) under pages/<host>/<path>, each with its expected record under
expected/<host>/<path>.json, and pages that are not letters about one proposal under refused/<host>/<path>
(refused.json says what the refusal must mention).
"""

from __future__ import annotations

import json

import jsonschema
import pytest
from conftest import FIXTURES, field_diffs

from crawler.parsers import NotAProposalPage, parse_detail
from crawler.parsers.letter import letter_number, only_link_names, parse_letter, sponsors_of
from crawler.parsers.reply import parse_reply

LETTERS = FIXTURES / "letters"


def letter_pages() -> list[str]:
    return sorted(p.relative_to(LETTERS / "expected").as_posix()[: -len(".json")]
                  for p in (LETTERS / "expected").rglob("*.json"))


def expected_letter(rel: str) -> dict:
    return json.loads((LETTERS / "expected" / (rel + ".json")).read_text(encoding="utf-8"))


REFUSED = json.loads((LETTERS / "refused.json").read_text(encoding="utf-8"))
PAGES = letter_pages()


def refused_path(url: str):
    return LETTERS / "refused" / url.split("://", 1)[1]


def test_the_fixture_set_covers_the_templates():
    hosts = {rel.split("/", 1)[0] for rel in PAGES}
    assert hosts == {"www.chengling.example", "www.canglan.example", "www.qiluan.example", "www.meian.example"}
    assert len(PAGES) >= 12 and len(REFUSED) >= 4
    assert all((LETTERS / "pages" / rel).is_file() for rel in PAGES)
    assert all(refused_path(url).is_file() for url in REFUSED)


@pytest.mark.parametrize("rel", PAGES)
def test_letter_page_matches_expected(rel):
    want = expected_letter(rel)
    record = parse_detail((LETTERS / "pages" / rel).read_bytes(), want["url"]).to_dict()
    diffs = field_diffs(record, want)
    assert not diffs, "fields that differ:\n" + "\n".join(diffs)


@pytest.mark.parametrize("rel", PAGES)
def test_expected_letter_validates_against_schema(rel, record_schema):
    want = expected_letter(rel)
    jsonschema.validate(want, record_schema, format_checker=jsonschema.FormatChecker())
    assert list(want) == record_schema["required"]


@pytest.mark.parametrize("url", sorted(REFUSED))
def test_pages_that_are_not_letters_about_one_proposal_are_refused(url):
    with pytest.raises(NotAProposalPage) as caught:
        parse_detail(refused_path(url).read_bytes(), url)
    assert caught.value.reason == "not-a-record"
    assert REFUSED[url] in caught.value.detail


def test_gb18030_pages_decode_as_declared_gb2312_and_keep_gbk_only_characters():
    rel = "www.canglan.example/zwgk/jytabl/zxwyta/202209/t20220920_90456.shtml"
    body = (LETTERS / "pages" / rel).read_bytes()
    assert b"charset=gb2312" in body
    with pytest.raises(UnicodeDecodeError):
        body.decode("gb2312")
    assert parse_detail(body, expected_letter(rel)["url"]).reply.date == "2022-08-16"  # 二〇二二年八月十六日


def test_a_letter_page_transcoded_to_utf8_gives_the_same_record():
    rel = "www.canglan.example/zwgk/jytabl/rddbjy/202111/t20211102_88123.shtml"
    page = (LETTERS / "pages" / rel).read_bytes().decode("gb18030").replace("charset=gb2312", "charset=utf-8")
    record = parse_detail(page.encode("utf-8"), expected_letter(rel)["url"]).to_dict()
    assert not field_diffs(record, expected_letter(rel))


def test_footer_naming_a_unit_never_makes_a_letter_page_a_label_page():
    # every chengling page has `<p>主办单位：澄岭县人民政府办公室 …</p>` beside 网站标识码 in its footer
    rel = "www.chengling.example/xxgk/zfxxgkml/jytabl/zxwyta/202205/t20220510_1234567.shtml"
    page = (LETTERS / "pages" / rel).read_bytes()
    assert "主办单位：澄岭县人民政府办公室".encode() in page
    assert parse_detail(page, expected_letter(rel)["url"]).lead_units == ("澄岭县教育体育局",)


# --- the letter rules on plain lines (what issue 14 runs over attachment text) ----------------------

def test_parse_letter_reads_lines_of_any_origin():
    letter = parse_letter(["（B类）", "澄岭县民政局关于县政协十届五次会议第 7 号提案的答复", "澄民函〔2022〕3号",
                           "孙立、何芳委员", "你们提出的《关于发展社区嵌入式养老服务的提案》收悉。现答复如下：",
                           "已在城区新建社区养老服务站2处。", "澄岭县民政局", "20220615",
                           "联系人：甘露", "抄送：县政协提案委员会"])
    assert letter.refusal is None
    assert (letter.number, letter.session, letter.kind) == ("7", "十届五次", "cppcc_proposal")
    assert letter.proposal_title == "关于发展社区嵌入式养老服务的提案"
    assert letter.lead_sponsors == ("孙立", "何芳") and letter.lead_units == ("澄岭县民政局",)
    assert (letter.adoption_label, letter.adoption_class) == ("B类", "B")
    reply = letter.reply
    assert (reply.title, reply.doc_number, reply.addressee, reply.signer, reply.date) == (
        "澄岭县民政局关于县政协十届五次会议第 7 号提案的答复", "澄民函〔2022〕3号", "孙立、何芳委员", "澄岭县民政局",
        "2022-06-15")


def test_a_greeting_is_not_the_opening_paragraph():
    letter = parse_letter(["关于县政协十届五次会议第3号提案的答复", "王五委员：您好！",
                           "您提出的《关于建设城市书房的提案》收悉。", "县文旅局", "2022年5月6日"])
    assert letter.proposal_title == "关于建设城市书房的提案" and letter.lead_sponsors == ("王五",)
    letter = parse_letter(["关于县政协十届五次会议第3号提案的答复", "王五委员：", "您好！",
                           "您提出的《关于建设城市书房的提案》收悉。", "县文旅局", "2022年5月6日"])
    assert letter.proposal_title == "关于建设城市书房的提案"


def test_a_co_opinion_is_signed_by_a_co_unit():
    letter = parse_letter(["县财政局关于县十五届人大四次会议第9号建议的会办意见", "县农业农村局：",
                           "你局转来的《关于加大农机购置补贴力度的建议》收悉。", "县财政局", "2022年5月6日"])
    assert (letter.lead_units, letter.co_units, letter.lead_sponsors) == ((), ("县财政局",), ())
    assert letter.kind == "npc_suggestion"


@pytest.mark.parametrize(("title", "number"), [
    ("关于对政协盐池县第十届委员会五次会议49号提案的答复函", "49"),
    ("关于县十五届人大四次会议第 44 号建议的答复", "44"),
    ("关于对省政协十二届二次会议第20190017号提案的答复", "20190017"),
    ("关于市十四届人大二次会议“126号”建议的答复", "126"),
    ("对市政协十五届二次会议第0487号提案的答复", "0487"),
    ("关于第１２号提案的答复", "12"),
    ("县教育局关于加强校园安全的答复（县教函〔2022〕15号）", None),
    ("关于加强校园安全的建议的答复", None),
])
def test_the_number_comes_from_the_letter_title(title, number):
    assert letter_number(title) == number


@pytest.mark.parametrize(("addressee", "names"), [
    ("贺文国、佟金菊委员", ["贺文国", "佟金菊"]),
    ("莽永桥等代表", ["莽永桥"]),
    ("赵小英,陈素明等代表", ["赵小英", "陈素明"]),
    ("尊敬的王俊波代表", ["王俊波"]),
    ("张三委员、李四代表", ["张三", "李四"]),
    ("许文博同志", ["许文博"]),
    ("县住房和城乡建设局", []),
    ("各位代表", []),
])
def test_sponsors_are_the_names_the_salutation_addresses(addressee, names):
    assert sponsors_of(addressee) == names


@pytest.mark.parametrize(("lines", "why"), [
    (["各乡镇人民政府：", "现将2023年度建议提案办理工作有关事项通知如下：", "一、按时办结。", "县政府办公室",
      "2023年3月1日"], "通知"),
    (["第1号 关于…的建议 已答复", "第2号 关于…的建议 已答复", "第3号 关于…的提案 已答复"], "3 proposals"),
    (["今年我县建议提案答复工作进展顺利，答复率达100%。"], "no reply letter"),
])
def test_lines_that_are_not_a_letter_about_one_proposal(lines, why):
    heading = "关于做好2023年度建议提案办理工作的通知" if why == "通知" else "建议提案答复情况"
    assert why in (parse_letter(lines, heading=heading).refusal or "")


# --- the letter rules on every page form ----------------------------------------------------------

def test_a_salutation_without_a_colon():
    reply = parse_reply(["关于第5号提案的答复", "贺文国、佟金菊委员", "你们提出的建议收悉。", "县教育局",
                         "2021年10月22日"])
    assert reply.addressee == "贺文国、佟金菊委员"


def test_a_names_salutation_wins_over_page_chrome():
    reply = parse_reply(["分享到：", "关于第5号提案的答复", "沈家豪委员", "您提出的建议收悉。", "县文旅局",
                         "2023年6月5日"])
    assert reply.addressee == "沈家豪委员"
    assert reply.title == "关于第5号提案的答复"


def test_a_unit_salutation_still_counts_when_no_names_line_is_there():
    reply = parse_reply(["县财政局关于第9号建议的会办意见", "县农业农村局：", "你局转来的建议收悉。", "县财政局",
                         "2022年5月6日"])
    assert reply.addressee == "县农业农村局"


@pytest.mark.parametrize(("last", "date"), [
    ("20211022", "2021-10-22"), ("２０２１１０２２", None), ("20211322", None), ("20210230", None),
    ("2021.7.20", "2021-07-20"), ("2021 年 7 月 20 日", "2021-07-20"),
])
def test_a_bare_eight_digit_date_counts_only_when_it_is_a_calendar_date(last, date):
    reply = parse_reply(["关于第5号提案的答复", "张三委员：", "已办理。", "县教育局", last])
    assert reply.date == date
    assert reply.signer == ("县教育局" if date else None)


def test_a_title_over_two_lines_after_head_marks_is_joined():
    reply = parse_reply(["类别：A", "签发人：王五", "苍卫函〔2022〕56号",
                         "苍澜市卫生健康委员会关于对市政协九届三次会议", "第37号提案的答复函", "冯雪梅委员：",
                         "您提出的提案收悉。", "苍澜市卫生健康委员会", "2022年8月16日"])
    assert reply.title == "苍澜市卫生健康委员会关于对市政协九届三次会议第37号提案的答复函"
    assert reply.doc_number == "苍卫函〔2022〕56号"


def test_contact_lines_after_the_date_or_before_the_signer():
    reply = parse_reply(["关于第5号提案的答复", "张三委员：", "已办理。", "联系人：李四 联系电话：12345678", "县教育局",
                         "2022年5月6日", "抄送：县政协提案委"])
    assert (reply.signer, reply.date) == ("县教育局", "2022-05-06")


@pytest.mark.parametrize(("lines", "names", "only"), [
    (["附件：海岛县教育局答复函.pdf"], ["海岛县教育局答复函.pdf"], True),
    (["附件1：答复函.pdf", "附件2：征询意见表.doc"], ["答复函.pdf", "征询意见表.doc"], True),
    (["见附件"], ["答复函.pdf"], False),
    (["答复函.pdf"], [], False),
    (["您提出的建议收悉，详见附件：答复函.pdf"], ["答复函.pdf"], False),
])
def test_only_link_names(lines, names, only):
    assert only_link_names(lines, names) is only


def test_a_reply_cell_of_attachment_names_only_gives_no_reply():
    from conftest import expected_record, page_bytes, page_url

    rel = "art/2023/8/30/art_1229395011_4087260.html"  # its reply cell says 见附件
    page = page_bytes("haidao", rel).decode()
    want = expected_record("haidao", rel)
    assert parse_detail(page.encode(), page_url("haidao", rel)).reply.text == "见附件"
    link = '<a href="/module/download/downfile.jsp?classid=0&amp;filename=aa11.pdf">海岛县答复函.pdf</a>'
    cell_start = page.index("见附件")
    rewritten = page[:cell_start] + "附件：" + link + page[cell_start + len("见附件"):]
    record = parse_detail(rewritten.encode(), page_url("haidao", rel))
    assert record.reply is None
    assert "海岛县答复函.pdf" in [a.name for a in record.attachments]
    assert record.lead_sponsors == tuple(want["lead_sponsors"])


# --- the same letters in templates never seen ------------------------------------------------------

CONTAINER_NAMES = (("TRS_Editor", "zw-text"), ("view TRS_UEDITOR trs_paper_default trs_web", "zw-box"),
                   ("article-content", "post-body"), ('id="zoom"', 'id="body-text"'), ("art-con", "x-con"))


def unknown_container(page: str) -> str:
    for known, other in CONTAINER_NAMES:
        page = page.replace(known, other)
    return page


def paragraphs_as_divs(page: str) -> str:
    return unknown_container(page).replace("<p ", "<div ").replace("<p>", "<div>").replace("</p>", "</div>")


def no_meta_tags(page: str) -> str:
    import re

    return re.sub(r'<meta name="(ArticleTitle|PubDate|ContentSource|ColumnName|Url)"[^>]*>', "", page)


LETTER_REWRITES = [unknown_container, paragraphs_as_divs, no_meta_tags]


@pytest.mark.parametrize("rewrite", LETTER_REWRITES, ids=[r.__name__ for r in LETTER_REWRITES])
@pytest.mark.parametrize("rel", PAGES)
def test_rewritten_letter_page_gives_the_same_record(rewrite, rel):
    want = expected_letter(rel)
    encoding = "gb18030" if "canglan" in rel else "utf-8"
    page = (LETTERS / "pages" / rel).read_bytes().decode(encoding)
    rewritten = rewrite(page)
    record = parse_detail(rewritten.encode(encoding), want["url"]).to_dict()
    diffs = field_diffs(record, want)
    assert not diffs, f"{rewrite.__name__}: fields that differ:\n" + "\n".join(diffs)
