"""Detail pages, read once: label pages and letter pages, whatever platform family printed them.

A label page prints its record as label/value rows. Rows are found by their label text wherever
they stand (td/td, th/td, several pairs in a row, a label row above its value row, nested tables,
a label and its value in one cell, dl/dt/dd and div layouts, Word-style paragraphs), never by
position or class name; only tables that carry a known label count, so site chrome (date bars,
footers with 网站标识码) is never read as a field. A page without such rows whose article is a
reply letter about one proposal is a letter page, read by `letter.parse_letter`.

The work is done once per page: every cell's text is read once and labels are looked up by
dictionary; a value's lines are read from the DOM only where a field needs lines (scalars come
from the cell text read already); the page's meta tags are read once from the tree. Everything is
pure: text in, frozen record out.
"""

from __future__ import annotations

import html as _html
import re
from types import MappingProxyType
from urllib.parse import urljoin, urlsplit

from selectolax.lexbor import LexborHTMLParser, LexborNode

from .labels import (
    CORE_FIELDS,
    HEADER_FIELDS,
    LABEL_TO_FIELD,
    META_FALLBACKS,
    NUMBERED_FIRST,
    RECORD_FIELDS,
    field_for_label,
)
from .letter import only_link_names, parse_letter
from .records import Attachment, Disclosure, NotAProposalPage, ProposalRecord, Reply
from .reply import CHROME_LINE_RE, parse_reply
from .text import (
    adoption_class,
    clean_inline,
    derive_year,
    has_zero_width,
    is_placeholder,
    kind_from_text,
    normalize_adoption_label,
    normalize_label,
    parse_date,
    parse_datetime,
    parse_session,
    scalar,
    split_names,
    split_title,
)

# --- text of an element, one line per block ---------------------------------------------------


def _tag_ids(names) -> frozenset[int]:
    """lexbor's ids of these tag names: fixed for the HTML tags, whatever the document (only
    unknown tags such as `o:p` get ids of their own document). Comparing a node's `tag_id` costs
    less than its `tag`, which builds a new string on every read."""
    probe = LexborHTMLParser("")
    return frozenset(probe.create_node(name).tag_id for name in names)


_NOT_TEXT = frozenset({"script", "style", "template", "noscript", "select", "textarea"})


# the tags that end a line (and <br>, <hr>)
_LINE_BLOCKS = frozenset({
    "p", "div", "li", "ul", "ol", "tr", "td", "th", "table", "tbody", "thead", "tfoot", "caption", "h1", "h2", "h3",
    "h4", "h5", "h6", "dl", "dt", "dd", "blockquote", "section", "article", "aside", "header", "footer", "nav",
    "center", "pre", "form", "address", "figure", "figcaption", "fieldset", "legend"})
_LINE_BREAKS = _LINE_BLOCKS | {"br", "hr"}
_NOT_TEXT_IDS = _tag_ids(_NOT_TEXT)
_LINE_BLOCK_IDS = _tag_ids(_LINE_BLOCKS)
_LINE_BREAK_IDS = _tag_ids(_LINE_BREAKS)
(_BR_ID,) = _tag_ids(("br",))
_TEXT_ID = LexborHTMLParser("<p>text</p>").css_first("p").first_child.tag_id
_CELL_IDS = _tag_ids(("td", "th"))
(_TH_ID,) = _tag_ids(("th",))
_TABLE_IDS = _tag_ids(("table",))


def block_lines(node: LexborNode) -> list[str]:
    """The element's text, one line per `<p>`/`<div>`/`<br>`…; inline tags do not break lines.

    Read in one walk of the element's nodes, without serialising it: two text nodes in a row stand
    on one line unless their nearest block ancestors differ (a block ended or began between them)
    or a `<br>`, `<hr>` or block element stands between them. Text inside script, style and form
    controls is never read.
    """
    lines: list[str] = []
    current: list[str] = []
    block = -1        # mem_id of the nearest block ancestor of the text read last
    broken = False    # a <br>, <hr> or block element since the text read last
    root = node.mem_id
    # element -> its nearest block ancestor or itself (-2: inside script, style …), so that no chain
    # of inline elements is walked twice (deeply nested inline tags cost one walk, not one per text)
    nearest: dict[int, int] = {root: root}
    for item in node.traverse(include_text=True):
        tag = item.tag_id
        if tag != _TEXT_ID:
            if tag in _LINE_BREAK_IDS:
                broken = True
            continue
        parent = item.parent
        here = nearest.get(parent.mem_id)
        if here is None:
            here = root
            walked = []
            while parent is not None:
                at = parent.mem_id
                known = nearest.get(at)
                if known is not None:
                    here = known
                    break
                tag = parent.tag_id
                if tag in _LINE_BLOCK_IDS:
                    here = nearest[at] = at
                    break
                if tag in _NOT_TEXT_IDS:
                    here = nearest[at] = -2
                    break
                walked.append(at)
                parent = parent.parent
            for mem_id in walked:
                nearest[mem_id] = here
        if here == -2:
            continue
        if current and (broken or here != block):
            line = " ".join("".join(current).split())
            if line:
                lines.append(line)
            current = []
        current.append(item.text_content)
        block, broken = here, False
    if current:
        line = " ".join("".join(current).split())
        if line:
            lines.append(line)
    if has_zero_width("".join(lines)):
        lines = [line for line in map(clean_inline, lines) if line]
    return lines


def _one_text(node: LexborNode) -> bool:
    """Does the element hold a single run of text (`<td>魏巍</td>`, `<td><p><span>魏巍</span></p></td>`)?

    Then its text is its only line, and no serialisation is needed to read it.
    """
    child = node.first_child
    while child is not None:
        if child.next is not None:
            return False
        if child.is_text_node:
            return True
        tag = child.tag_id
        if tag in _NOT_TEXT_IDS or tag == _BR_ID:
            return False
        child = child.first_child
    return True


def value_lines(node: LexborNode, text: str | None = None) -> list[str]:
    """The element's lines; `text` is its text when read already."""
    if _one_text(node):
        line = clean_inline(text if text is not None else node.text(deep=True))
        return [line] if line else []
    return block_lines(node)


# --- label/value pairs ------------------------------------------------------------------------

_MAX_LABEL = 20          # characters of a normalised label; longer cells are values
_CHROME_RE = re.compile(r"ICP备|网站标识码|公网安备|版权所有|技术支持|网站地图|Copyright|©")
_SPACES = " \t\r\n\u3000\u00a0"
_COLONS = (":", "：")


class _Pair:
    """A label and its value; the value's lines are read when first asked for."""

    __slots__ = ("_lines", "anchor", "field", "flow", "inline", "label", "node", "text", "weak")

    def __init__(self, label: str, field_: str | None, node: LexborNode | None,
                 lines: list[str] | None = None, *, weak: bool = False, inline: bool = False,
                 anchor: LexborNode | None = None, text: str | None = None,
                 flow: list[LexborNode] | None = None) -> None:
        self.label = label        # normalised label
        self.field = field_       # the record field it feeds, None for extra_fields
        self.node = node          # the value element (for an inline pair, the element holding both)
        self._lines = lines
        self.weak = weak          # an unknown label printed without a colon: kept only in record tables
        self.inline = inline      # the node holds `label：value`: the label is cut off the first line
        self.anchor = node if node is not None else anchor  # where the pair stands on the page
        self.text = text          # the value element's text, when read already
        self.flow = flow          # paragraphs after a label paragraph that hold the value (Word layouts)

    @property
    def lines(self) -> list[str]:
        if self._lines is None:
            lines = value_lines(self.node, self.text) if self.node is not None else []
            if self.inline and lines:
                found = _split_inline(lines[0])
                if found is not None:
                    lines = ([found[1]] if found[1].strip() else []) + lines[1:]
            if self.flow:
                lines = lines + [line for paragraph in self.flow for line in block_lines(paragraph)]
            self._lines = lines
        return self._lines


def _first_colon(text: str, end: int) -> int:
    """Where the first colon (either width) stands before `end`, or -1."""
    wide, narrow = text.find("：", 0, end), text.find(":", 0, end)
    if wide == -1 or (narrow != -1 and narrow < wide):
        return narrow
    return wide


def _split_inline(text: str) -> tuple[str, str] | None:
    """`领衔人：魏巍` -> ("领衔人", "魏巍"): a label of 1-20 characters before the first colon, and
    the rest without the whitespace after the colon (`str.lstrip` strips what `\\s` matches)."""
    at = _first_colon(text, 21)
    if at < 1:
        return None
    return text[:at], text[at + 1:].lstrip()


def _could_be_label(text: str) -> bool:
    """A cheap test before normalising: a label is short and holds no colon but a trailing one."""
    core = text.strip(_SPACES).rstrip(":：")
    return 0 < len(core) <= 40 and "：" not in core and ":" not in core


# Known labels as pages print them (`领衔人`, `领衔人：`, `领衔人:`): most label cells are found here
# by one dictionary lookup, before any normalising
_PRINTED_LABELS: dict[str, tuple[str, str]] = {
    printed: (label, field_)
    for label, field_ in LABEL_TO_FIELD.items() for printed in (label, label + "：", label + ":")
}


# What a known label may start with as printed (before whitespace, widths and numbering are folded)
_LABEL_FIRST = frozenset(label[0] for label in LABEL_TO_FIELD) | NUMBERED_FIRST | frozenset(
    "\u200b\u200c\u200d\u2060\ufeff(（[【①②③④⑤⑥⑦⑧⑨⑩一二三四五六七八九十０１２３４５６７８９")


def _label_of(text: str, is_th: bool) -> tuple[str | None, str | None]:
    """(label, field) when a cell of this text is a label cell, else (None, None).

    A label cell holds a known label, or a short text ending in a colon (or stands in a th).
    """
    printed = _PRINTED_LABELS.get(text)
    if printed is not None:
        return printed
    core = text.strip(_SPACES)
    # a td that is no known label's start and ends in no colon is a value: no need to normalise it
    if not core or (not is_th and core[0] not in _LABEL_FIRST and not core.endswith(_COLONS)):
        return None, None
    if not _could_be_label(text):
        return None, None
    label = normalize_label(text)
    if not label or len(label) > _MAX_LABEL:
        return None, None
    field_ = field_for_label(label)
    if field_:
        return label, field_
    if len(label) <= 15 and not label.isdigit() and (is_th or text.rstrip(_SPACES).endswith(_COLONS)):
        return label, None
    return None, None


_SENTENCE_RE = re.compile(r"[。，,；;！!？?、《》“”\"0-9０-９]")


def _plain_label(label: str) -> bool:
    """Could this short text be an unknown label (`代表团`, `满意度`) rather than a value?"""
    return 0 < len(label) <= 10 and not _SENTENCE_RE.search(label) and not is_placeholder(label)


def _inline_label(text: str, *, known_only: bool = True) -> tuple[str, str | None] | None:
    """(label, field) when a text starts with `label：`; unknown labels only if not `known_only`."""
    found = _split_inline(text[:48].lstrip(_SPACES)[:24])
    if found is None:
        return None
    label = normalize_label(found[0])
    field_ = field_for_label(label)
    if field_ is None and (known_only or not _plain_label(label)):
        return None
    return label, field_


def _holds_table(node: LexborNode) -> bool:
    """Is there a table inside the element? Cells are small: a walk of their first nodes costs less
    than a selector query, which answers for the larger ones."""
    found = _descendant_among(node, _TABLE_IDS, 32)
    return node.css_first("table") is not None if found is None else found


def _inline_pair(node: LexborNode, text: str, *, known_only: bool = True) -> _Pair | None:
    """`<td>索引号：001008…</td>`: a label and its value in one element (the value read when needed)."""
    found = _inline_label(text, known_only=known_only)
    if found is None or _holds_table(node):
        return None
    label, field_ = found
    return _Pair(label, field_, node, weak=field_ is None, inline=True, text=text)


def _inside(node: LexborNode, ids: set[int], levels: int = 1 << 30) -> bool:
    """Does one of the elements `ids` stand above the node (within `levels` levels)?"""
    parent = node.parent
    while parent is not None and levels > 0:
        if parent.mem_id in ids:
            return True
        parent = parent.parent
        levels -= 1
    return False


# A value element holds its label's text within a few levels; a walk up the whole tree from every
# element would cost the square of the depth on a hostile page
_NEAR = 32


def _alone(node: LexborNode) -> bool:
    """Is this cell the only cell of its row?"""
    sibling = node.prev
    while sibling is not None:
        if sibling.tag_id in _CELL_IDS:
            return False
        sibling = sibling.prev
    sibling = node.next
    while sibling is not None:
        if sibling.tag_id in _CELL_IDS:
            return False
        sibling = sibling.next
    return True


class _TableScan:
    __slots__ = ("containers", "pairs", "title_rows")

    def __init__(self) -> None:
        self.pairs: list[_Pair] = []
        self.title_rows: list[str] = []
        self.containers: list[LexborNode] = []


class _Group:
    """The pairs found in one table (one tbody), before it is judged a field table or not."""

    __slots__ = ("node", "pairs", "texts", "title_rows")

    def __init__(self, node: LexborNode) -> None:
        self.node = node
        self.pairs: list[_Pair] = []
        self.texts: list[str] = []
        self.title_rows: list[str] = []


def _table_pairs(cells: list[LexborNode], zoom_ids: set[int]) -> _TableScan:
    """Every label/value pair of the page's field tables (`cells`: the page's td and th, in order).

    Cells are read once, in document order; a label cell pairs with the next cell of its row (or,
    alone in its row, with a value alone in the next row). A table counts when it names two
    known fields, or one with no unknown label beside it or inside the content area; a table
    with site chrome (ICP备, 网站标识码 …) never counts.
    """
    texts = [cell.text(deep=True) for cell in cells]
    # a text's (label, field), worked out once per page: a value cell is asked about as the cell
    # after a label, then as a cell of its own
    known: dict[str, tuple[str | None, str | None]] = {}
    groups: dict[int, _Group] = {}
    count = len(cells)
    skip = -1
    # rows of label after label (`序号 | 编号 | 标题 | 领衔人 | 主办单位`): the column heads of a list of
    # many records, never a record's own rows
    heads_in_row: dict[int, int] = {}
    for index, text in enumerate(texts):
        if index <= skip or not text:
            continue
        short = len(text) <= 60
        label, field_ = _cell_label(text, known)
        node = cells[index]
        if label is None and short and node.tag_id == _TH_ID:
            label, field_ = _label_of(text, True)
        value = cells[index + 1] if index + 1 < count else None
        value_text = texts[index + 1] if value is not None else ""
        if label is None:
            head = text[:30]
            if ":" in head or "：" in head:
                inline = _inline_pair(node, text, known_only=False)
                if inline is not None:
                    _group_of(groups, node.parent).pairs.append(inline)
            elif short and value is not None and _plain_label(plain := normalize_label(text)) \
                    and (len(value_text) > 60 or _cell_label(texts[index + 1], known)[0] is None) \
                    and value.parent.mem_id == node.parent.mem_id:
                # `<td>代表团</td><td>东屿镇代表团</td>`: kept only if the table proves a record table
                group = _group_of(groups, node.parent)
                group.pairs.append(_Pair(plain, None, value, weak=True, text=value_text))
                skip = index + 1
            continue
        row = node.parent
        if value is None or (len(value_text) <= 60 and _cell_label(texts[index + 1], known)[0] is not None) or (
                value.parent.mem_id != row.mem_id
                and not (_alone(node) and _alone(value) and _inline_label(value_text) is None)):
            # A label with no value beside it (nor alone above a lone value): printed empty.
            if value is not None and value.parent.mem_id == row.mem_id:
                heads_in_row[row.mem_id] = heads_in_row.get(row.mem_id, 0) + 1
            _group_of(groups, row).pairs.append(_Pair(label, field_, None, [], anchor=node))
            continue
        group = _group_of(groups, row)
        if not group.pairs and index > 0 and texts[index - 1] and len(texts[index - 1]) <= 200:
            group.title_rows.append(clean_inline(texts[index - 1]))
        group.pairs.append(_Pair(label, field_, value, text=value_text))
        group.texts.append(text)
        group.texts.append(value_text[:200])
        skip = index + 1
    scan = _TableScan()
    used: set[int] = set()
    grid_rows = {row for row, heads in heads_in_row.items() if heads >= 2}
    for group in groups.values():
        if grid_rows:
            group.pairs = [p for p in group.pairs if p.anchor is None or p.anchor.parent is None
                           or p.anchor.parent.mem_id not in grid_rows]
        fields = {p.field for p in group.pairs if p.field}
        if not fields:
            continue
        unknown = sum(1 for p in group.pairs if not p.field and not p.weak)
        if len(fields) < 2:
            if unknown and not _inside(group.node, zoom_ids):
                continue
            group.texts.append(group.node.text(deep=True)[:4000])
        if _CHROME_RE.search("\n".join(group.texts)):
            continue  # a footer or header bar: site chrome is never a field
        if used and _inside(group.node, used):
            continue
        scan.pairs.extend(p for p in group.pairs if not p.weak or len(fields) >= 2)
        scan.title_rows.extend(group.title_rows)
        if fields & RECORD_FIELDS:
            table = group.node if group.node.tag == "table" else group.node.parent
            if table is not None and table.parent is not None:
                scan.containers.append(table.parent)
        used.update(p.node.mem_id for p in group.pairs if p.node is not None)
    return scan


def _cell_label(text: str, known: dict[str, tuple[str | None, str | None]]) -> tuple[str | None, str | None]:
    found = known.get(text)
    if found is None:
        found = known[text] = _label_of(text, False) if len(text) <= 60 else (None, None)
    return found


def _group_of(groups: dict[int, _Group], row: LexborNode) -> _Group:
    node = row.parent or row
    group = groups.get(node.mem_id)
    if group is None:
        group = groups[node.mem_id] = _Group(node)
    return group


class _Elements:
    """The document's elements the readers look for, by kind, in document order, from one walk.

    A selector query parses its selector and walks the whole tree each time, and a list of n
    selectors costs about n walks (`dt, label, … h6` alone costs more than walking every element
    once); one walk that sorts elements by their tag id replaces the queries for cells, label
    elements, headings, the <title> and <base>. Cells, label elements and headings never stand in
    the head (the tree builder moves them to the body).
    """

    __slots__ = ("bases", "cells", "h1", "loose", "titles")

    def __init__(self, tree: LexborHTMLParser) -> None:
        self.cells: list[LexborNode] = []
        self.loose: list[LexborNode] = []
        self.h1: list[LexborNode] = []
        self.titles: list[LexborNode] = []
        self.bases: list[LexborNode] = []
        body = tree.body
        if body is None:  # a frameset document
            self.cells = tree.css("td, th")
            self.titles = tree.css("title")
            self.bases = tree.css("base")
            return
        # tag id -> the list its elements go to (td and th share one, as do the label tags)
        buckets = dict.fromkeys(_CELL_IDS, self.cells)
        buckets.update(dict.fromkeys(_LOOSE_IDS, self.loose))
        buckets[_H1_ID] = self.h1
        buckets[_TITLE_ID] = self.titles
        buckets[_BASE_ID] = self.bases
        get = buckets.get
        for part in (tree.head, body):
            if part is None:
                continue
            for node in part.traverse():
                bucket = get(node.tag_id)
                if bucket is not None:
                    bucket.append(node)


_PUBLISH_LINE = frozenset({"published_at", "source"})  # printed among 浏览次数/字号 chrome
# th cells are the table scan's: a table it judged chrome must not come back through here
_LOOSE_TAGS = ("dt", "label", "strong", "b", "span", "em", "font", "p", "div", "li", "h4", "h5", "h6")
_BLOCKS = "div, p, table, li, dd, dt, ul, ol, dl"
_CJK_LABEL_LIMIT = 16  # characters of text a value may start with before a colon and still be a label


def _next_element(node: LexborNode) -> LexborNode | None:
    sibling = node.next
    while sibling is not None and not sibling.is_element_node:
        sibling = sibling.next
    return sibling


_BLOCK_IDS = _tag_ids(tag.strip() for tag in _BLOCKS.split(","))


_LOOSE_IDS = _tag_ids(_LOOSE_TAGS)
(_H1_ID,) = _tag_ids(("h1",))
(_TITLE_ID,) = _tag_ids(("title",))
(_BASE_ID,) = _tag_ids(("base",))


def _has_block_inside(node: LexborNode, budget: int = 1 << 30) -> bool | None:
    """Does the element hold a block (div, p, table, li …)? Candidates are small, so a walk of
    their subtree costs less than a selector query. None when `budget` nodes were walked without
    finding out (a container of many inline elements: its long text tells more, and sooner)."""
    return _descendant_among(node, _BLOCK_IDS, budget)


def _descendant_among(node: LexborNode, tag_ids, budget: int) -> bool | None:
    """Is one of the element's descendants of these tag ids? Depth first, in document order; None
    when `budget` nodes were walked without finding one (a text or comment node has no children
    and none of these ids)."""
    child = node.first_child
    stack = []
    while child is not None:
        budget -= 1
        if budget < 0:
            return None
        if child.tag_id in tag_ids:
            return True
        first = child.first_child
        if first is not None:
            stack.append(first)
        child = child.next
        if child is None and stack:
            child = stack.pop()
    return False


def _wraps_one_element(node: LexborNode) -> bool:
    """Does the element hold one element and nothing else (but comments and whitespace)?"""
    element = None
    child = node.first_child
    for _ in range(8):
        if child is None:
            return element is not None
        if child.is_element_node:
            if element is not None:
                return False
            element = child
        elif child.is_text_node and child.text_content.strip():
            return False
        child = child.next
    return False


def _looks_labelled(text: str) -> bool:
    """`领衔人：…`, `代表团：…`: 2-8 CJK characters and a colon at the start of a text."""
    found = _split_inline(text[:_CJK_LABEL_LIMIT].lstrip(_SPACES))
    if found is None:
        return False
    label = found[0].rstrip(" \u3000")
    return 2 <= len(label) <= 8 and all("\u4e00" <= char <= "\u9fff" for char in label)


def _starts_with_known_label(text: str) -> bool:
    """`领衔人：…` or a short text that is a known label (`答复内容`)."""
    if _inline_label(text) is not None:
        return True
    head = text[:30]
    return _could_be_label(head) and len(head.strip(_SPACES)) <= _MAX_LABEL + 4 \
        and field_for_label(normalize_label(head)) is not None


def _flow(node: LexborNode, used: set[int]) -> list[LexborNode]:
    """The paragraphs after a label paragraph, up to the next one that starts with a known label."""
    paragraphs: list[LexborNode] = []
    sibling = _next_element(node)
    while sibling is not None and sibling.tag in ("p", "div") and sibling.mem_id not in used:
        if _starts_with_known_label(sibling.text(deep=True)):
            break
        paragraphs.append(sibling)
        used.add(sibling.mem_id)
        sibling = _next_element(sibling)
    return paragraphs


def _names_record_fields(lines: list[str]) -> bool:
    """Does any of these lines start with (or consist of) the label of a proposal's own field?"""
    for line in lines:
        if _first_colon(line, 21) != -1:
            found = _inline_label(line)
            if found is not None and found[1] in CORE_FIELDS:
                return True
        if len(line) <= 40 and _could_be_label(line) and not ("\u4e00" <= line[0] <= "\u9fff"
                                                               and line[0] not in _LABEL_STARTS) \
                and field_for_label(normalize_label(line)) in CORE_FIELDS:
            return True
    return False


# What a known label, or a numbered one, starts with once normalised. A line (trimmed) that starts
# with any other CJK ideograph names no field: NFKC leaves these ideographs as they are and composes
# nothing with them, so normalising cannot change that first character.
_LABEL_STARTS = frozenset(label[0] for label in LABEL_TO_FIELD) | NUMBERED_FIRST


_LOOSE_TEXT_BUDGET = 2_000_000


def _loose_pairs(elements: _Elements, used: set[int], until: LexborNode | None = None) -> list[_Pair]:
    """Label/value pairs outside tables: dl/dt/dd, `<span>领衔人：</span><div>魏巍</div>`, `<li>索引号：…</li>`,
    and Word-style paragraphs (`<p>案由：…</p><p>…</p><p>答复内容：</p><p>…letter…</p>`).

    A label element is a leaf (no block inside) whose text is a known label, a `<dt>`, or a short
    text ending in a colon; its value is the element beside it, or for paragraphs every paragraph
    up to the next labelled one. Unknown labels count only in a container that also holds known
    ones, so that page chrome stays out. Elements are judged by their text first; the tree is
    asked about an element (what it holds, where it stands) only when its text reads as a label.
    With `until` (a reply letter), only what stands before it is read: a page's header rows come
    before its article, and a letter's own lines (类别：B, 签发人：…, 联系人：…) are never rows.
    """
    found: list[tuple[int, _Pair]] = []
    known_containers: set[int] = set()
    chrome: dict[int, bool] = {}

    def in_chrome(node: LexborNode) -> bool:
        """Does the block around this element read as site chrome (a footer with ICP备, 网站标识码 …)?"""
        parent = node.parent
        if parent is None:
            return False
        if parent.mem_id not in chrome:
            chrome[parent.mem_id] = bool(_CHROME_RE.search(parent.text(deep=True)[:2000]))
        return chrome[parent.mem_id]

    def taken(node: LexborNode) -> bool:
        return node.mem_id in used or (bool(used) and _inside(node, used, _NEAR))

    stop = until.mem_id if until is not None else None
    # characters of text read: real pages read a few thousand; a hostile page's deep chains of
    # inline elements would make lexbor build the same text over and over
    budget = _LOOSE_TEXT_BUDGET
    for node in elements.loose:
        mem_id = node.mem_id
        if mem_id == stop:
            break
        if mem_id in used:
            continue
        tag = node.tag
        # an element that holds a block is never a label nor a value beside one (a dt may hold
        # anything): known from its structure, before its text, which for a container is long
        holds_block = _has_block_inside(node, 12) if tag != "dt" else False
        if holds_block:
            continue
        if holds_block is None and _wraps_one_element(node):
            continue  # a wrapper around a large inline subtree: its child says all it says
        text = node.text(deep=True)
        budget -= len(text)
        if budget < 0:
            break
        if not text or len(text) > 300:
            continue
        if holds_block is None and any(found.mem_id != mem_id for found in node.css(_BLOCKS)):
            continue
        head = text[:48]
        colon_near = ":" in head or "：" in head
        if not colon_near and len(text) > 25:
            continue
        label = normalize_label(text) if len(text) <= 60 and _could_be_label(text) else ""
        field_ = field_for_label(label) if label and len(label) <= _MAX_LABEL else None
        if field_ or tag == "dt" or (text.rstrip(_SPACES).endswith(_COLONS) and _plain_label(label)):
            if taken(node) or in_chrome(node):
                continue
            used.add(node.mem_id)
            paragraph = tag in ("p", "div")
            parent = node.parent
            # an item that is all label (`<li>文　号：</li>`, printed empty) stands among the list's
            # other items, as an inline `<li>索引号：…</li>` does
            container = parent if tag in ("dt", "li") or paragraph or parent is None else (parent.parent or parent)
            if paragraph:
                pair = _Pair(label, field_, None, None, weak=not field_, anchor=node, flow=_flow(node, used))
            else:
                value = _next_element(node)
                value_text = value.text(deep=True) if value is not None and value.mem_id not in used else ""
                if value is not None and (value.mem_id in used or _starts_with_known_label(value_text)
                                          or _looks_labelled(value_text)):
                    value = None  # the next element is the next label: this one is printed empty
                pair = _Pair(label, field_, value, None if value is not None else [], weak=not field_,
                             anchor=node, text=value_text)
                if value is not None:
                    used.add(value.mem_id)
            found.append((container.mem_id, pair))
            if field_ and field_ not in _PUBLISH_LINE:
                known_containers.add(container.mem_id)
            continue
        if not colon_near:
            continue
        inline = _inline_label(text)
        if inline is None or taken(node) or in_chrome(node):
            continue
        used.add(node.mem_id)
        # a paragraph's value may run on over the next ones; the publish line's never does
        flows = node.tag in ("p", "div") and inline[1] not in _PUBLISH_LINE
        pair = _Pair(inline[0], inline[1], node, weak=inline[1] is None, inline=True, text=text,
                     flow=_flow(node, used) if flows else None)
        found.append((node.parent.mem_id if node.parent is not None else 0, pair))
        if pair.field not in _PUBLISH_LINE and node.parent is not None:
            known_containers.add(node.parent.mem_id)
    return [pair for container, pair in found if not pair.weak or container in known_containers]


# --- the publish line and the header, read from the source where no table holds them -----------

_SOURCE_LABELS: dict[str, tuple[str, ...]] = {
    "published_at": ("发布时间", "发布日期"),
    "source": ("信息来源", "文章来源", "来源"),
    "index_no": ("索引号",),
    "disclosure_category": ("组配分类",),
    "publisher": ("发布机构",),
    "generated_on": ("生成日期",),
    "disclosure_mode": ("公开方式",),
}
# after the label: a colon, then whitespace, comments and opening inline tags, then the value text
_SOURCE_VALUE_RE = re.compile(
    r"\s*[:：]((?:\s|&nbsp;|<!--.*?-->|<(?:span|em|font|b|strong|i|label)\b[^>]*>)*)([^<]{0,200})", re.S)
_VALUE_END_RE = re.compile(
    r"[\s\u00a0\u3000]{2,}|(?:浏览次数|访问次数|点击数|点击率|阅读次数|浏览量|字体|字号|作者|发布时间|信息来源|来源)[:：]")


def _in_script(markup: str, index: int, start: int) -> bool:
    opened = markup.rfind("<script", start, index)
    return opened != -1 and markup.rfind("</script", opened, index) == -1


def _source_value(markup: str, key: str, start: int = 0) -> str | None:
    """The first non-empty value printed after a header label in the page source (not in scripts),
    from `start` (where the body begins) on."""
    for label in _SOURCE_LABELS[key]:
        at = markup.find(label, start)
        while at != -1:
            match = _SOURCE_VALUE_RE.match(markup, at + len(label))
            # a bare 来源 counts only as a word of its own, not as the tail of 资金来源 and the like
            own_word = len(label) > 2 or at == 0 or not "\u4e00" <= markup[at - 1] <= "\u9fff"
            if match and own_word and not _in_script(markup, at, start):
                value = match.group(2)
                if "&" in value:
                    value = _html.unescape(value)
                value = clean_inline(_VALUE_END_RE.split(value, maxsplit=1)[0])
                if value and not is_placeholder(value):
                    return value
            at = markup.find(label, at + len(label))
    return None


# --- the page -----------------------------------------------------------------------------------

_PROPOSAL_TITLE_RE = re.compile(r"关于|建议$|提案$|议案$|答复|复函|意见$|的函$")
_TITLE_SPLIT_RE = re.compile(r"\s*[-_|–—－]+\s*")
_ATTACHMENT_EXT = (".pdf", ".doc", ".docx", ".wps", ".xls", ".xlsx", ".ofd")
_DECLARED_URL_RE = re.compile(
    r"<meta\s+name=[\"']Url[\"']\s+content=[\"']([^\"']+)[\"']|<link\s+rel=[\"']canonical[\"']\s+href=[\"']([^\"']+)",
    re.I)
_NUMBER_LABEL_RE = re.compile(r"第?\s*([0-9]+)\s*号?")
_META_NAME_RE = re.compile(r"<meta\b[^>]*?\bname\s*=\s*(?:\"([^\"]*)\"|'([^']*)')", re.I)
_META_CONTENT_RE = re.compile(r"\bcontent\s*=\s*(?:\"([^\"]*)\"|'([^']*)')", re.I)


def declared_url(markup: str) -> str | None:
    """The URL a page declares for itself (`<meta name="Url">`, canonical link)."""
    match = _DECLARED_URL_RE.search(markup)
    return (match.group(1) or match.group(2)).strip() if match else None


class _once:
    """`functools.cached_property` without its lock: Python 3.11 takes an RLock on every first read,
    which costs more than most of the values computed here; a page is never shared between threads."""

    def __init__(self, func) -> None:
        self.func = func
        self.name = func.__name__
        self.__doc__ = func.__doc__

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    def __get__(self, instance, owner=None):
        if instance is None:
            return self
        value = instance.__dict__[self.name] = self.func(instance)
        return value


# field -> the meta tag read where the page prints no value of its own
_META_OF: dict[str, str] = {}
for _name, _target in META_FALLBACKS.items():
    _META_OF.setdefault(_target, _name)


class DetailPage:
    """One parsed detail page; each `_extract_<field>` gives one key of the record."""

    def __init__(self, markup: str, url: str, *, body: bytes | None = None) -> None:
        self.markup = markup
        self.url = url
        self.tree = LexborHTMLParser(body if body is not None else markup)
        zoom = self.tree.css_first("#zoom")
        self.zoom = [zoom] if zoom is not None else []
        self.elements = _Elements(self.tree)
        scan = _table_pairs(self.elements.cells, {z.mem_id for z in self.zoom})
        pairs = scan.pairs
        if not any(p.field in CORE_FIELDS for p in pairs):
            # No record table: the record may stand in other layouts, or the article may be a reply
            # letter, whose own lines (类别：B, 签发人：…, 联系人：…) are never rows
            article = self.article
            letter = article is not None and not _names_record_fields(self.article_lines)
            # a letter's page whose header stands in a table has no other rows to offer: the
            # publish line is read from the source either way
            if not (letter and any(p.field in HEADER_FIELDS for p in pairs)):
                used = {p.anchor.mem_id for p in pairs if p.anchor is not None}
                pairs = pairs + _loose_pairs(self.elements, used, article if letter else None)
        self.loose_read = pairs is not scan.pairs
        self.title_rows = scan.title_rows
        self.containers = scan.containers
        self._use_pairs(pairs)

    def _use_pairs(self, pairs: list[_Pair]) -> None:
        """The pairs the record's fields are read from (a letter page keeps only those outside its letter)."""
        self.pairs = pairs
        self.values: dict[str, _Pair] = {}
        self.extra: dict[str, str | None] = {}
        for pair in pairs:
            if pair.field is None:
                if pair.label not in self.extra or self.extra[pair.label] is None:
                    lines = pair.lines
                    self.extra[pair.label] = scalar(" ".join(lines)) if len(lines) <= 1 else "\n".join(lines)
            elif pair.field not in self.values or not self.values[pair.field].lines:
                self.values[pair.field] = pair

    # helpers ------------------------------------------------------------------------------------

    @_once
    def _head(self) -> str:
        end = self.markup.find("</head")
        return self.markup[: end if end != -1 else 16384]

    def meta(self, name: str) -> str:
        """The content of the page's `<meta name="…">` (ArticleTitle, PubDate, ColumnName …).

        Read from the source of the head: a few string searches there cost less than asking the
        tree for its meta elements and their attributes.
        """
        head = self._head
        at = head.find(name)
        while at != -1:
            start = head.rfind("<", 0, at)
            end = head.find(">", at)
            match = _META_NAME_RE.match(head, start, end + 1) if start != -1 and end != -1 else None
            if match and (match.group(1) or match.group(2)) == name:
                content = _META_CONTENT_RE.search(head, start, end + 1)
                return _html.unescape(content.group(1) or content.group(2) or "") if content else ""
            at = head.find(name, at + len(name))
        return ""

    @_once
    def _body_start(self) -> int:
        at = self.markup.find("<body")
        return at if at != -1 else 0

    def lines(self, key: str) -> list[str] | None:
        """The value lines of a field's row; None where the page has no such row."""
        pair = self.values.get(key)
        return pair.lines if pair is not None else None

    def text(self, key: str) -> str | None:
        lines = self.lines(key)
        return scalar(" ".join(lines)) if lines else None

    def header(self, key: str) -> str | None:
        """A header value: its row, else the source text (发布时间: …), else the page's meta tag.

        Where the page was read for rows outside tables too (no record table), every header row
        outside a table is a pair already: only the publish line is looked for in the source.
        """
        if key in self.values:
            value = self.text(key)
            if value is not None:
                return value
        value = None
        if key in _SOURCE_LABELS and (key in _PUBLISH_LINE or not self.loose_read):
            value = _source_value(self.markup, key, self._body_start)
        if value is None:
            meta = _META_OF.get(key)
            value = scalar(self.meta(meta)) if meta else None
        return value

    @_once
    def has_record_rows(self) -> bool:
        return any(p.field in CORE_FIELDS for p in self.pairs)

    @_once
    def article(self) -> LexborNode | None:
        """The element holding the page's article text (a letter page's letter)."""
        return article_node(self.tree)

    @_once
    def article_lines(self) -> list[str]:
        """The article's lines, without the page chrome that comes along (分享到：, 【打印】 …)."""
        article = self.article
        if article is None:
            return []
        return [line for line in block_lines(article) if len(line) > 40 or not CHROME_LINE_RE.match(line)]

    def _visible_titles(self):
        """Texts printed as titles, in order of trust: rows above the record, h1, then the rest."""
        yield from self.title_rows
        body = self.tree.body
        if body is None:
            return
        yield from (n.text(deep=True) for n in self.elements.h1)
        yield from (n.text(deep=True) for n in body.css('h2, h3, [class*="title"], [id*="title"]'))

    @_once
    def _title(self) -> str | None:
        """The printed title: the one that agrees with the ArticleTitle meta or the <title>."""
        pair_title = self.text("raw_title")
        if pair_title:
            return pair_title
        article_title = clean_inline(self.meta("ArticleTitle"))
        candidates = []
        for text in self._visible_titles():
            text = clean_inline(text)
            if not text or len(text) > 200 or "发布时间" in text or "信息来源" in text:
                continue
            if text == article_title:
                return text
            candidates.append(text)
        titles = self.elements.titles
        title_node = titles[0] if titles else None
        page_title = clean_inline(title_node.text()) if title_node is not None else ""
        if page_title:
            for text in candidates:
                if len(text) >= 5 and text in page_title and _PROPOSAL_TITLE_RE.search(text):
                    return text
        if article_title:
            return article_title
        for text in candidates:
            if _PROPOSAL_TITLE_RE.search(text):
                return text
        if page_title:
            site = clean_inline(self.meta("SiteName"))
            parts = [p for p in _TITLE_SPLIT_RE.split(page_title) if p and p != site]
            if parts:
                return max(parts, key=len)
        return None

    # one helper per record key -------------------------------------------------------------------

    def _extract_url(self) -> str:
        return self.url

    def _extract_raw_title(self) -> str:
        title = self._title
        if not title:
            raise NotAProposalPage("no-title", "the page prints no title")
        return title

    def _extract_number(self, raw_title: str) -> str | None:
        number, _title = split_title(raw_title)
        if number is None:
            label = self.text("number")
            match = _NUMBER_LABEL_RE.fullmatch(label or "")
            number = match.group(1) if match else None
        return number

    def _extract_title(self, raw_title: str) -> str:
        return split_title(raw_title)[1]

    def _extract_year(self, number: str | None, title: str) -> int | None:
        return derive_year(number, title)

    def _extract_session(self, reply: Reply | None) -> str | None:
        return parse_session(reply.title) if reply else None

    def _extract_category(self) -> str | None:
        return self.text("category")

    def _extract_lead_sponsors(self) -> list[str]:
        return split_names("\n".join(self.lines("lead_sponsors") or []))

    def _extract_co_sponsors(self) -> list[str]:
        return split_names("\n".join(self.lines("co_sponsors") or []))

    def _extract_content(self) -> str | None:
        lines = self.lines("content")
        return "\n".join(lines) if lines and not is_placeholder(" ".join(lines)) else None

    def _extract_lead_units(self) -> list[str]:
        return split_names("\n".join(self.lines("lead_units") or []))

    def _extract_co_units(self) -> list[str]:
        return split_names("\n".join(self.lines("co_units") or []))

    def _extract_reply(self) -> Reply | None:
        lines = self.lines("reply")
        if lines and is_placeholder(" ".join(lines)):
            lines = None
        node = self.values["reply"].node if lines else None
        if lines and node is not None and only_link_names(lines, [a.name for a in _attachment_links(node, self.url)]):
            return None  # the letter is in `attachments`
        return parse_reply(lines or [])

    def _extract_adoption_label(self) -> str | None:
        return normalize_adoption_label(self.text("adoption"))

    def _extract_adoption_class(self, label: str | None) -> str | None:
        return adoption_class(label)

    def _extract_implementation_status(self) -> str | None:
        return self.text("implementation_status")

    def _extract_impact_scope(self) -> str | None:
        return self.text("impact_scope")

    def _extract_approved_by(self) -> str | None:
        return self.text("approved_by")

    def _extract_disclosure(self) -> Disclosure:
        generated = self.header("generated_on")
        return Disclosure(
            index_no=self.header("index_no"),
            category=self.header("disclosure_category"),
            publisher=self.header("publisher"),
            generated_on=parse_date(generated) if generated else None,
            disclosure_mode=self.header("disclosure_mode"),
            published_at=parse_datetime(self.header("published_at")),
            source=self.header("source"),
        )

    def _extract_kind(self, disclosure: Disclosure, reply: Reply | None) -> str | None:
        for hint in (disclosure.category, self.meta("ColumnName"), reply.title if reply else None):
            kind = kind_from_text(hint)
            if kind:
                return kind
        labels = " ".join(p.label for p in self.pairs)
        committee, congress = "委员" in labels, "代表" in labels
        if committee != congress:
            return "cppcc_proposal" if committee else "npc_suggestion"
        addressee = reply.addressee if reply else None
        if addressee and addressee.endswith(("委员", "代表")):
            return "cppcc_proposal" if addressee.endswith("委员") else "npc_suggestion"
        return None

    @_once
    def _base(self) -> str:
        base_node = next((node for node in self.elements.bases if "href" in node.attributes), None)
        return urljoin(self.url, base_node.attributes.get("href") or "") if base_node is not None else self.url

    def _extract_attachments(self, containers: list[LexborNode] | None = None) -> list[Attachment]:
        if containers is None:
            containers = self.zoom or self.containers or ([self.tree.body] if self.tree.body else [])
        found: dict[str, Attachment] = {}
        for container in containers:
            for attachment in _attachment_links(container, self._base):
                found.setdefault(attachment.url, attachment)
        return list(found.values())

    def _extract_extra_fields(self) -> dict[str, str | None]:
        return dict(self.extra)

    # the record ----------------------------------------------------------------------------------

    def record(self) -> ProposalRecord:
        raw_title = self._extract_raw_title()
        if not self.has_record_rows:
            return self.letter_record(raw_title)
        number = self._extract_number(raw_title)
        title = self._extract_title(raw_title)
        reply = self._extract_reply()
        disclosure = self._extract_disclosure()
        adoption_label = self._extract_adoption_label()
        return ProposalRecord(
            url=self._extract_url(),
            kind=self._extract_kind(disclosure, reply),
            raw_title=raw_title,
            title=title,
            number=number,
            year=self._extract_year(number, title),
            session=self._extract_session(reply),
            category=self._extract_category(),
            lead_sponsors=tuple(self._extract_lead_sponsors()),
            co_sponsors=tuple(self._extract_co_sponsors()),
            content=self._extract_content(),
            lead_units=tuple(self._extract_lead_units()),
            co_units=tuple(self._extract_co_units()),
            reply=reply,
            adoption_label=adoption_label,
            adoption_class=self._extract_adoption_class(adoption_label),
            implementation_status=self._extract_implementation_status(),
            impact_scope=self._extract_impact_scope(),
            approved_by=self._extract_approved_by(),
            disclosure=disclosure,
            attachments=tuple(self._extract_attachments()),
            extra_fields=MappingProxyType(self._extract_extra_fields()),
        )

    def letter_record(self, raw_title: str) -> ProposalRecord:
        """A page without label rows whose article is a reply letter about one proposal."""
        article = self.article
        lines = self.article_lines
        region = _with_following(article) if article is not None else []
        attachments = self._extract_attachments(region)
        if not lines and not attachments:
            raise NotAProposalPage("no-fields", "the page has no label/value rows of a proposal and no article text")
        if only_link_names(lines, [a.name for a in attachments]):
            lines = []  # the letter itself is only in `attachments`
        letter = parse_letter(lines, heading=raw_title)
        if letter.refusal:
            raise NotAProposalPage("not-a-record", f"not a letter about one proposal: {letter.refusal}")
        # the record's rows are the page's header; lines of the letter (类别, 签发人, 联系人 …) are never fields
        outside = _Outside(article)
        self._use_pairs([p for p in self.pairs if p.anchor is None or outside(p.anchor)])
        disclosure = self._extract_disclosure()
        kind = next((k for k in (kind_from_text(disclosure.category), kind_from_text(self.meta("ColumnName"))) if k),
                    letter.kind)
        title = letter.proposal_title or raw_title
        return ProposalRecord(
            url=self.url, kind=kind, raw_title=raw_title, title=title, number=letter.number,
            year=derive_year(letter.number, title), session=letter.session, category=self._extract_category(),
            lead_sponsors=letter.lead_sponsors, co_sponsors=(), content=None,
            lead_units=letter.lead_units, co_units=letter.co_units, reply=letter.reply,
            adoption_label=letter.adoption_label, adoption_class=letter.adoption_class,
            implementation_status=None, impact_scope=None, approved_by=None, disclosure=disclosure,
            attachments=tuple(attachments), extra_fields=MappingProxyType(self._extract_extra_fields()),
        )


# --- letter pages: the article and its attachments ----------------------------------------------

# Article containers of the common CMS families, most specific first: TRS WCM, Hanweb, and others.
_ARTICLE_SELECTORS = (
    ".TRS_Editor", ".trs_editor", "#zoom", ".article-content", ".article_content", ".articleContent",
    ".art_con", ".art-con", ".artCon", ".article-body", ".article_body", "#article_content", ".detail-content",
    ".detail_content", ".news_content", ".pages_content", "#UCAP-CONTENT", ".zhengw", "#zhengw", ".contM", "#size",
    ".wrapper_detail_text", ".content_body",
)
# the few that most pages use are asked for one by one; the rest in one query
_FIRST_SELECTORS = _ARTICLE_SELECTORS[:4]
_OTHER_SELECTORS = ", ".join(_ARTICLE_SELECTORS[4:])
# Wrappers that hold an article among other things (title, date bar, share bar): used only where
# no block of text stands out.
_WRAPPER_SELECTORS = (".view", "#content", ".content", "#article", "article")
_INLINE_TAGS = frozenset({"span", "strong", "b", "font", "em", "i", "u", "a", "sub", "sup", "label", "small", "big",
                          "s", "strike", "ins", "del", "mark", "abbr", "cite", "code", "q", "o:p", "st1:chsdate"})
_NOT_TEXT_TAGS = frozenset({"script", "style", "template", "noscript", "select", "textarea", "option", "title",
                            "head", "h1", "h2", "h3", "h4", "h5", "h6", "button", "nav", "header", "footer"})
_CELL_TAGS = frozenset({"td", "th", "tr", "tbody", "thead", "tfoot", "table", "caption"})
_MIN_ARTICLE_TEXT = 10


def _has_text(node: LexborNode) -> bool:
    """Does the element's text, stripped, hold `_MIN_ARTICLE_TEXT` characters? Read up to where it
    does (an article's first paragraph), not the whole article: a prefix of the text that holds them
    stripped means the whole text does."""
    length = 0  # characters from the first one that is not whitespace
    for item in node.traverse(include_text=True):
        if item.tag_id != _TEXT_ID:
            continue
        text = item.text_content
        if not length:
            text = text.lstrip()
        kept = len(text.rstrip())
        if kept and length + kept >= _MIN_ARTICLE_TEXT:
            return True
        length += len(text)
    return False


_FIRST_QUERY = ", ".join(_FIRST_SELECTORS)
_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")
_ASCII_SPACES = str.maketrans("\t\n\f\r", "    ")
_FIRST_FOLDED = tuple(selector.translate(_ASCII_LOWER) for selector in _FIRST_SELECTORS)


def _first_names(node: LexborNode) -> set[int] | None:
    """Which of `_FIRST_SELECTORS` name the element (by its class and id); None where that depends
    on the document's mode (quirks mode compares names without ASCII case)."""
    attributes = node.attributes
    names = [f".{name}" for name in (attributes.get("class") or "").translate(_ASCII_SPACES).split(" ") if name]
    if attributes.get("id"):
        names.append(f"#{attributes['id']}")
    exact = {rank for rank, selector in enumerate(_FIRST_SELECTORS) if selector in names}
    folded_names = {name.translate(_ASCII_LOWER) for name in names}
    folded = {rank for rank, selector in enumerate(_FIRST_FOLDED) if selector in folded_names}
    return exact if exact == folded else None


def _first_container(tree: LexborHTMLParser) -> LexborNode | None:
    """The first article container of a CMS family (in the order of `_ARTICLE_SELECTORS`) with text."""
    body = tree.body
    if body is None:
        return None
    # one query for the four (a query costs about one walk per selector), then the first selector
    # that names one of them with text wins, as if each were asked for in turn
    found = body.css(_FIRST_QUERY)
    if found:
        named = [_first_names(node) for node in found]
        if all(names is not None for names in named):
            for rank in range(len(_FIRST_SELECTORS)):
                for node, names in zip(found, named, strict=True):
                    if rank in names and _has_text(node):
                        return node
        else:
            for selector in _FIRST_SELECTORS:
                for node in body.css(selector):
                    if _has_text(node):
                        return node
    others = [node for node in body.css(_OTHER_SELECTORS) if _has_text(node)]
    if not others:
        return None
    order = {selector: rank for rank, selector in enumerate(_ARTICLE_SELECTORS)}

    def rank(node: LexborNode) -> int:
        attributes = node.attributes
        names = [f".{name}" for name in (attributes.get("class") or "").split()]
        if attributes.get("id"):
            names.append(f"#{attributes['id']}")
        return min((order[name] for name in names if name in order), default=len(order))

    return min(others, key=rank)


def article_node(tree: LexborHTMLParser) -> LexborNode | None:
    """The element holding the page's article text.

    A known article container of the CMS families where the page has one with text in it; else the
    block that holds the most paragraph text: every text node counts for the element its paragraph
    stands in (the parent of its `<p>`/`<div>`/`<li>`); link text (but a letter file's name), table
    cells and headings not at all; else a known wrapper.
    """
    body = tree.body
    if body is None:
        return None
    container = _first_container(tree)
    if container is not None:
        return container
    best = _densest_block(body)
    if best is not None:
        return best
    for selector in _WRAPPER_SELECTORS:
        for node in body.css(selector):
            if _has_text(node):
                return node
    return None


def _densest_block(body: LexborNode) -> LexborNode | None:
    scores: dict[int, list] = {}
    # inline element -> (its nearest non-inline ancestor, whether a link stands between): each chain
    # of inline elements is walked once, however many texts it holds
    above: dict[int, tuple[LexborNode | None, bool]] = {}
    for node in body.traverse(include_text=True):
        if not node.is_text_node:
            continue
        text = node.text_content.strip()
        if not text or CHROME_LINE_RE.match(text):  # 发布时间：…, 分享到： and the like are a page's, not its article's
            continue
        size = len(text)
        block = node.parent
        linked = False
        walked = []
        while block is not None and block.tag in _INLINE_TAGS:
            known = above.get(block.mem_id)
            if known is not None:
                block, linked = known[0], linked or known[1]
                break
            walked.append(block)
            # link text is navigation, except the names of the letter's own files
            linked = linked or (block.tag == "a" and not _is_attachment_href(block.attributes.get("href") or ""))
            block = block.parent
        for inline in walked:
            above[inline.mem_id] = (block, linked)
        if linked or block is None:
            continue
        # table cells are a header's or a list's, not paragraphs of an article
        if block.tag in _NOT_TEXT_TAGS or block.tag in _CELL_TAGS or _inside_tags(block, _NOT_TEXT_TAGS):
            continue
        if block.tag != "body":
            block = block.parent
        if block is None:
            continue
        entry = scores.setdefault(block.mem_id, [block, 0])
        entry[1] += size
    best = max(scores.values(), key=lambda entry: entry[1], default=None)
    return best[0] if best is not None and best[1] >= _MIN_ARTICLE_TEXT else None


def _inside_tags(node: LexborNode, tags: frozenset[str], levels: int = _NEAR) -> bool:
    parent = node.parent
    while parent is not None and levels > 0:
        if parent.tag in tags:
            return True
        parent = parent.parent
        levels -= 1
    return False


def _with_following(node: LexborNode) -> list[LexborNode]:
    """The article and the blocks just after it (where templates list the attachments)."""
    region = [node]
    outer = node
    while outer.parent is not None and outer.parent.tag not in ("body", "html") \
            and sum(1 for child in outer.parent.iter() if child.is_element_node) == 1:
        outer = outer.parent
    sibling = _next_element(outer)
    while sibling is not None:
        region.append(sibling)
        sibling = _next_element(sibling)
    return region


class _Outside:
    """Does a node stand outside an element (neither the element nor inside it)? A node's walk up
    stops at the element (inside) or at one of the element's own ancestors (outside: the element
    is below it), so that rows beside an article are not walked up to the root one by one."""

    __slots__ = ("above", "at")

    def __init__(self, element: LexborNode | None) -> None:
        self.at = element.mem_id if element is not None else None
        self.above: set[int] = set()
        parent = element.parent if element is not None else None
        while parent is not None:
            self.above.add(parent.mem_id)
            parent = parent.parent

    def __call__(self, node: LexborNode) -> bool:
        if self.at is None:
            return True
        while node is not None:
            at = node.mem_id
            if at == self.at:
                return False
            if at in self.above:
                return True
            node = node.parent
        return True


_GATEWAY_RE = re.compile(r"(?:^|[?&])(?:fileid|file_id|fileurl|fileuuid|attachid|attachmentid|filename)=", re.I)


def _is_attachment_href(href: str) -> bool:
    path, _, query = href.strip().split("#", 1)[0].partition("?")
    path = path.lower()
    # a file, the legacy download link, or a download gateway's (…/download?fileId=…)
    return (path.endswith(_ATTACHMENT_EXT) or path.endswith("downfile.jsp")
            or ("download" in path and bool(_GATEWAY_RE.search(query)))) \
        and not href.startswith(("javascript:", "mailto:"))


def _attachment_links(container: LexborNode, base: str) -> list[Attachment]:
    """Links to letter files (.pdf, .doc …, downfile.jsp) inside an element, with absolute URLs."""
    found = []
    for link in container.css("a[href]"):
        attributes = link.attributes
        href = (attributes.get("href") or "").strip()
        # the link's text is read only for links that may be a file's: most are navigation
        if _is_attachment_href(href):
            text = clean_inline(link.text(deep=True))
        elif "?" in href and not href.startswith(("javascript:", "mailto:")):
            # a download gateway's link (…/download?fileId=…) is told by the file name it prints
            text = clean_inline(link.text(deep=True))
            if not text.lower().endswith(_ATTACHMENT_EXT):
                continue
        else:
            continue
        absolute = urljoin(base, href)
        name = text or clean_inline(attributes.get("title") or "") \
            or urlsplit(absolute).path.rsplit("/", 1)[-1]
        found.append(Attachment(absolute, name))
    return found


def parse_page(markup: str, url: str, *, body: bytes | None = None) -> ProposalRecord:
    """A detail page as a record; raises NotAProposalPage where it holds none.

    `markup` is the decoded page; `body`, when given, the same page as UTF-8 bytes (faster to
    build the tree from).
    """
    return DetailPage(markup, url, body=body).record()


__all__ = ["DetailPage", "article_node", "block_lines", "declared_url", "parse_page"]
