"""What the parser reads from its one walk of the tree and its combined queries is what one query
per kind reads: the article container a CMS family names (in standards and in quirks mode, where
lexbor compares class and id names without ASCII case), the page's <base>, cells and label elements."""

from __future__ import annotations

import itertools

import pytest
from selectolax.lexbor import LexborHTMLParser

from crawler.parsers import parse_detail
from crawler.parsers.page import (
    _ARTICLE_SELECTORS,
    _FIRST_SELECTORS,
    _LOOSE_TAGS,
    _OTHER_SELECTORS,
    DetailPage,
    _first_container,
)

TEXT = "关于加强城乡饮用水源地保护的答复意见正文"
NAMES = ('class="TRS_Editor"', 'class="trs_editor"', 'class="Trs_Editor other"', 'id="zoom"', 'id="Zoom"',
         'class="article-content"', 'class="ARTICLE-CONTENT"', 'class="note\ttrs_editor"', 'class="art_con"', "")


def one_query_each(tree: LexborHTMLParser):
    """The container as found by asking for each selector in turn (what the parser must agree with)."""
    def has_text(node):
        return len(node.text(deep=True).strip()) >= 10

    for selector in _FIRST_SELECTORS:
        for node in tree.body.css(selector):
            if has_text(node):
                return node
    order = {selector: rank for rank, selector in enumerate(_ARTICLE_SELECTORS)}

    def rank(node):
        names = [f".{name}" for name in (node.attributes.get("class") or "").split()]
        if node.attributes.get("id"):
            names.append(f"#{node.attributes['id']}")
        return min((order[name] for name in names if name in order), default=len(order))

    others = [node for node in tree.body.css(_OTHER_SELECTORS) if has_text(node)]
    return min(others, key=rank) if others else None


@pytest.mark.parametrize("doctype", ["<!DOCTYPE html>", ""], ids=["standards", "quirks"])
def test_the_first_article_container_is_the_one_each_selector_in_turn_finds(doctype):
    for first, second in itertools.product(NAMES, repeat=2):
        for inner, text in (("", TEXT), (f"<div {second}>{TEXT}</div>", "短")):
            markup = f"{doctype}<html><body><div {first}>{inner}{text}</div><div {second}>{TEXT}</div></body></html>"
            tree = LexborHTMLParser(markup)
            want, got = one_query_each(tree), _first_container(tree)
            assert (got.mem_id if got else None) == (want.mem_id if want else None), markup


def test_attachments_resolve_against_the_first_base_with_an_href():
    page = ('<html><head><title>关于加强城乡饮用水源地保护的建议的答复</title><base target="_blank">'
            '<BASE HREF="http://files.example/up/"></head><body><table>'
            "<tr><td>领衔人</td><td>魏巍</td></tr><tr><td>主办单位</td><td>县水利局</td></tr>"
            '<tr><td>答复内容</td><td><a href="a/reply.pdf">答复函.pdf</a></td></tr>'
            "</table></body></html>")
    record = parse_detail(page.encode(), "http://www.site.example/art/1.html")
    assert [(a.url, a.name) for a in record.attachments] == [("http://files.example/up/a/reply.pdf", "答复函.pdf")]


def test_the_walk_finds_the_cells_and_label_elements_a_query_finds_in_document_order():
    markup = ("<html><head><title>t</title></head><body><table><tr><th>领衔人</th><td>魏巍<span>x</span></td></tr>"
              "<tr><TD>主办单位</TD><td><table><tr><td>内</td></tr></table></td></tr></table>"
              "<dl><dt>案由</dt><dd><p>正文<b>加粗</b><font>字</font></p></dd></dl>"
              "<svg><font></font></svg><h4>小</h4><div><label>标</label><em>e</em><strong>s</strong></div>"
              "<ul><li>项</li></ul><h5>五</h5><h6>六</h6></body></html>")
    page = DetailPage(markup, "http://www.site.example/1.html")
    tree = page.tree
    assert [n.mem_id for n in page.elements.cells] == [n.mem_id for n in tree.css("td, th")]
    assert [n.mem_id for n in page.elements.loose] == [n.mem_id for n in tree.body.css(", ".join(_LOOSE_TAGS))]
    assert [n.text() for n in page.elements.titles] == ["t"]
