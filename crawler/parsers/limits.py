"""Limits on hostile documents, checked on the bytes before any parsing (pure).

lexbor builds a tree in time that grows with the square of its depth for block elements (every
`<div>`, `<li>`, `<section>` start tag looks down the stack of open elements): 20,000 nested
`<div>`s take half a second, 20,000 nested `<ul><li>` four, and 1,000,000 never end. The parser's
own work grows with the number of elements. So a document nested deeper than `MAX_DEPTH` elements,
or holding more than `MAX_TAGS` tags, is refused before lexbor sees it.

Counting the tags is cheap (C speed); the depth is measured only where there are enough tags to
matter: a document of at most `SCAN_FROM` tags cannot be deep enough to hold lexbor for long (the
worst, 3,000 nested `<ul><li>`, takes ~0.1 s; the parser's own work does not grow with depth), and
scanning costs ~2 µs a tag, more than lexbor's parse. The depth scan follows the HTML tree construction rules
that decide depth (void elements, raw text, comments, the implied end tags of `<p>`, `<li>`, `<td>` …,
end tags that close nothing), so that a page cannot hide its depth behind end tags that close
nothing, and stops as soon as the limit is passed.
"""

from __future__ import annotations

import re

MAX_DEPTH = 400        # real pages nest 20-60 elements deep, Word-pasted ones a few dozen more
MAX_TAGS = 100_000     # a detail page holds a few thousand; 100,000 is a list of thousands of records
SCAN_FROM = 3_000      # tags; below this, no nesting costs lexbor more than ~0.1 s (3,000 nested <li>)

_VOID = frozenset({"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param", "source",
                   "track", "wbr", "keygen", "basefont", "bgsound", "frame", "image", "!doctype"})
_RAW_TEXT = frozenset({"script", "style", "textarea", "title", "xmp", "iframe", "noembed", "noframes", "plaintext",
                       "noscript"})
# Start tags that close an open <p> (HTML: "close a p element" in button scope)
_CLOSES_P = frozenset({"address", "article", "aside", "blockquote", "center", "details", "dialog", "dir", "div", "dl",
                       "fieldset", "figcaption", "figure", "footer", "header", "hgroup", "main", "menu", "nav", "ol",
                       "p", "search", "section", "summary", "ul", "h1", "h2", "h3", "h4", "h5", "h6", "pre",
                       "listing", "form", "table", "hr", "dd", "dt", "li", "plaintext", "xmp"})
_HEADINGS = frozenset({"h1", "h2", "h3", "h4", "h5", "h6"})
# HTML's "special" elements: an end tag of another element never closes past one of them
_SPECIAL = frozenset({"address", "applet", "area", "article", "aside", "base", "basefont", "bgsound", "blockquote",
                      "body", "br", "button", "caption", "center", "col", "colgroup", "dd", "details", "dir", "div",
                      "dl", "dt", "embed", "fieldset", "figcaption", "figure", "footer", "form", "frame", "frameset",
                      "h1", "h2", "h3", "h4", "h5", "h6", "head", "header", "hgroup", "hr", "html", "iframe", "img",
                      "input", "keygen", "li", "link", "listing", "main", "marquee", "menu", "meta", "nav", "noembed",
                      "noframes", "noscript", "object", "ol", "p", "param", "plaintext", "pre", "script", "search",
                      "section", "select", "source", "style", "summary", "table", "tbody", "td", "template",
                      "textarea", "tfoot", "th", "thead", "title", "tr", "track", "ul", "wbr", "xmp"})
# the end tag of a special element closes nothing past these ("has an element in scope")
_SCOPE = frozenset({"applet", "caption", "html", "table", "td", "th", "marquee", "object", "template"})
_TABLE_SCOPE = frozenset({"html", "table", "template"})
_TABLE_PARTS = frozenset({"table", "tbody", "thead", "tfoot", "tr", "td", "th", "caption", "colgroup"})
# start tags that close the nearest open element of these kinds (and all inside it) before opening
_CLOSES_OWN = {"li": ("li",), "dd": ("dd", "dt"), "dt": ("dd", "dt"), "td": ("td", "th"), "th": ("td", "th"),
               "tr": ("tr",), "tbody": ("tbody", "thead", "tfoot"), "thead": ("tbody", "thead", "tfoot"),
               "tfoot": ("tbody", "thead", "tfoot"), "a": ("a",), "button": ("button",),
               "nobr": ("nobr",)}
_CLOSES_TOP = {"option": ("option",), "optgroup": ("option", "optgroup")}  # only when it is the current node
_LIST_SCOPE = _SPECIAL - {"address", "div", "p"}  # what an <li>, <dd>, <dt> never closes past
_NAME_RE = re.compile(rb"[^\s/>]*")


def complexity_refusal(body: bytes) -> str | None:
    """Why a document is too complex to parse (too many tags, nested too deep), or None."""
    if len(body) <= 3 * SCAN_FROM:
        return None  # every tag takes three bytes at least
    tags = body.count(b"<")
    if tags > MAX_TAGS:
        return f"the document holds {tags} tags (more than {MAX_TAGS})"
    if tags <= SCAN_FROM:
        return None
    if nesting_depth(body, MAX_DEPTH) > MAX_DEPTH:
        return f"the document nests elements more than {MAX_DEPTH} deep"
    return None


def nesting_depth(body: bytes, limit: int) -> int:
    """How deep the document's elements nest, as an HTML parser would build them; scanning stops
    (and returns a depth above `limit`) as soon as `limit` is passed.

    Every step takes constant time (amortised): the stack keeps the positions of each name and
    running counts of the elements that bound each closing rule, so no end tag makes it search.
    """
    names: list[bytes] = []
    where: dict[bytes, list[int]] = {}
    # bounds[k][i]: how many elements of bounding kind k stand in names[:i]
    special, scope, table, listy = [0], [0], [0], [0]
    bounds = (special, scope, table, listy)

    def close_from(at: int) -> None:
        for popped in names[at:]:
            where[popped].pop()
        del names[at:]
        for counts in bounds:
            del counts[at + 1:]

    def close(name: bytes, counts: list[int]) -> None:
        found = where.get(name)
        if found:
            at = found[-1]
            if counts[-1] == counts[at + 1]:  # nothing bounding above it
                close_from(at)

    deepest = 0
    chunks = body.split(b"<")
    index, count = 1, len(chunks)
    while index < count:
        chunk = chunks[index]
        index += 1
        if not chunk:
            continue
        first = chunk[0]
        if first == 33:  # "!": a comment (to its "-->") or a doctype
            if chunk.startswith(b"!--") and b"-->" not in chunk[3:]:
                while index < count and b"-->" not in chunks[index]:
                    index += 1
                index += 1
            continue
        if first == 47:  # "/": an end tag
            name = _NAME_RE.match(chunk, 1).group(0).lower()
            kind = _KINDS.get(name, _ORDINARY)
            if name in where:
                close(name, table if kind[4] else scope if kind[0] else special)
            continue
        if not (65 <= first <= 90 or 97 <= first <= 122):
            continue  # "<" in text, "<?xml"
        name = _NAME_RE.match(chunk).group(0).lower()
        kind = _KINDS.get(name, _ORDINARY)
        if kind[5]:  # void
            continue
        if kind[6] and b"p" in where:  # closes an open <p>
            close(b"p", scope)
        if kind[7] and names and names[-1] in _HEADINGS_B:
            close_from(len(names) - 1)
        own = kind[8]
        if own:
            at = max((where[k][-1] for k in own if where.get(k)), default=-1)
            counts = table if kind[4] else listy
            if at >= 0 and counts[-1] == counts[at + 1]:
                close_from(at)
        for top in kind[9]:
            if names and names[-1] == top:
                close_from(len(names) - 1)
        found = where.get(name)
        if found is None:
            where[name] = [len(names)]
        else:
            found.append(len(names))
        names.append(name)
        special.append(special[-1] + kind[0])
        scope.append(scope[-1] + kind[1])
        table.append(table[-1] + kind[2])
        listy.append(listy[-1] + kind[3])
        if len(names) > deepest:
            deepest = len(names)
            if deepest > limit:
                return deepest
        if kind[10]:  # raw text: skip to its end tag
            closing = b"/" + name
            while index < count and chunks[index][: len(closing)].lower() != closing:
                index += 1
    return deepest


def _kind(name: str) -> tuple:
    """(special, scope, table scope, list scope, table part, void, closes p, heading, closes own kinds,
    closes the current node of kinds, raw text) for a tag name."""
    own = tuple(k.encode() for k in _CLOSES_OWN.get(name, ()))
    top = tuple(k.encode() for k in _CLOSES_TOP.get(name, ()))
    return (int(name in _SPECIAL), int(name in _SCOPE), int(name in _TABLE_SCOPE), int(name in _LIST_SCOPE),
            name in _TABLE_PARTS, name in _VOID, name in _CLOSES_P, name in _HEADINGS, own, top, name in _RAW_TEXT)


_KNOWN = _SPECIAL | _SCOPE | _TABLE_SCOPE | _TABLE_PARTS | _VOID | _CLOSES_P | set(_CLOSES_OWN) | set(_CLOSES_TOP)
_KINDS = {name.encode(): _kind(name) for name in _KNOWN | _RAW_TEXT}
_ORDINARY = _kind("span")
_HEADINGS_B = frozenset(name.encode() for name in _HEADINGS)
