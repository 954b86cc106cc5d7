"""The short-term index of SQLite archives: text as a stream of character bigrams.

FTS5's trigram tokenizer cannot match a one- or two-character term (养老), and no built-in
tokenizer splits Chinese into characters, so the text is written out as tokens here and indexed
by FTS5's plain unicode61 tokenizer (the `proposal_fts_grams` table, filled by triggers that call
`proposals_grams()`):

- every character becomes one *unit*: letters and digits that unicode61 folds the way SQLite's
  LIKE does (ASCII, and uncased scripts such as Chinese) stand for themselves; any other
  character (punctuation, symbols, non-ASCII cased letters) becomes a private-use character of its
  own, which unicode61 keeps as a token character and never folds;
- each whitespace-separated run of units gives one token per unit: the unit and the one after it,
  or END after the last. So every occurrence of a character starts exactly one token, and every
  two adjacent characters are exactly one token.

A one-character term is then the prefix query `"X" *`, a two-character term the token `"XY"`,
and a longer one the phrase of its bigrams `"XY YZ ZW"`: each is true of a column exactly when
LIKE '%term%' is (ASCII case folded, nothing else), so the index can stand in for the scan.
Pure: no SQLAlchemy, no database.
"""

from __future__ import annotations

from operator import add

END = chr(0xF0000 + 0x20)  # the unit of a space, which never stands in a run


def _unit(char: str) -> str:
    if char.isalnum() and (char.isascii() or char.lower() == char.upper()):
        return char
    code = ord(char)
    if code < 0x10000:
        return chr(0xF0000 + code)
    if code < 0x1FFFE:
        return chr(0x100000 + code - 0x10000)
    return chr(0x10FFFD)  # beyond the first two planes only symbols nobody searches for


class _Units(dict):
    """str.translate's table: each character's unit, worked out once."""

    def __missing__(self, code: int) -> str:
        self[code] = unit = _unit(chr(code))
        return unit


_UNITS = _Units()


def units(text: str) -> str:
    """The units of a run of non-space characters, one character each."""
    return text.translate(_UNITS)


def grams(*texts: str | None) -> str:
    """The token stream of some texts (title; content and reply), as `proposal_fts_grams` indexes it."""
    tokens = []
    for text in texts:
        if not text:
            continue
        for run in text.split():
            unit_run = run.translate(_UNITS)
            tokens.append(" ".join(map(add, unit_run, unit_run[1:] + END)))
    return " ".join(tokens)


def match_expression(term: str) -> str:
    """The FTS5 query that `proposal_fts_grams` answers exactly as LIKE '%term%' does (whitespace
    inside a term stands for "one run ends, the next begins")."""
    runs = [run.translate(_UNITS) for run in term.split()]
    if not runs:
        raise ValueError("an empty term")
    parts: list[str] = []
    for unit_run in runs[:-1]:
        parts.extend(map(add, unit_run, unit_run[1:] + END))
    last = runs[-1]
    parts.extend(map(add, last, last[1:]))
    if len(last) == 1:  # a single character starts one token: a prefix query
        return '"' + " ".join([*parts, last]) + '" *'
    return '"' + " ".join(parts) + '"'


def register(dbapi_connection) -> None:
    """Give a sqlite3 connection the `proposals_grams(text, ...)` function the index triggers call."""
    dbapi_connection.create_function("proposals_grams", -1, grams, deterministic=True)
