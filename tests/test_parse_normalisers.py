"""The normalisers of RECORD.md, one known value at a time."""

from __future__ import annotations

import pytest

from crawler.parsers import text
from crawler.parsers.encoding import content_type_charset, decode_html, normalize_encoding
from crawler.parsers.hanweb import kind_from_text
from crawler.parsers.labels import field_for_label


@pytest.mark.parametrize(("raw", "label"), [
    ("索 引 号：", "索引号"), ("类　　型：", "类型"), ("领衔人:", "领衔人"), ("\u00a0公开方式 ：", "公开方式"),
    ("组配分类", "组配分类"),
])
def test_labels_lose_whitespace_and_colon(raw, label):
    assert text.normalize_label(raw) == label


@pytest.mark.parametrize(("label", "field"), [
    ("领衔人", "lead_sponsors"), ("提案人", "lead_sponsors"), ("领衔代表", "lead_sponsors"),
    ("附议人", "co_sponsors"), ("附议代表", "co_sponsors"), ("联名人", "co_sponsors"),
    ("建议内容", "content"), ("提案内容", "content"), ("案由", "content"),
    ("主办单位", "lead_units"), ("承办单位", "lead_units"), ("牵头单位", "lead_units"),
    ("会办单位", "co_units"), ("协办单位", "co_units"),
    ("答复意见", "reply"), ("答复内容", "reply"), ("办理答复", "reply"), ("复文正文", "reply"),
    ("采纳情况", "adoption"), ("办理结果", "adoption"), ("答复类型", "adoption"),
    ("落实情况", "implementation_status"), ("影响范围", "impact_scope"), ("审核通过单位", "approved_by"),
    ("附议人（联名人）", "co_sponsors"), ("一、领衔人", "lead_sponsors"), ("（二）附议人", "co_sponsors"),
    ("3.答复意见", "reply"), ("主题分类", None), ("代表团", None), ("网站标识码", None),
])
def test_label_synonyms(label, field):
    assert field_for_label(label) == field


@pytest.mark.parametrize("value", ["请选择", "无", "暂无", "/", "—", "-", "", "  ", "\u3000", "——", "－"])
def test_placeholders_mean_no_value(value):
    assert text.is_placeholder(value)
    assert text.scalar(value) is None
    assert text.split_names(value) == []


@pytest.mark.parametrize("value", ["落实中", "B类", "无锡市", "A"])
def test_values_are_not_placeholders(value):
    assert not text.is_placeholder(value)


@pytest.mark.parametrize(("raw", "names"), [
    ("王　伟", ["王伟"]),
    ("林晓东、陈　佳", ["林晓东", "陈佳"]),
    ("陆海涛、姚丽萍等", ["陆海涛", "姚丽萍"]),
    ("张三等5人", ["张三"]),
    ("李明，张海峰;王五；赵六/钱七", ["李明", "张海峰", "王五", "赵六", "钱七"]),
    ("县发展和改革局\n县财政局", ["县发展和改革局", "县财政局"]),
    ("Ｗａｎｇ　Ｌｉ", ["WangLi"]),
    ("魏巍、魏巍", ["魏巍"]),
    ("无", []),
])
def test_names(raw, names):
    assert text.split_names(raw) == names


@pytest.mark.parametrize(("raw", "iso"), [
    ("2021 年 7 月 20 日", "2021-07-20"), ("2021年07月20日", "2021-07-20"), ("2021-7-20", "2021-07-20"),
    ("2021/07/20", "2021-07-20"), ("２０２１年７月２０日", "2021-07-20"),
    ("二〇二一年七月二十日", "2021-07-20"), ("二〇二〇年十一月五日", "2020-11-05"),
    ("二○二二年十二月三十一日", "2022-12-31"), ("二〇二三年元月廿日", "2023-01-20"),
    ("2021年2月30日", None), ("今年截至 6 月 22 日", None), ("", None),
])
def test_dates(raw, iso):
    assert text.parse_date(raw) == iso


@pytest.mark.parametrize(("raw", "iso"), [
    ("2022-08-18 09:41", "2022-08-18T09:41"), ("2020-12-10 16:32:07", "2020-12-10T16:32"),
    ("2022-08-18", "2022-08-18"), ("2023年9月8日 16:45", "2023-09-08T16:45"), ("", None), ("次数", None),
])
def test_datetimes_drop_seconds(raw, iso):
    assert text.parse_datetime(raw) == iso


@pytest.mark.parametrize(("raw", "number", "title"), [
    ("(202116号)关于进一步提升我县电信网络诈骗防范成效的建议", "202116",
     "关于进一步提升我县电信网络诈骗防范成效的建议"),
    ("（第0487号）关于某事的建议", "0487", "关于某事的建议"),
    ("第28号 关于加强古城墙遗址保护利用的建议", "28", "关于加强古城墙遗址保护利用的建议"),
    ("【第12号】关于某事的提案", "12", "关于某事的提案"),
    ("（第１２号）关于某事", "12", "关于某事"),
    ("关于加快推进2023年北港中心渔港提升改造的建议", None, "关于加快推进2023年北港中心渔港提升改造的建议"),
    ("第28号关于没有空格的标题", None, "第28号关于没有空格的标题"),
])
def test_titles_split_into_number_and_title(raw, number, title):
    assert text.split_title(raw) == (number, title)


@pytest.mark.parametrize(("number", "title", "year"), [
    ("202116", "关于", 2021), ("2020046", "x", 2020), ("20230021", "x", 2023), ("0015", "关于加快推进2023年北港", 2023),
    ("12", "关于某事", None), (None, "关于2019年的建议", 2019), ("123456", "关于", None),
])
def test_years(number, title, year):
    assert text.derive_year(number, title) == year


@pytest.mark.parametrize(("raw", "session"), [
    ("嵊泗县人民政府办公室关于对县政协九届六次会议第 16 号提案答复的函", "九届六次"),
    ("古城县交通运输局关于县十六届人大五次会议第7号建议的答复", "十六届五次"),
    ("关于对县十七届人大二次会议第3号建议的答复", "十七届二次"),
    ("关于市第十二届人民代表大会第三次会议第5号建议的答复", "十二届三次"),
    ("关于政协第十一届委员会第二次会议第9号提案的答复", "十一届二次"),
    ("关于某事的答复", None), (None, None),
])
def test_sessions(raw, session):
    assert text.parse_session(raw) == session


@pytest.mark.parametrize(("raw", "doc_number"), [
    ("嵊政办函〔2021〕12 号", "嵊政办函〔2021〕12号"), ("海卫健函〔2022〕 11 号", "海卫健函〔2022〕11号"),
    ("海教函[2023]6号", "海教函[2023]6号"), ("海政办函（2022）第7号", "海政办函（2022）第7号"),
    ("文号：古交建〔2020〕5号 签发人：张三", "古交建〔2020〕5号"),
    ("关于对县政协九届六次会议第 16 号提案答复的函", None), ("今年截至 6 月 22 日", None),
])
def test_doc_numbers(raw, doc_number):
    assert text.parse_doc_number(raw) == doc_number


@pytest.mark.parametrize(("raw", "label", "klass"), [
    ("B类", "B类", "B"), ("Ａ类", "A类", "A"), ("B 类", "B类", "B"), ("B", "B", "B"), ("c类", "c类", "C"),
    ("甲类", "甲类", "A"), ("乙类", "乙类", "B"), ("丙类", "丙类", "C"), ("丁类", "丁类", "D"),
    ("请选择", None, None), ("", None, None), ("已采纳", "已采纳", None), ("E类", "E类", None),
])
def test_adoption_classes(raw, label, klass):
    assert text.normalize_adoption_label(raw) == label
    assert text.adoption_class(label) == klass


@pytest.mark.parametrize(("hint", "kind"), [
    ("政协委员提案办理", "cppcc_proposal"), ("人大代表建议办理", "npc_suggestion"), ("建议提案办理", None),
    ("古城县交通运输局关于县十六届人大五次会议第7号建议的答复", "npc_suggestion"),
    ("关于对县政协九届六次会议第 16 号提案答复的函", "cppcc_proposal"),
    ("关于《关于加强养老服务的建议》提案的答复", "cppcc_proposal"), (None, None),
])
def test_kind_hints(hint, kind):
    assert kind_from_text(hint) == kind


@pytest.mark.parametrize(("label", "codec"), [
    ("gb2312", "gb18030"), ("GBK", "gb18030"), ("utf8", "utf-8"), ("UTF-8", "utf-8"), ("x-gbk", "gb18030"),
    ("big5", "big5hkscs"), ("no-such-charset", None),
])
def test_encoding_labels(label, codec):
    assert normalize_encoding(label) == codec


@pytest.mark.parametrize(("header", "label"), [
    ("text/html; charset=GBK", "gbk"), ('text/html; Charset="utf-8"; q=1', "utf-8"), ("text/html", None),
    (None, None), ("text/html; charset=", None),
])
def test_charset_of_an_http_content_type(header, label):
    assert content_type_charset(header) == label


def test_gb2312_pages_decode_as_gb18030():
    # 〇 exists in GBK only, and A1AA is the em dash browsers show (strict gb2312 gives U+2015)
    body = '<meta charset="gb2312"><p>二〇二〇年—</p>'.encode("gb18030")
    assert body.decode("gb18030") != body.decode("gb2312", "replace")
    text_, codec = decode_html(body)
    assert codec == "gb18030" and "二〇二〇年—" in text_


def test_http_charset_first_then_meta_then_detection():
    page = '<meta http-equiv="Content-Type" content="text/html; charset=gbk"><p>魏巍</p>'
    assert decode_html(page.encode("gb18030"))[1] == "gb18030"
    assert decode_html(page.encode("utf-8"), "utf-8")[1] == "utf-8"
    undeclared = "<p>嵊泗县人民政府办公室关于对县政协九届六次会议第16号提案答复的函</p>"
    assert decode_html(undeclared.encode("gb18030")) == (undeclared, "gb18030")
    assert decode_html(undeclared.encode()) == (undeclared, "utf-8")
    assert decode_html(b"\xef\xbb\xbf<p>" + "魏巍".encode())[0] == "<p>魏巍"


def test_a_declared_charset_that_garbles_the_page_loses():
    body = '<meta charset="utf-8"><p>嵊泗县人民政府</p>'.encode("gb18030")
    text_, codec = decode_html(body, "utf-8")
    assert codec == "gb18030" and "嵊泗县人民政府" in text_
