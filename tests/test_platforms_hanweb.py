"""Column pages and list answers of both Hanweb families, read from the captured examples."""

from __future__ import annotations

import json
from urllib.parse import quote, urlencode

import pytest
from conftest import FIXTURES, site_json

from crawler.platforms import REGISTRY, NotAListPage, detect, hanweb_jpaas, hanweb_jpage

jpaas_column, jpaas_list = hanweb_jpaas.read_column, hanweb_jpaas.read_list
jpage_column, jpage_list = hanweb_jpage.read_column, hanweb_jpage.read_list
JPAAS, JPAGE = REGISTRY["hanweb-jpaas"], REGISTRY["hanweb-jpage"]


def detect_platform(markup: str):
    return detect(markup, "https://x.example/col/col1/index.html")

HAIDAO = FIXTURES / "haidao" / "examples"
GUCHENG = FIXTURES / "gucheng" / "examples"


def test_platforms_are_detected_from_column_pages():
    assert detect_platform((HAIDAO / "col-1229395011-index.html").read_text(encoding="utf-8")) == JPAAS
    assert detect_platform((FIXTURES / "shengsi/examples/col-1229123456-index.html").read_text(encoding="utf-8")) \
        == JPAAS
    assert detect_platform((GUCHENG / "col-40512-index.html").read_bytes().decode("gb18030")) == JPAGE
    assert detect_platform((FIXTURES / "haidao/pages/art/2023/9/8/art_1229395011_4090552.html").read_text(
        encoding="utf-8")) is None


@pytest.mark.parametrize("with_number", [True, False])
def test_jpaas_ids_come_from_the_column_page(with_number):
    url = "https://www.haidao.example/col/col1229395011/index.html" + ("?number=W001-002" if with_number else "")
    column = jpaas_column((HAIDAO / "col-1229395011-index.html").read_text(encoding="utf-8"), url)
    assert column.query == {"webId": "3201", "pageId": "1229395011", "tagId": "组配分类list",
                            "tplSetId": "aB3dEf9GhIjK1LmNoP2qR", "pageType": "column", "parseType": "bulidstatic",
                            "editType": "null", "unitType": "ajax-xxgk"}
    assert (column.xxgk_id, column.node_id) == ("W001-002", "11339901002610225D")
    assert column.unit_url == "https://www.haidao.example/api-gateway/jpaas-publish-server/front/page/build/unit"


def test_jpaas_list_request_is_the_browsers_to_the_byte():
    column = jpaas_column((HAIDAO / "col-1229395011-index.html").read_text(encoding="utf-8"),
                          "https://www.haidao.example/col/col1229395011/index.html?number=W001-002")
    url = column.unit_url + "?" + urlencode(column.list_params(2, 3), quote_via=quote)
    assert hanweb_jpaas.list_request(column, 2, 3).url == url
    readme = (HAIDAO / "README.md").read_text(encoding="utf-8")
    assert url in readme  # the example request of api-1229395011-p2.json


def test_jpaas_list_pages_give_full_titles_absolute_urls_and_totals():
    pages = [jpaas_list((HAIDAO / f"api-1229395011-p{n}.json").read_bytes(),
                        "https://www.haidao.example/col/col1229395011/index.html") for n in (1, 2, 3)]
    records = site_json("haidao")["columns"][0]["records"]
    entries = [entry for page in pages for entry in page.entries]
    assert [(e.url, e.title, e.date) for e in entries] == [
        ("https://www.haidao.example" + r["path"], r["title"], r["date"]) for r in records]
    assert {(page.total, page.last_page) for page in pages} == {(8, 3)}


def test_a_jpaas_page_past_the_end_is_empty_with_the_true_count():
    readme = (HAIDAO / "README.md").read_text(encoding="utf-8")
    answer = readme.split("page 4 of column 1229395011 is exactly:\n\n```json\n", 1)[1].split("\n```", 1)[0]
    page = jpaas_list(answer, "https://www.haidao.example/")
    assert (page.entries, page.total, page.last_page) == ((), 8, 3)


def test_jpage_column_gives_the_first_group_and_the_proxy_form():
    column = jpage_column((GUCHENG / "col-40512-index.html").read_bytes().decode("gb18030"),
                          "http://www.gucheng.example/col/col40512/index.html")
    assert (column.per_page, column.group_size, column.total) == (2, 2, 6)
    assert column.proxy_url == "http://www.gucheng.example/module/jpage/dataproxy.jsp"
    assert urlencode(column.form) == ("col=1&appid=1&webid=85&path=%2F&columnid=40512&sourceContentType=1&"
                                      "unitid=78231&webname=%E5%8F%A4%E5%9F%8E%E5%8E%BF%E4%BA%BA%E6%B0%91%E6%94%BF"
                                      "%E5%BA%9C&permissiontype=0")
    assert column.group_params(5) == {"startrecord": "5", "endrecord": "8", "perpage": "2"}
    records = site_json("gucheng")["columns"][0]["records"]
    assert [(e.url, e.title, e.date) for e in column.first.entries] == [
        ("http://www.gucheng.example" + r["path"], r["title"], r["date"]) for r in records[:4]]
    assert column.first.last_page == 2  # groups of 4: the embedded one and one more
    second = hanweb_jpage.list_request(column, 2, 15)
    assert second.url == "http://www.gucheng.example/module/jpage/dataproxy.jsp?startrecord=5&endrecord=8&perpage=2"
    assert dict(second.form) == column.form
    assert hanweb_jpage.list_request(column, 3, 15) is None  # past the total the column page states


def test_jpage_groups_from_dataproxy():
    column = jpage_column((GUCHENG / "col-40512-index.html").read_bytes().decode("gb18030"),
                          "http://www.gucheng.example/col/col40512/index.html")
    page = jpage_list((GUCHENG / "dataproxy-40512-5-8.xml").read_bytes(),
                      "http://www.gucheng.example/module/jpage/dataproxy.jsp", column)
    records = site_json("gucheng")["columns"][0]["records"]
    assert [(e.url, e.title) for e in page.entries] == [
        ("http://www.gucheng.example" + r["path"], r["title"]) for r in records[4:]]
    assert (page.total, page.last_page) == (6, 2)


@pytest.mark.parametrize("body", [b"<html>not json</html>", b'{"success":false,"data":null}', b"{}"])
def test_answers_that_are_not_lists_are_refused(body):
    with pytest.raises(NotAListPage):
        jpaas_list(body, "https://x.example/")
    with pytest.raises(NotAListPage):
        jpage_list(body, "https://x.example/")


def test_a_jpaas_column_page_needs_its_unitbuild_script():
    with pytest.raises(NotAListPage):
        jpaas_column("<html><body>nothing</body></html>", "https://x.example/col/col1/index.html")
    assert json.loads('{"a": 1}')


def test_the_column_list_among_several_units():
    page = (HAIDAO / "col-1229395011-index.html").read_text(encoding="utf-8")
    sidebar = ("<script type=\"text/javascript\" src=\"/AuthorizedRead/unitbuild.js\" id=\"authorizedReadUnit2\" "
               "url=\"/api-gateway/jpaas-publish-server/front/page/build/unit\" queryData=\"{'webId':'3201',"
               "'pageId':'1229395000','tagId':'新闻列表','tplSetId':'x','pageType':'column'}\"></script>")
    column = jpaas_column(page.replace("<body>", "<body>" + sidebar),
                          "https://www.haidao.example/col/col1229395011/index.html?number=W001-002")
    assert column.query["pageId"] == "1229395011" and column.query["tagId"] == "组配分类list"

    gucheng = (GUCHENG / "col-40512-index.html").read_bytes().decode("gb18030")
    other = ('<div id="11111"><script type="text/xml"><datastore><recordset><record><![CDATA[<a href="/art/x.html" '
             'title="通知">通知</a>]]></record></recordset></datastore></script></div><script>var param_11111 = '
             "{col:1,appid:1,webid:85,path:'/',columnid:40100,unitid:'11111'};</script>")
    column = jpage_column(other + gucheng, "http://www.gucheng.example/col/col40512/index.html")
    assert column.form["unitid"] == "78231" and len(column.first.entries) == 4 and column.total == 6


def test_pager_links_are_not_records():
    answer = json.dumps({"success": True, "data": {"html": (
        '<ul class="ajax-ul"><li><a href="/art/2023/1/1/art_1_1.html" title="T">T</a><span>2023-01-01</span></li>'
        '<li><a href="javascript:void(0)">下一页</a></li><li><a href="#top">顶部</a></li></ul>')}})
    page = jpaas_list(answer.encode(), "https://www.haidao.example/")
    assert [(e.url, e.date) for e in page.entries] == [("https://www.haidao.example/art/2023/1/1/art_1_1.html",
                                                       "2023-01-01")]


# --- requests as unitbuild.js builds them, on column pages the fixtures do not have ------------------

from urllib.parse import parse_qs, urlsplit  # noqa: E402

from replica import Replica, Variant  # noqa: E402

COLUMN_URL = "https://www.haidao.example/col/col1229395011/index.html"


def _variant_column(variant: Variant, url: str = COLUMN_URL):
    replica = Replica(FIXTURES / "haidao", variant=variant)
    try:
        markup = replica.column_page("1229395011").decode("utf-8")
        column = jpaas_column(markup, url)
        query = parse_qs(urlsplit(hanweb_jpaas.list_request(column, 1, 15).url).query)
        return column, query, replica.refusal(replica.columns[0], query)
    finally:
        replica._server.server_close()


@pytest.mark.parametrize("variant", [
    Variant(query_data="bare"),
    Variant(query_data="numbers", node_id="script", code="tree"),
    Variant(query_data="bare", node_id="query", code="query"),
], ids=["bare", "numbers-script-tree", "nested-xxgkParams"])
def test_jpaas_requests_carry_what_unitbuild_adds(variant):
    url = COLUMN_URL + ("?number=W001-002" if variant.code == "url" else "")
    column, query, refused = _variant_column(variant, url)
    assert not refused  # the gateway's own check: the request unitbuild.js would send
    assert {k: v[0] for k, v in query.items() if k != "paramJson"} == {
        "webId": "3201", "pageId": "1229395011", "tagId": "组配分类list", "tplSetId": "aB3dEf9GhIjK1LmNoP2qR",
        "parseType": "bulidstatic", "pageType": "column", "editType": "null"}
    search = json.loads(json.loads(query["paramJson"][0])["search"])
    assert (search["xxgkId"], search["nodeId"]) == ("W001-002", "11339901002610225D")
    assert (column.xxgk_id, column.node_id) == ("W001-002", "11339901002610225D")


def test_nested_querydata_values_are_read_not_forwarded():
    _, query, _ = _variant_column(Variant(node_id="query", code="query"))
    assert "xxgkParams" not in query and not any("{" in v[0] for k, v in query.items() if k != "paramJson")


@pytest.mark.parametrize(("answer", "message"), [
    ({"success": False, "code": "400", "message": "参数错误", "data": None},
     "the list API refused the request: 参数错误"),
    ({"success": "false", "msg": "pageId不能为空"}, "the list API refused the request: pageId不能为空"),
    ({"success": True, "data": {"list": []}}, "no data.html"),
    ([1, 2], "a JSON list, not an object"),
])
def test_a_refused_or_strange_answer_says_why(answer, message):
    with pytest.raises(NotAListPage, match=message):
        jpaas_list(json.dumps(answer, ensure_ascii=False).encode(), "https://x.example/")


def _answer(html: str, **data) -> bytes:
    return json.dumps({"success": True, "data": {"html": html, **data}}, ensure_ascii=False).encode()


ITEM = '<li><a href="/art/2023/1/1/art_1_{n}.html" title="T{n}">T{n}</a><span>2023-01-0{n}</span></li>'


@pytest.mark.parametrize(("html", "data", "numbers"), [
    ('<div class="page-content" count="40" rows="15" pageNo="2" pageCount="3"><ul>{items}</ul></div>', {},
     (40, 3, 2, 15)),
    ('<ul class="ajax-ul">{items}</ul><div class="ajax-page" count="40" rows="15"></div>', {}, (40, 3, None, 15)),
    ("<ul>{items}</ul>", {"total": 40, "pageNo": 2, "pageSize": 15}, (40, 3, 2, 15)),
    ("<ul>{items}</ul>", {}, (None, None, None, None)),
], ids=["page-content", "count-only", "json", "none"])
def test_pager_numbers_are_read_wherever_the_answer_puts_them(html, data, numbers):
    items = "".join(ITEM.format(n=n) for n in (1, 2))
    page = jpaas_list(_answer(html.format(items=items), **data), "https://x.example/")
    assert (page.total, page.last_page, page.page_no, page.rows) == numbers
    assert [e.date for e in page.entries] == ["2023-01-01", "2023-01-02"]


def test_absurdly_nested_list_markup_is_refused_before_it_is_parsed():
    with pytest.raises(NotAListPage, match="nested more than 512 elements deep"):
        jpaas_list(_answer("<div>" * 100_000 + ITEM.format(n=1)), "https://x.example/")
    with pytest.raises(NotAListPage, match="nested absurdly deep"):
        jpaas_list(b'{"success":true,"data":' + b"[" * 100_000 + b"]" * 100_000 + b"}", "https://x.example/")


def test_a_cut_jpage_datastore_is_refused():
    column = jpage_column((GUCHENG / "col-40512-index.html").read_bytes().decode("gb18030"),
                          "http://www.gucheng.example/col/col40512/index.html")
    whole = (GUCHENG / "dataproxy-40512-5-8.xml").read_bytes()
    with pytest.raises(NotAListPage, match="cut short"):
        jpage_list(whole[: len(whole) // 2], "http://www.gucheng.example/module/jpage/dataproxy.jsp", column)
    page = (GUCHENG / "col-40512-index.html").read_bytes().decode("gb18030")
    with pytest.raises(NotAListPage, match="cut short"):
        jpage_column(page.replace("</datastore>", ""), "http://www.gucheng.example/col/col40512/index.html")
