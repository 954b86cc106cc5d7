"""TRS WCM static sites: column pages and list pages, read from the fixture sites' captured lists."""

from __future__ import annotations

from urllib.parse import urljoin

import pytest
from conftest import FIXTURES, site_json

from crawler.parsers import parse_detail
from crawler.platforms import REGISTRY, NotAListPage, detect, trs_static
from crawler.sites import SitesError, load_file
from replica import BLOCKS

TRS = REGISTRY["trs-static"]
SITES = ("xishan", "jianglin")
COLUMNS = [(slug, column["id"]) for slug in SITES for column in site_json(slug)["columns"]]


def _column(slug: str, column_id: str) -> dict:
    return next(c for c in site_json(slug)["columns"] if c["id"] == column_id)


def _capture(slug: str, url: str) -> bytes:
    """The captured list page at a URL of the site (examples/<its path>)."""
    return (FIXTURES / slug / "examples" / url.removeprefix(site_json(slug)["base_url"]).lstrip("/")).read_bytes()


def _markup(slug: str, url: str) -> str:
    return _capture(slug, url).decode(site_json(slug)["encoding"])


def _column_url(slug: str, column_id: str) -> str:
    return site_json(slug)["base_url"] + _column(slug, column_id)["path"] + "index.shtml"


def _detail_pages(slug: str) -> list[tuple[str, bytes]]:
    site = site_json(slug)
    return [(site["base_url"] + record["path"], (FIXTURES / slug / "pages" / record["path"].lstrip("/")).read_bytes())
            for column in site["columns"] for record in column["records"]]


def _walk(slug: str, column_id: str) -> tuple[trs_static.TrsColumn, list[trs_static.ListPage]]:
    """The column page, then every list page its pager names, as the spider walks them."""
    url = _column_url(slug, column_id)
    column = trs_static.read_column(_markup(slug, url), url)
    pages, page = [column.first], 1
    while page < pages[-1].last_page:
        page += 1
        request = trs_static.list_request(column, page, 15)
        pages.append(trs_static.read_list(_capture(slug, request.url), request.url, column))
    return column, pages


# --- detection --------------------------------------------------------------------------------------


@pytest.mark.parametrize(("slug", "column_id"), COLUMNS)
def test_column_pages_are_trs(slug, column_id):
    column = _column(slug, column_id)
    base = site_json(slug)["base_url"] + column["path"]
    pages = ["index.shtml"] + [f"index_{n}.shtml" for n in range(1, -(-len(column["records"]) // column["page_size"]))
                               if column["pager"]]
    for name in pages:
        assert detect(_markup(slug, base + name), base + name) is TRS, name
    # the bare folder is the same column page
    assert detect(_markup(slug, base + "index.shtml"), base) is TRS


@pytest.mark.parametrize("slug", SITES)
def test_detail_pages_are_not_column_pages(slug):
    """Letter pages, summaries and notices alike, at their own URL or at one that says nothing."""
    encoding = site_json(slug)["encoding"]
    for url, body in _detail_pages(slug):
        markup = body.decode(encoding)
        assert detect(markup, url) is None, url
        assert not trs_static.detect(markup, "http://x.example/some/column/"), url
        assert not trs_static.detect(markup.replace('name="ArticleTitle"', 'name="Title"'),
                                     "http://x.example/some/column/"), url  # its article body tells


def test_hanweb_pages_are_not_trs():
    haidao, gucheng = FIXTURES / "haidao", FIXTURES / "gucheng"
    assert detect((haidao / "examples/col-1229395011-index.html").read_text(encoding="utf-8"),
                  "https://www.haidao.example/col/col1229395011/index.html") is REGISTRY["hanweb-jpaas"]
    assert detect((gucheng / "examples/col-40512-index.html").read_bytes().decode("gb18030"),
                  "http://www.gucheng.example/col/col40512/index.html") is REGISTRY["hanweb-jpage"]
    hanweb_pages = [(haidao / "examples/col-1229395011-index.html").read_text(encoding="utf-8"),
                    (gucheng / "examples/col-40512-index.html").read_bytes().decode("gb18030"),
                    (haidao / "pages/art/2023/9/8/art_1229395011_4090552.html").read_text(encoding="utf-8"),
                    (BLOCKS / "too-frequent-200.html").read_text(encoding="utf-8")]
    for markup in hanweb_pages:
        assert not trs_static.detect(markup, "https://www.haidao.example/col/col1229395011/index.html")


# --- the column page ------------------------------------------------------------------------------


def test_the_column_page_is_list_page_1_and_names_the_others():
    url = _column_url("xishan", "zxwyta")
    column = trs_static.read_column(_markup("xishan", url), url)
    assert (column.folder, column.prefix, column.suffix, column.paged, column.name) == (
        "http://www.xishan.example/xxgk/zfxxgkml/jytabl/zxwyta/", "index", "shtml", True, "政协委员提案")
    assert (len(column.first.entries), column.first.total, column.first.last_page) == (10, None, 3)
    assert [trs_static.list_request(column, n, 15).url for n in (1, 2, 3)] == [
        url, "http://www.xishan.example/xxgk/zfxxgkml/jytabl/zxwyta/index_1.shtml",
        "http://www.xishan.example/xxgk/zfxxgkml/jytabl/zxwyta/index_2.shtml"]
    assert trs_static.list_request(column, 2, 50).url.endswith("/index_1.shtml")  # a static list has its own size


def test_a_column_without_a_pager_is_one_page():
    url = _column_url("xishan", "rddbjy")
    column = trs_static.read_column(_markup("xishan", url), url)
    assert (column.paged, column.first.last_page, len(column.first.entries)) == (False, 1, 5)
    assert trs_static.list_request(column, 2, 15) is None


def test_the_printed_pager_gives_pages_and_records():
    url = _column_url("jianglin", "jytabl")
    column = trs_static.read_column(_markup("jianglin", url), url)
    assert (column.paged, column.first.last_page, column.first.total, column.name) == (True, 3, 10, "建议提案办理")
    assert trs_static.list_request(column, 3, 15).url == "http://zjj.jianglin.example/zfxxgk/fdzdgknr/jytabl/index_2.shtml"


def test_a_column_given_as_its_folder():
    folder = "http://www.xishan.example/xxgk/zfxxgkml/jytabl/zxwyta/"
    column = trs_static.read_column(_markup("xishan", folder + "index.shtml"), folder)
    assert trs_static.list_request(column, 1, 15).url == folder
    assert trs_static.list_request(column, 2, 15).url == folder + "index_1.shtml"
    assert column.first.entries == trs_static.read_column(_markup("xishan", folder + "index.shtml"),
                                                          folder + "index.shtml").first.entries


# --- pagers -----------------------------------------------------------------------------------------

PAGE = """<html><head><meta charset="utf-8"></head><body>
<ul class="list"><li><a href="./202301/t20230105_101.shtml">关于第3号提案的答复</a><span>2023-01-05</span></li></ul>
<div class="page">{pager}</div></body></html>"""


@pytest.mark.parametrize(("pager", "pages", "total", "suffix"), [
    ('<script>createPageHTML(7, 0, "index", "shtml");</script>', 7, None, "shtml"),
    ("<script>createPageHTML(7,0,'index','html');</script>", 7, None, "html"),
    ("<script>createPageHTML('page_div',5, 1,'index','shtml',48);</script>", 5, 48, "shtml"),
    ('<script>var currentPage = 0;//所在页从0开始\nvar countPage = 12//共多少页\n'
     'createPageHTML(countPage, currentPage, "index", "shtml");</script>', 12, None, "shtml"),
    ('<script>var m_nRecordCount = "57";\nvar m_nPageCount = 6;\n'
     'createPageHTML(m_nPageCount, 0, "index", "htm", m_nRecordCount);</script>', 6, 57, "htm"),
    ('<script src="/js/page.js"></script><script>function createPageHTML(_nPageCount, _nCurrIndex, _sPageName, '
     '_sPageExt){ document.write("共"+_nPageCount+"页"); }\ncreatePageHTML(4, 0, "index", "shtml");</script>',
     4, None, "shtml"),
    ('<script>createPageHTML(8, 0, "index", "shtml", "page_div");</script>', 8, None, "shtml"),
    ('<script>var currentPage = 0;//所在页从0开始\nvar prevPage = currentPage-1//上一页\n'
     'var nextPage = currentPage+1//下一页\nvar countPage = 11//共多少页\nif(countPage>1)document.write('
     '"<a href=\\"index"+"_" + nextPage + "."+"html\\">下一页</a>");</script>', 11, None, "html"),
    ("共4页 当前第1页 <a href='index_1.shtml'>下一页</a>", 4, None, "shtml"),
    ("共 9 页&nbsp;共 130 条 <a href=\"index_1.html\">下一页</a> <a href=\"index_8.html\">尾页</a>", 9, 130, "html"),
    ("<span>共&nbsp;<b>3</b>&nbsp;页</span>", 3, None, "shtml"),
    ('<a href="index_1.shtml">2</a> <a href="index_2.shtml">3</a> <a href="index_5.shtml">尾页</a>', 6, None, "shtml"),
], ids=["script", "script-single-quotes-html", "script-div-id-and-total", "script-variables",
        "script-variables-htm", "script-with-its-definition", "script-div-id-last", "script-without-call",
        "text", "text-spaced-with-total", "text-split", "links-only"])
def test_pager_forms(pager, pages, total, suffix):
    url = "http://www.example.example/zfxxgk/jytabl/index.shtml"
    column = trs_static.read_column(PAGE.format(pager=pager), url)
    assert (column.paged, column.first.last_page, column.first.total, column.suffix) == (True, pages, total, suffix)
    assert trs_static.list_request(column, 2, 15).url == f"http://www.example.example/zfxxgk/jytabl/index_1.{suffix}"
    assert trs_static.detect(PAGE.format(pager=pager), url)


def test_the_last_page_knows_itself_from_its_links():
    """The last page of a static pager links only backwards: it is page N all the same."""
    markup = PAGE.format(pager='<a href="index.shtml">首页</a> <a href="index_3.shtml">上一页</a>')
    page = trs_static.read_list(markup.encode(), "http://www.example.example/zfxxgk/jytabl/index_4.shtml")
    assert page.last_page == 5


# --- lists ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("slug", "column_id"), COLUMNS)
def test_list_entries_are_the_records_of_site_json_in_order(slug, column_id):
    _, pages = _walk(slug, column_id)
    column = _column(slug, column_id)
    base = site_json(slug)["base_url"]
    entries = [entry for page in pages for entry in page.entries]
    assert [(e.url, e.title, e.date) for e in entries] == [
        (base + r["path"], r["title"], r["date"]) for r in column["records"]]
    sizes = [len(page.entries) for page in pages]
    assert all(size == column["page_size"] for size in sizes[:-1]) and 0 < sizes[-1] <= column["page_size"]
    assert {page.last_page for page in pages} == {len(pages)}


def test_each_list_page_reads_alone():
    _, pages = _walk("jianglin", "jytabl")
    assert [(len(p.entries), p.total, p.last_page) for p in pages] == [(4, 10, 3), (4, 10, 3), (2, 10, 3)]
    # the last page has 2 entries beside a sidebar of 5 detail links elsewhere on the site: the list wins
    assert all("/zfxxgk/fdzdgknr/jytabl/" in e.url for e in pages[2].entries)
    _, pages = _walk("xishan", "zxwyta")
    assert [(len(p.entries), p.last_page) for p in pages] == [(10, 3), (10, 3), (8, 3)]


def test_navigation_breadcrumb_pager_and_sidebar_links_are_not_entries():
    url = _column_url("xishan", "zxwyta")
    markup = _markup("xishan", url)
    entries = {e.url for e in trs_static.read_column(markup, url).first.entries}
    sidebar = "http://www.xishan.example/xxgk/zfxxgkml/zcwj/202209/t20220926_3523015.shtml"  # 最新公开, a detail page
    assert "/xxgk/zfxxgkml/zcwj/202209/t20220926_3523015.shtml" in markup and sidebar not in entries
    for other in ("../rddbjy/index.shtml", "../zxwyta/index.shtml", "../", "./", "/xxgk/"):  # menu, breadcrumb, nav
        assert f'href="{other}"' in markup
        assert urljoin(url, other) not in entries
    assert len(entries) == 10


def test_lists_split_in_blocks_dated_or_not():
    markup = """<html><body><div class="news"><ul>
<li><a href="/xw/202301/t20230101_1.shtml">别的栏目</a></li><li><a href="/xw/202301/t20230102_2.shtml">别的</a></li>
<li><a href="/xw/202301/t20230103_3.shtml">别的</a></li></ul></div>
<div class="list"><ul class="l"><li><a href="../zxwyta/202212/t20221230_9.shtml" title="第一件">第一…</a>
<em>[2022/12/30]</em></li></ul><ul class="l"><li><a href="202212/t20221201_8.shtml">第二件</a></li>
<li><a href="http://www.example.example/jytabl/zxwyta/202211/t20221103_7.shtml">第三件</a>2022年11月05日</li>
</ul></div><p><a href="index_1.shtml">下一页</a></p></body></html>"""
    page = trs_static.read_list(markup.encode(), "http://www.example.example/jytabl/zxwyta/index.shtml")
    assert [(e.url.rsplit("/", 1)[1], e.title, e.date) for e in page.entries] == [
        ("t20221230_9.shtml", "第一件", "2022-12-30"),
        ("t20221201_8.shtml", "第二件", "2022-12-01"),       # no date printed: the file's t<YYYYMMDD>
        ("t20221103_7.shtml", "第三件", "2022-11-05")]
    older = trs_static.read_list('<ul><li><a href="/zcwj/yzbd/t8706881.shtml">通知</a></li></ul>'.encode(),
                                 "http://www.example.example/zcwj/yzbd/index.shtml")
    assert [(e.url, e.date) for e in older.entries] == [("http://www.example.example/zcwj/yzbd/t8706881.shtml", None)]


@pytest.mark.parametrize("body", [b"<html><body><p>nothing here</p></body></html>", b'{"success":true}',
                                  (BLOCKS / "ruishu-412.html").read_bytes()])
def test_pages_that_are_not_lists_are_refused(body):
    with pytest.raises(NotAListPage):
        trs_static.read_list(body, "http://www.example.example/jytabl/index_1.shtml")
    with pytest.raises(NotAListPage):
        trs_static.read_column(body.decode("utf-8", "replace"), "http://www.example.example/jytabl/index.shtml")


# --- the family -------------------------------------------------------------------------------------


def test_the_family_is_one_module_behind_the_registry(tmp_path):
    assert TRS.name == "trs-static" and TRS.parse_detail is parse_detail
    assert list(REGISTRY)[-1] == "trs-static"  # the most general detection goes last
    sites = tmp_path / "sites.toml"
    sites.write_text('[sites.xishan]\nname = "溪山县人民政府"\nplatform = "trs-static"\n'
                     'columns = ["http://www.xishan.example/xxgk/zfxxgkml/jytabl/zxwyta/index.shtml"]\n',
                     encoding="utf-8")
    assert load_file(sites)["xishan"].platform == "trs-static"
    sites.write_text(sites.read_text(encoding="utf-8").replace("trs-static", "trs-dynamic"), encoding="utf-8")
    with pytest.raises(SitesError, match="trs-static"):
        load_file(sites)
