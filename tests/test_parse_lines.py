"""Body text, one line per block (RECORD.md "Normalisation rules"), read in one walk of the DOM.

The walk must say exactly what the definition says: the element serialised, a line break at every
block tag and <br>/<hr>, every other tag dropped, entities decoded, whitespace collapsed, empty
lines dropped. The definition is written out here as the oracle and compared on every element of
every fixture page.
"""

from __future__ import annotations

import html
import re

import pytest
from conftest import FIXTURES
from selectolax.lexbor import LexborHTMLParser

from crawler.parsers.encoding import decode_html
from crawler.parsers.page import block_lines
from replica import BLOCKS

_DROP = re.compile(r"<(script|style|template|noscript|select|textarea)\b.*?</\1\s*>|<!--.*?-->", re.S)
_BREAK = re.compile(
    r"<(?=(?:/?(?:p|div|li|ul|ol|tr|td|th|table|tbody|thead|tfoot|caption|h[1-6]|dl|dt|dd|blockquote|section|"
    r"article|aside|header|footer|nav|center|pre|form|address|figure|figcaption|fieldset|legend)|br|hr)[\s/>])")
_TAG = re.compile(r"<[^>]*>")
_ZERO_WIDTH = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff"), " ")


def serialised_lines(node) -> list[str]:
    markup = node.html or ""
    inner = markup[markup.find(">") + 1: markup.rfind("<")]
    inner = _TAG.sub("", _BREAK.sub("\ue000<", _DROP.sub("", inner)))
    inner = html.unescape(inner).translate(_ZERO_WIDTH)
    return [line for line in (" ".join(raw.split()) for raw in inner.split("\ue000")) if line]


PAGES = sorted(p for p in [*FIXTURES.rglob("*"), *BLOCKS.glob("*")] if p.is_file() and p.suffix in (".html", ".shtml"))


@pytest.mark.parametrize("path", PAGES, ids=[p.relative_to(BLOCKS.parent if BLOCKS in p.parents else FIXTURES)
                                           .as_posix() for p in PAGES])
def test_the_walk_reads_every_element_as_the_definition_says(path):
    markup, _codec = decode_html(path.read_bytes())
    tree = LexborHTMLParser(markup)
    elements = [node for node in tree.body.css("*") if node.tag not in ("script", "style")]
    assert elements
    for node in elements:
        assert block_lines(node) == serialised_lines(node), node.html[:200]


@pytest.mark.parametrize(("markup", "lines"), [
    ("<td>a<span>b</span>c</td>", ["abc"]),
    ("<td><p>a</p>b<p>c</p></td>", ["a", "b", "c"]),
    ("<td>a<br>b<br/><br>c</td>", ["a", "b", "c"]),
    ("<td><span>a</span> <span>b</span></td>", ["a b"]),
    ("<td>a<script>var x='<p>';</script>b<style>p{}</style></td>", ["ab"]),
    ("<td>a<!-- <p> -->b<select><option>请选择</option></select></td>", ["ab"]),
    ("<td>&#x738B;\u200b&nbsp;伟<div></div>x</td>", ["王 伟", "x"]),
    ("<td><div><div>a</div></div><div>b</div></td>", ["a", "b"]),
    ("<td>\u3000\u3000a\u3000\u3000b\u3000</td>", ["a b"]),
])
def test_lines(markup, lines):
    cell = LexborHTMLParser(f"<table><tr>{markup}</tr></table>").css_first("td")
    assert block_lines(cell) == lines == serialised_lines(cell)
