"""`proposals sites discover` on never-seen navigation designs, unlike tests/replica_nav.py's (an outside probe's).

A: JPaaS, 政务公开 only in the footer (relative link), 法定主动公开内容 -> a 组配分类 tree with a parent
   建议提案办理 and sub-columns 【人大代表建议】 / 政协　提案 (absolute links).
B: jpage, 信息公开 in the top nav as an absolute link, the index holding its columns in the page; the
   mixed column named 建议提案办理（2020年） linked relatively.
C: TRS, 信息公开 in the footer, 法定主动公开内容 -> 其他法定公开内容 -> 建议提案办理 -> 【政协委员提案】 /
   人大代表　建议 (two levels under 法定主动公开内容).
D: jpage, 政府信息公开 link text split over <span>s with a #fragment, a GBK index holding a three-level li
   tree 法定主动公开内容 > 其他法定公开内容 > 建议提案办理 (no column) > the mixed column, an empty one, and a
   政协提案 link to an article at a URL no family knows for an article.
E: JPaaS, the disclosure index reached only by an image button (alt text), a flat 组配分类 list where the
   parent 【建议提案办理】 (number=W001, a list of both) sits beside W001-001 / W001-002: the code tree
   makes it their parent.
Decoys on each: 政协提案 linking an article, 建议征集 and 12345信箱 columns with lists, an off-host
政协提案办理 link. Every name and number is invented.
"""

from __future__ import annotations

import copy
import tomllib
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from conftest import FIXTURES
from crawlkit import Crawl, expected_at
from replica_nav import HOME_LINKS, JPAAS_VARIANT, ORDINARY, OTHER_HOST, NavSite, _links, _page, jpaas_columns
from test_discover import _letters, discover

from crawler.discover import slug_for
from replica import Replica, StaticReplica, Variant
from replica.hanweb import Column


def _home(site: str, top: list[tuple[str, str]], footer: list[tuple[str, str]], news: list[tuple[str, str]]) -> bytes:
    nav = [("/", "首页")] + [(f"/channel/c{i}/", name) for i, name in enumerate(HOME_LINKS)] + top
    friends = [(f"{OTHER_HOST}/", "市人民政府"), (f"{OTHER_HOST}/zxta/index.html", "政协提案办理")]
    body = (f'<div class="top">{_links(nav, "menu")}</div>\n<div class="news">{_links(news, "news")}</div>\n'
            f'<div class="friends">{_links(friends, "friends")}</div>\n'
            f'<div class="footer">{_links(footer, "foot")}<p>主办：{site}</p></div>')
    return _page(site, body)


FOOT = [("/about.html", "关于我们"), ("/sitemap.html", "网站地图"), ("/contact.html", "联系我们")]


# --- A: JPaaS --------------------------------------------------------------------------------------------


@contextmanager
def design_a() -> Iterator[NavSite]:
    with Replica(FIXTURES / "haidao", variant=JPAAS_VARIANT) as replica:
        proposals, suggestions, parent, ordinary, template = jpaas_columns(replica, 40)
        zhengji = Column("1229395030", "建议征集", records=proposals.records[:2], code="W030", **template)
        xinxiang = Column("1229395031", "12345信箱", records=proposals.records[:2], code="W031", **template)
        replica.columns[:] = [*ordinary[:10], parent, suggestions, proposals, zhengji, xinxiang, *ordinary[10:]]
        base, site = replica.base_url, replica.site["name"]

        def href(column: Column, absolute: bool = False) -> str:
            return (base if absolute else "") + f"/col/col{column.column_id}/index.html?number={column.code}"

        article = "/art/2023/1/20/art_1229395010_700010.html"
        tree = [f'<li><a href="{href(c)}">{c.name}</a></li>' for c in ordinary[:10]]
        tree.append(f'<li><a href="{href(parent)}">建议提案办理</a><ul>'
                    f'<li><a href="{href(suggestions, True)}">【人大代表建议】</a></li>'
                    f'<li><a href="{href(proposals, True)}">政协　提案</a></li></ul></li>')
        tree += [f'<li><a href="{href(zhengji)}">建议征集</a></li>',
                 f'<li><a href="{href(xinxiang)}">12345信箱</a></li>',
                 f'<li><a href="{article}">政协提案</a></li>',
                 f'<li><a href="{OTHER_HOST}/col/col3/index.html?number=W001">政协提案办理</a></li>']
        tree += [f'<li><a href="{href(c)}">{c.name}</a></li>' for c in ordinary[10:]]
        legal = _page(f"法定主动公开内容-{site}",
                      '<div class="tree"><ul class="zpfl">' + "\n".join(tree) + "</ul></div>")
        index = _page(f"政务公开-{site}", _links([("fdzdgknr.html", "法定主动公开内容"), ("ysqgk.html", "依申请公开"),
                                                  ("gknb.html", "政府信息公开年报"),
                                                  ("zfxxgkzn.html", "政府信息公开指南")], "zwgk"))
        home = _home(site, [], [*FOOT, ("zwgk/index.html", "政务公开")],
                     [("/art/2023/3/2/art_9001_700001.html", "县政府召开专题会议")])
        replica.pages.update({"/": home, "/index.html": home, "/zwgk/index.html": index,
                              "/zwgk/fdzdgknr.html": legal, article: replica.page(proposals.records[0]["path"])})
        yield NavSite(replica, [href(suggestions, True), href(proposals, True)])


# --- B: jpage --------------------------------------------------------------------------------------------


@contextmanager
def design_b() -> Iterator[NavSite]:
    variant = Variant(per_page=2, group_size=2, record_markup="li", total_in_call=False)
    with Replica(FIXTURES / "gucheng", variant=variant) as replica:
        (mixed,) = replica.columns
        zhengji = Column("40530", "建议征集", None, None, 2, mixed.records[:2], unit_id="78250")
        xinxiang = Column("40531", "12345信箱", None, None, 2, mixed.records[:2], unit_id="78251")
        ordinary = [Column(str(40600 + i), name, None, None, 2, mixed.records[:1], unit_id=str(78300 + i))
                    for i, name in enumerate(ORDINARY)]
        replica.columns[:] = [mixed, zhengji, xinxiang, *ordinary]
        base, site = replica.base_url, replica.site["name"]
        article = "/art/2020/12/1/art_40000_500001.html"
        rows = [(f"../col{c.column_id}/index.html", c.name) for c in ordinary[:15]]
        rows += [(f"../col{mixed.column_id}/index.html", "建议提案办理（2020年）"),
                 (f"/col/col{zhengji.column_id}/index.html", "建议征集"),
                 (f"/col/col{xinxiang.column_id}/index.html", "12345信箱"),
                 (article, "政协提案"), (f"{OTHER_HOST}/col/col4/index.html", "政协提案办理")]
        rows += [(f"../col{c.column_id}/index.html", c.name) for c in ordinary[15:]]
        index = _page(f"信息公开_{site}", f'<div class="xxgk-main">{_links(rows, "columns")}</div>')
        home = _home(site, [(f"{base}/col/col40000/index.html", "信息公开")], FOOT, [])
        replica.pages.update({"/": home, "/index.html": home, "/col/col40000/index.html": index,
                              article: replica.page(mixed.records[0]["path"])})
        yield NavSite(replica, [f"{base}/col/col{mixed.column_id}/index.html"])


# --- C: TRS ----------------------------------------------------------------------------------------------


@contextmanager
def design_c() -> Iterator[NavSite]:
    with StaticReplica(FIXTURES / "xishan") as replica:
        proposals, suggestions = replica.columns
        base = "/xxgk/zfxxgkml/"
        extra = []
        names = [("jyzj", "建议征集"), ("xx12345", "12345信箱"), *((f"c{i}", n) for i, n in enumerate(ORDINARY))]
        for cid, name in names:
            column = copy.copy(suggestions)
            column.id, column.name, column.path = cid, name, f"{base}{cid}/"
            column.template = (suggestions.template.replace("人大代表建议", name).replace("政协委员提案", "工作动态")
                               .replace("建议提案办理", "政府信息公开目录"))
            month, name_of = suggestions.records[0]["path"].rsplit("/", 2)[-2:]
            column.records = [dict(suggestions.records[0], path=f"{base}{cid}/{month}/{name_of}")]
            extra.append(column)
        replica.columns.extend(extra)
        site = replica.site["name"]
        rows = [(f"./c{i}/index.shtml", name) for i, name in enumerate(ORDINARY)]
        rows.insert(5, ("./fdzdgknr/index.shtml", "法定主动公开内容"))
        listing = _page(f"政府信息公开_{site}", _links(rows, "xxgk"))
        legal = _page(f"法定主动公开内容_{site}", _links([("../c3/index.shtml", "政策解读"),
                                                          ("../qtfdgk/index.shtml", "其他法定公开内容"),
                                                          ("../c9/index.shtml", "医疗卫生")], "sub"))
        other = _page(f"其他法定公开内容_{site}", _links([
            ("../jytabl/index.shtml", "建议提案办理"), ("../jyzj/index.shtml", "建议征集"),
            ("../xx12345/index.shtml", "12345信箱"), ("../gzbg/202301/t20230110_100001.shtml", "政协提案"),
            (f"{OTHER_HOST}/xxgk/jytabl/", "政协提案办理")], "sub"))
        parent = _page(f"建议提案办理_{site}", _links([("./zxwyta/", "【政协委员提案】"),
                                                      ("./rddbjy/index.shtml", "人大代表　建议")], "sub-columns"))
        home = _home(site, [], [*FOOT, ("xxgk/zfxxgkml/index.shtml", "信息公开")], [])
        replica.pages.update({"/": home, "/index.html": home, base + "index.shtml": listing,
                              base + "fdzdgknr/index.shtml": legal, base + "qtfdgk/index.shtml": other,
                              base + "jytabl/": parent, base + "jytabl/index.shtml": parent,
                              base + "gzbg/202301/t20230110_100001.shtml": replica.page(proposals.records[0]["path"])})
        yield NavSite(replica, [replica.base_url + proposals.path, replica.base_url + suggestions.file(1)])


# --- D: jpage, nested markup, GBK index, three-level tree, an article at an unknown URL ----------------------


@contextmanager
def design_d() -> Iterator[NavSite]:
    variant = Variant(per_page=2, group_size=2, record_markup="li", total_in_call=False)
    with Replica(FIXTURES / "gucheng", variant=variant) as replica:
        (mixed,) = replica.columns
        empty = Column("40519", "人大代表建议（2019年）", None, None, 2, [], unit_id="78239")
        ordinary = [Column(str(40600 + i), name, None, None, 2, mixed.records[:1], unit_id=str(78300 + i))
                    for i, name in enumerate(ORDINARY)]
        replica.columns[:] = [mixed, empty, *ordinary]
        site = replica.site["name"]
        article = "/zwgk/content_500001.html"

        def li(href: str, text: str, inner: str = "") -> str:
            return f'<li><a href="{href}" target="_blank">{text}</a>{inner}</li>'

        subs = "<ul>" + li(f"/col/col{mixed.column_id}/index.html", "人大代表建议&nbsp;政协委员提案") + \
            li(f"/col/col{empty.column_id}/index.html", empty.name) + li(article, "政协提案") + "</ul>"
        other = "<ul>" + li("/col/col40500/index.html", "建议提案办理", subs) + \
            li("/col/col40530/index.html", "12345信箱") + "</ul>"
        legal = "<ul>" + "".join(li(f"/col/col{c.column_id}/index.html", c.name) for c in ordinary[:20]) + \
            li("/col/col40400/index.html", "其他法定公开内容", other) + "</ul>"
        tree = "<ul>" + li("/col/col40300/index.html", "法定主动公开内容", legal) + \
            "".join(li(f"/col/col{c.column_id}/index.html", c.name) for c in ordinary[20:]) + "</ul>"
        index = _page(f"政府信息公开_{site}", f'<div class="xxgk-tree">{tree}</div>', charset="gbk")
        home = _home(site, [("./col/col40000/index.html#xxgk", "<span>政府</span><span>信息公开</span>")], FOOT, [])
        replica.pages.update({"/": home, "/index.html": home, "/col/col40000/index.html": index,
                              "/col/col40500/index.html": _page(f"建议提案办理_{site}", "<p>请在左侧选择栏目</p>"),
                              article: replica.page(mixed.records[0]["path"])})
        yield NavSite(replica, [f"{replica.base_url}/col/col{mixed.column_id}/index.html"])


# --- E: JPaaS, image-only nav button, a flat 组配分类 list (parent W001 beside W001-001, W001-002) ---------


@contextmanager
def design_e() -> Iterator[NavSite]:
    with Replica(FIXTURES / "haidao", variant=JPAAS_VARIANT) as replica:
        proposals, suggestions, parent, ordinary, _ = jpaas_columns(replica, 40)
        replica.columns[:] = [*ordinary[:10], parent, suggestions, proposals, *ordinary[10:]]
        base, site = replica.base_url, replica.site["name"]

        def href(column: Column) -> str:
            return f"/col/col{column.column_id}/index.html?number={column.code}"

        rows = [(href(c), c.name) for c in ordinary[:10]]
        rows += [(href(parent), "【建议提案办理】"), (href(suggestions), "　人大代表建议"),
                 (href(proposals), "　政协委员提案")]
        rows += [(href(c), c.name) for c in ordinary[10:]]
        index = _page(f"政府信息公开-{site}", _links(rows, "zpfl"))
        home = _home(site, [], FOOT, []).replace(
            b'<div class="footer">', '<div class="buttons"><a href="/col/col1229000100/index.html">'
            '<img src="/images/xxgk.png" alt="政府信息公开"></a></div>\n<div class="footer">'.encode())
        replica.pages.update({"/": home, "/index.html": home, "/col/col1229000100/index.html": index})
        yield NavSite(replica, [base + href(suggestions), base + href(proposals)])


DESIGNS = {"A-jpaas-footer-tree": design_a, "B-jpage-topnav-inline": design_b, "C-trs-two-levels": design_c,
           "D-jpage-gbk-three-level-tree": design_d, "E-jpaas-image-nav-flat-codes": design_e}


@pytest.mark.parametrize("design", list(DESIGNS))
def test_prints_exactly_the_proposal_columns(tmp_path, design):
    with DESIGNS[design]() as nav:
        result = discover(tmp_path, nav.home, "-v")
    assert result.returncode == 0, result.stderr
    (site,) = tomllib.loads(result.stdout)["sites"].values()
    assert site["columns"] == nav.expected, result.stderr


@pytest.mark.parametrize("design", list(DESIGNS))
def test_crawl_of_the_output_archives_every_record(tmp_path, design):
    with DESIGNS[design]() as nav:
        crawl = Crawl(tmp_path, {})
        result = discover(tmp_path, nav.home, "--write", str(crawl.sites))
        assert result.returncode == 0, result.stderr
        crawled = crawl.run("--all")
        assert crawled.returncode == 0, crawled.stderr
        assert slug_for(nav.home) in crawl.sites.read_text(encoding="utf-8")
    records = crawl.records()
    expected = {nav.replica.url(rel): expected_at(nav.replica, rel) for rel in _letters(nav.replica)}
    assert set(records) == set(expected)
    for url, record in expected.items():
        assert records[url] == record, url
