"""Parse cost on distinct pages, cold, against the bare selectolax parse of the same bytes.

    python bench/parse.py [--variants 40] [--rounds 5] [--seed 1]

The floor is `LexborHTMLParser(body)`: building the DOM from the page bytes, nothing more. The
measured path is `parse_detail(body, url)`: decoding, the limits, building the DOM and extracting
every field of the record.

Cold, on distinct pages: every fixture page (label pages of the replica sites and layouts; letter
pages) is turned into `--variants` distinct pages by replacing each CJK character of its text that
the parser never looks for (names, units, the proposal and the letter; not labels, keywords, dates
or numbers) by another, so that every page is new text that takes the same paths through the
parser; and every cache in crawler.parsers is cleared before each page. The two sides are
interleaved page by page (their order alternating), with the garbage collector paused while
timing, on the CPU time of the thread (wall time on a shared machine mostly measures the others).
Label pages and letter pages are reported separately; the ratio is full/bare per kind, the median
over rounds and the best round. The target is a ratio of at most 3.
"""

from __future__ import annotations

import argparse
import functools
import gc
import json
import random
import re
import statistics
import sys
import time
from pathlib import Path

from selectolax.lexbor import LexborHTMLParser

import crawler.parsers as parsers
from crawler.parsers import NotAProposalPage, parse_detail

HERE = Path(__file__).resolve().parent
FIXTURES = HERE.parent / "tests" / "fixtures"
_CJK_RE = re.compile(r"[\u4e00-\u9fa5]")


def load_pages(root: Path = FIXTURES) -> list[tuple[bytes, str]]:
    """The replica sites' detail pages as (bytes, URL) (bench/ingest.py builds its records from them)."""
    sites = [p for p in root.iterdir() if (p / "site.json").is_file()]
    return [(body, url) for kind, body, url, _codec in fixture_pages(root)
            if kind == "label" and any(url.startswith(json.loads((s / "site.json").read_text())["base_url"])
                                       for s in sites)]


def fixture_pages(root: Path = FIXTURES) -> list[tuple[str, bytes, str, str]]:
    """(kind, bytes, URL, codec) for every fixture page: "label" pages of the sites and layouts, "letter" pages."""
    pages = []
    for site in sorted(p for p in root.iterdir() if (p / "site.json").is_file()):
        info = json.loads((site / "site.json").read_text(encoding="utf-8"))
        for path in sorted((site / "expected").rglob("*.json")):
            rel = path.relative_to(site / "expected").as_posix()[: -len(".json")]
            pages.append(("label", (site / "pages" / rel).read_bytes(), f"{info['base_url']}/{rel}", info["encoding"]))
    for path in sorted((root / "layouts").glob("*.html")):
        pages.append(("label", path.read_bytes(), f"http://www.layouts.example/{path.name}", "utf-8"))
    letters = root / "letters"
    for path in sorted((letters / "expected").rglob("*.json")):
        rel = path.relative_to(letters / "expected").as_posix()[: -len(".json")]
        url = json.loads(path.read_text(encoding="utf-8"))["url"]
        codec = "gb18030" if b"charset=gb2312" in (letters / "pages" / rel).read_bytes()[:1024] else "utf-8"
        pages.append(("letter", (letters / "pages" / rel).read_bytes(), url, codec))
    return pages


def parser_vocabulary() -> set[str]:
    """Every CJK character the parser's own source mentions: labels, keywords, patterns."""
    text = "".join(path.read_text(encoding="utf-8") for path in Path(parsers.__file__).parent.glob("*.py"))
    return set(_CJK_RE.findall(text)) | set("年月日〇一二三四五六七八九十")


def variants(body: bytes, codec: str, count: int, rng: random.Random, keep: set[str]) -> list[bytes]:
    """`count` distinct pages from one: CJK text outside the parser's vocabulary replaced."""
    head_end = body.find(b"<body")
    head, rest = body[:head_end], body[head_end:]
    text = rest.decode(codec)
    pool = [chr(c) for c in range(0x4E00, 0x9FA6) if chr(c) not in keep]
    out = []
    for _ in range(count):
        mapping: dict[str, str] = {}

        def swap(match: re.Match[str], mapping=mapping) -> str:
            char = match.group(0)
            if char in keep:
                return char
            if char not in mapping:
                mapping[char] = rng.choice(pool)
            return mapping[char]

        out.append(head + _CJK_RE.sub(swap, text).encode(codec))
    return out


def clear_caches() -> None:
    for module in list(sys.modules.values()):
        if module is None or not getattr(module, "__name__", "").startswith("crawler.parsers"):
            continue
        for value in vars(module).values():
            if isinstance(value, functools._lru_cache_wrapper):
                value.cache_clear()


def shape(body: bytes, url: str) -> tuple | str:
    """Which keys a page's record fills (to check that a variant takes the same paths)."""
    try:
        record = parse_detail(body, url).to_dict()
    except NotAProposalPage as error:
        return error.reason
    return tuple(key for key, value in record.items() if value not in (None, [], {}, ""))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--variants", type=int, default=40, help="distinct pages made from each fixture page")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    rng = random.Random(args.seed)
    keep = parser_vocabulary()
    pages: dict[str, list[tuple[bytes, str]]] = {"label": [], "letter": []}
    drift = 0
    for kind, body, url, codec in fixture_pages():
        want = shape(body, url)
        for variant in variants(body, codec, args.variants, rng, keep):
            drift += shape(variant, url) != want
            pages[kind].append((variant, url))
    distinct = len({body for group in pages.values() for body, _ in group})

    def bare(body: bytes, _url: str) -> None:
        LexborHTMLParser(body)

    def full(body: bytes, url: str) -> None:
        parse_detail(body, url)

    # CPU time of this thread: on a machine shared with other work, wall time mostly measures the others
    clock = time.thread_time_ns
    results: dict[str, list[tuple[float, float]]] = {kind: [] for kind in pages}
    for round_ in range(args.rounds):
        for kind, group in pages.items():
            order = group[:]
            rng.shuffle(order)
            spent = {bare: 0, full: 0}
            gc.collect()
            gc.disable()
            try:
                for index, (body, url) in enumerate(order):
                    clear_caches()
                    sides = (bare, full) if (index + round_) % 2 == 0 else (full, bare)
                    for side in sides:
                        start = clock()
                        side(body, url)
                        spent[side] += clock() - start
            finally:
                gc.enable()
            results[kind].append((spent[bare] / len(order) / 1e3, spent[full] / len(order) / 1e3))

    print(f"pages: {distinct} distinct pages ({args.variants} variants of each fixture page), cold caches, "
          f"{args.rounds} rounds, sides interleaved page by page")
    if drift:
        print(f"note: {drift} variants fill other keys than their fixture page")
    print(f"{'':14s}{'pages':>7s}{'bare us/page':>14s}{'full us/page':>14s}{'ratio':>9s}{'best':>8s}")
    for kind, rounds in results.items():
        ratios = [full_us / bare_us for bare_us, full_us in rounds]
        bare_us = statistics.median(b for b, _ in rounds)
        full_us = statistics.median(f for _, f in rounds)
        print(f"{kind + ' pages':14s}{len(pages[kind]):7d}{bare_us:14.1f}{full_us:14.1f}"
              f"{statistics.median(ratios):8.2f}x{min(ratios):7.2f}x")
    print("target: ratio <= 3x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
