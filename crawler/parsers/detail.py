"""`parse_detail`: one published detail page (bytes) to one `ProposalRecord`.

The only entry point the crawler, the archive's reparse and the CLI use. It decodes the bytes,
refuses what is not a whole proposal page, and reads the record from its label/value rows or, where
it has none, from the reply letter that is its article.
"""

from __future__ import annotations

from . import blocks
from .encoding import WIDE_CODECS, decode_html
from .limits import complexity_refusal
from .page import parse_page
from .records import NotAProposalPage, ProposalRecord

_ENDINGS = (b"</html", b"</HTML", b"</Html", b"</body", b"</BODY", b"</Body")


def is_truncated(body: bytes) -> bool:
    """An HTML document that stops before `</body>`/`</html>` was cut off in transit."""
    tail = body[-4096:]
    if any(end in tail for end in _ENDINGS):
        return False
    lowered = body.lower()
    return b"</html" not in lowered and b"</body" not in lowered


def parse_detail(body: bytes, url: str, *, encoding: str | None = None) -> ProposalRecord:
    """Parse a detail page.

    `url` is the page's absolute URL (relative links are resolved against it); `encoding` the
    charset of the HTTP Content-Type when known. A page of label/value rows reads as a label page;
    a page without them whose article is a reply letter about one proposal reads as a letter page.
    Raises `NotAProposalPage` (with `.reason`) for anything that is not a whole proposal page:
    challenge and block pages, truncated documents, documents too large or too deeply nested to
    parse, pages without a title, without rows or article text, and pages whose article is not a
    letter about one proposal (`not-a-record`).

    Characters PostgreSQL refuses in text never reach the record: NULs are removed before parsing
    (decoding, strict or with replacement, never yields a lone surrogate, and lexbor and
    `html.unescape` turn `&#0;` and `&#xD800;` into U+FFFD).
    """
    if not body or not body.strip():
        raise NotAProposalPage("empty", "the page is empty")
    markup, codec = decode_html(body, encoding)
    wide = codec in WIDE_CODECS
    if not wide and b"\x00" in body:
        body = body.replace(b"\x00", b"")  # a NUL byte is never part of a longer character here
    if "\x00" in markup:
        markup = markup.replace("\x00", "")
    probe = markup.encode("utf-8") if wide else body
    too_complex = complexity_refusal(probe)
    if too_complex:
        raise NotAProposalPage("too-complex", too_complex)
    if is_truncated(probe):
        blocked = blocks.challenge_reason(markup)
        if blocked:
            raise NotAProposalPage("blocked", blocked)
        raise NotAProposalPage("truncated", "the document ends before </html>")
    # lexbor reads UTF-8 bytes directly; anything else goes in as the decoded text
    utf8_body = body if codec == "utf-8" and not body.startswith(b"\xef\xbb\xbf") else None
    try:
        return parse_page(markup, url, body=utf8_body)
    except NotAProposalPage:
        # A page without a record: say so plainly when it is a challenge or block page. Checked
        # only here, since protected sites also embed their challenge script in real pages.
        blocked = blocks.challenge_reason(markup, anywhere=True)
        if blocked:
            raise NotAProposalPage("blocked", blocked) from None
        raise
