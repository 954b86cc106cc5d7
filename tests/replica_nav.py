"""Replica home pages and navigation on top of the fixture replicas, for column discovery.

    with jpaas_site() as nav:
        nav.home            # http://127.0.0.1:PORT/
        nav.expected        # the proposal columns, as a crawl takes them
        nav.replica         # the Replica (or StaticReplica) serving it all

Each site is one the crawler has never seen: a home page with dozens of navigation links, a
政府信息公开 index with dozens of columns (a JPaaS 组配分类 tree, a jpage column tree, TRS column
folders), a parent 建议提案办理 column whose sub-columns are the lists, and decoys among them: 信箱,
信访 and 征集 columns named like proposal columns, single articles titled like proposals, links to
another host, a column whose name matches but whose list is empty, a page robots.txt forbids, a page
named like a column that is no column, 政策解读 columns with lists. Every name, id and text is invented.

The extra pages are served through the replicas' own page tables (`Replica.pages`,
`StaticReplica.pages`); the empty decoy columns are columns of the replica with no records.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from conftest import FIXTURES

from replica import Replica, StaticReplica, Variant
from replica.hanweb import Column
from replica.static import StaticColumn

OTHER_HOST = "http://www.shiji.example"   # another government's site, never to be fetched
# dozens of columns every county publishes, none of them proposals
ORDINARY = ("机构职能", "政策文件", "规范性文件", "政策解读", "规划计划", "财政预决算", "人事信息", "重大项目",
            "政府采购", "公共资源交易", "统计信息", "应急管理", "生态环境", "教育信息", "医疗卫生", "社会救助",
            "食品药品", "安全生产", "价格收费", "审计信息", "征地拆迁", "扶贫信息", "就业创业", "行政执法",
            "双随机一公开", "民生实事", "重大决策预公开", "权责清单", "政府会议", "领导分工")
HOME_LINKS = ("走进县情", "新闻中心", "今日要闻", "部门动态", "乡镇动态", "通知公告", "办事服务", "个人办事",
              "法人办事", "政民互动", "在线访谈", "民意征集", "便民服务", "专题专栏", "营商环境", "文化旅游",
              "图片新闻", "视频新闻", "数据开放", "网站地图")


@dataclass
class NavSite:
    replica: Replica | StaticReplica
    expected: list[str]        # the proposal columns' URLs, in the order the navigation gives them

    @property
    def home(self) -> str:
        return self.replica.base_url + "/"


def _page(title: str, body: str, charset: str = "utf-8") -> bytes:
    return (f'<!DOCTYPE html>\n<html><head><meta charset="{charset}"><title>{title}</title></head>\n'
            f"<body>\n{body}\n</body></html>\n").encode(charset)


def _links(items: list[tuple[str, str]], css: str = "nav") -> str:
    rows = "\n".join(f'<li><a href="{href}">{text}</a></li>' for href, text in items)
    return f'<ul class="{css}">\n{rows}\n</ul>'


def _home(site: str, origin: str, disclosure: str, extra: list[tuple[str, str]]) -> bytes:
    """A county home page: a bar of dozens of sections, news, a 信箱, links to other governments."""
    nav = [("/", "首页")] + [(f"/col/col{9000 + i}/index.html", name) for i, name in enumerate(HOME_LINKS)]
    nav.insert(4, (disclosure, "政府信息公开"))
    nav.insert(12, ("/col/col9100/index.html", "县长信箱"))
    news = [("/art/2023/3/2/art_9001_700001.html", "我县召开人大代表建议和政协委员提案交办会"),
            ("/art/2023/2/8/art_9001_700002.html", "县政府常务会议研究部署重点工作"), *extra]
    friends = [(f"{OTHER_HOST}/", "市人民政府"), (f"{OTHER_HOST}/col/col1/index.html", "市政协委员提案办理"),
               ("http://www.province.example/", "省人民政府")]
    body = (f'<div class="header"><h1>{site}</h1></div>\n{_links(nav)}\n'
            f'<div class="news">{_links(news, "news")}</div>\n<div class="links">{_links(friends, "friends")}</div>\n'
            f'<div class="footer">主办：{site}</div>')
    return _page(site, body)


def _disclosure_decoys() -> list[tuple[str, str]]:
    """Links of a 政府信息公开 index named like proposal columns that are none (the same on every platform)."""
    return [("/col/col9101/index.html", "人大代表建议信箱"),
            ("/col/col9102/index.html", "政协委员提案征集"),
            ("/col/col9103/index.html", "代表建议信访件办理"),
            (f"{OTHER_HOST}/col/col2/index.html", "人大代表建议办理（市本级）"),
            ("/private/jytabl.html", "建议提案办理内部件"),
            ("/zt/tabl/index.html", "建议提案办理专题")]


def _not_a_column(site: str) -> bytes:
    return _page(f"建议提案办理专题-{site}", '<div class="zt"><p>本专题介绍建议提案办理工作的流程。</p></div>')


# --- JPaaS -----------------------------------------------------------------------------------------------


JPAAS_VARIANT = Variant(query_data="bare", node_id="tree", code="url", pager="page-content", list_markup="bt-left")


def jpaas_columns(replica: Replica, first_code: int) -> tuple[Column, Column, Column, list[Column], dict]:
    """Haidao's two columns, a parent 建议提案办理 (W001) listing both, the ORDINARY columns (W0{first_code}…,
    one record each), and the template a further column of the site is made with."""
    proposals, suggestions = replica.columns
    template = dict(kind=None, page_size=3, tag_id=proposals.tag_id, tpl_set_id=proposals.tpl_set_id)
    both = sorted(proposals.records + suggestions.records, key=lambda r: r["date"], reverse=True)
    parent = Column("1229395010", "建议提案办理", records=both, code="W001", **template)
    ordinary = [Column(str(1229396000 + i), name, records=proposals.records[:1], code=f"W0{first_code + i}",
                       **template) for i, name in enumerate(ORDINARY)]
    return proposals, suggestions, parent, ordinary, template


@contextmanager
def jpaas_site() -> Iterator[NavSite]:
    """Haidao as a never-seen JPaaS site: its 组配分类 tree holds a parent 建议提案办理 (W001, a list of
    both) with 人大代表建议办理 (W001-001), 政协委员提案办理 (W001-002) and an empty 2019 list under it."""
    with Replica(FIXTURES / "haidao", variant=JPAAS_VARIANT) as replica:
        proposals, suggestions, parent, ordinary, template = jpaas_columns(replica, 10)
        empty = Column("1229395019", "人大代表建议办理（2019年）", records=[], code="W001-009", **template)
        replica.columns[:] = [*ordinary[:8], parent, proposals, suggestions, empty, *ordinary[8:]]
        origin, site = replica.origin, replica.site["name"]

        def node(column: Column) -> tuple[str, str]:
            return f"/col/col{column.column_id}/index.html?number={column.code}", column.name

        tree = [f'<li><a href="{h}">{t}</a></li>' for h, t in map(node, ordinary[:8])]
        tree.append(f'<li><a href="{node(parent)[0]}">{parent.name}</a><ul>'
                    + "".join(f'<li><a href="{h}">{t}</a></li>' for h, t in map(node, (suggestions, proposals, empty)))
                    + "</ul></li>")
        tree += [f'<li><a href="{h}">{t}</a></li>' for h, t in map(node, ordinary[8:])]
        tree += [f'<li><a href="{h}">{t}</a></li>' for h, t in _disclosure_decoys()]
        tree.append('<li><a href="/art/2023/1/20/art_1229395010_700010.html">2022年度建议提案办理工作总结</a></li>')
        disclosure = "/col/col1229000100/index.html"
        index = _page(f"政府信息公开-{site}", '<div class="xxgk-tree"><h2>组配分类</h2><ul class="tree-list">'
                      + "\n".join(tree) + '</ul></div>\n'
                      '<div><a href="/col/col1229000101/index.html">政府信息公开年报</a></div>')
        pages = {"/": _home(site, origin, disclosure, []), "/index.html": _home(site, origin, disclosure, []),
                 disclosure: index, "/col/col1229000101/index.html": _page("年报", "<p>年度报告</p>"),
                 "/zt/tabl/index.html": _not_a_column(site),
                 "/art/2023/1/20/art_1229395010_700010.html": replica.page(proposals.records[0]["path"])}
        replica.pages.update(pages)
        yield NavSite(replica, [replica.base_url + node(c)[0] for c in (suggestions, proposals)])


# --- jpage -------------------------------------------------------------------------------------------------


@contextmanager
def jpage_site() -> Iterator[NavSite]:
    """Gucheng as a never-seen jpage site: its 信息公开 index holds the column tree in a frame; among
    dozens of columns a parent 建议提案办理 page (no list
    of its own) whose sub-columns are named by year, 2020年 (the mixed column) and 2019年 (empty),
    and an empty 人大代表建议（2018年） column beside it."""
    variant = Variant(per_page=2, group_size=2, record_markup="li", total_in_call=False)
    with Replica(FIXTURES / "gucheng", variant=variant) as replica:
        (mixed,) = replica.columns
        empty = Column("40519", "人大代表建议（2018年）", None, None, 2, [], unit_id="78239")
        older = Column("40518", "2019年", None, None, 2, [], unit_id="78238")
        ordinary = [Column(str(40600 + i), name, None, None, 2, mixed.records[:1], unit_id=str(78300 + i))
                    for i, name in enumerate(ORDINARY)]
        replica.columns[:] = [mixed, empty, older, *ordinary]
        site = replica.site["name"]
        disclosure = "/col/col40000/index.html"
        tree = [(f"/col/col{c.column_id}/index.html", c.name) for c in ordinary[:12]]
        tree += [("/col/col40500/index.html", "建议提案办理"), (f"/col/col{empty.column_id}/index.html", empty.name)]
        tree += [(f"/col/col{c.column_id}/index.html", c.name) for c in ordinary[12:]]
        years = _links([(f"/col/col{mixed.column_id}/index.html", "2020年"),
                        (f"/col/col{older.column_id}/index.html", "2019年")], "sub-columns")
        top = _links([("/", "首页"), (disclosure, "信息公开")])
        parent = _page(f"建议提案办理_{site}", f'<div class="top">{top}</div><table><tr><td class="left">'
                       f'<div class="title">建议提案办理</div>{years}</td><td>请选择年度</td></tr></table>')
        replica.pages["/col/col40500/index.html"] = parent
        tree += _disclosure_decoys()
        tree.append(("/art/2020/12/1/art_40000_500001.html", "政协委员提案办理情况通报"))
        # the index holds its column tree in a frame
        index = _page(f"信息公开目录_{site}", '<table class="xxgk"><tr><td class="tree">'
                      '<iframe src="/col/col40000/tree.html" width="100%"></iframe></td></tr></table>')
        replica.pages["/col/col40000/tree.html"] = _page("column tree", _links(tree, "column-tree"))
        home = _home(site, replica.origin, disclosure, [("/art/2020/11/2/art_40000_500002.html", "人大代表建议选登")])
        first = replica.page(mixed.records[0]["path"])
        replica.pages.update({"/": home, "/index.html": home, disclosure: index, "/zt/tabl/index.html":
                              _not_a_column(site), "/art/2020/12/1/art_40000_500001.html": first,
                              "/art/2020/11/2/art_40000_500002.html": first})
        yield NavSite(replica, [f"{replica.base_url}/col/col{mixed.column_id}/index.html"])


# --- TRS ----------------------------------------------------------------------------------------------------


@contextmanager
def trs_site() -> Iterator[NavSite]:
    """Xishan as a never-seen TRS site: 政府信息公开 index -> 法定主动公开内容 -> a parent 建议提案办理
    folder (its page shows the newest entries of both) with 政协委员提案, 人大代表建议 and an empty
    2019 folder under it."""
    with StaticReplica(FIXTURES / "xishan") as replica:
        proposals, suggestions = replica.columns
        base = "/xxgk/zfxxgkml/"
        empty = copy.copy(suggestions)
        empty.id, empty.name, empty.records = "rddbjy2019", "人大代表建议（2019年）", []
        empty.path = base + "jytabl/rddbjy2019/"
        ordinary = []
        for i, name in enumerate(ORDINARY):
            column = copy.copy(suggestions)
            column.id, column.name, column.path = f"c{i}", name, f"{base}c{i}/"
            column.template = (suggestions.template.replace("人大代表建议", name).replace("政协委员提案", "工作动态")
                               .replace("建议提案办理", "政府信息公开目录"))
            month, name_of = suggestions.records[0]["path"].rsplit("/", 2)[-2:]
            column.records = [dict(suggestions.records[0], path=f"{base}c{i}/{month}/{name_of}")]
            ordinary.append(column)
        replica.columns.extend([empty, *ordinary])
        site = replica.site["name"]
        index = base + "index.shtml"
        rows = [(f"./c{i}/index.shtml", name) for i, name in enumerate(ORDINARY)]
        rows.insert(6, ("./fdzdgknr/index.shtml", "法定主动公开内容"))
        rows += [(h, t) for h, t in _disclosure_decoys()]
        rows.append(("./gzbg/202301/t20230110_100001.shtml", "关于政协委员提案办理工作情况的报告"))
        legal = _page(f"法定主动公开内容_{site}", _links([("../jytabl/", "建议提案办理"), ("../c3/index.shtml",
                                                                                           "政策解读"),
                                                  ("../c9/index.shtml", "医疗卫生")], "sub"))

        def newest(column: StaticColumn) -> str:
            return "".join(f'<li><a href="{r["path"]}" title="{r["title"]}">{r["title"]}</a>'
                           f'<span>{r["date"]}</span></li>' for r in column.records[:3])

        parent = _page(f"建议提案办理_{site}", '<div class="sub-columns">'
                       f'<div class="block"><h3><a href="./zxwyta/" title="政协委员提案">政协委员提...</a></h3>'
                       f'<ul>{newest(proposals)}</ul>'
                       '<a href="./zxwyta/">更多</a></div>'
                       f'<div class="block"><h3><a href="./rddbjy/index.shtml">人大代表建议</a></h3>'
                       f'<ul>{newest(suggestions)}</ul></div>'
                       '<div class="block"><h3><a href="./rddbjy2019/index.shtml">人大代表建议（2019年）</a></h3></div>'
                       "</div>")
        home = _home(site, replica.origin, index, [])
        article = replica.page(proposals.records[0]["path"])
        listing = _page(f"政府信息公开_{site}", _links(rows, "xxgk"))
        replica.pages.update({"/": home, "/index.html": home, index: listing,
                              base + "fdzdgknr/index.shtml": legal, base + "jytabl/": parent,
                              base + "jytabl/index.shtml": parent, "/zt/tabl/index.html": _not_a_column(site),
                              base + "gzbg/202301/t20230110_100001.shtml": article})
        yield NavSite(replica, [replica.base_url + proposals.path, replica.base_url + suggestions.file(1)])


__all__ = ["NavSite", "jpaas_site", "jpage_site", "trs_site"]
