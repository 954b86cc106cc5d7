"""Parse throughput over the fixture pages, against the bare selectolax parse of the same bytes.

    python bench/parse.py [--rounds 15] [--repeat 20] [--pages DIR]

The floor is `LexborHTMLParser(body)`: building the DOM from the page bytes, nothing more. The
measured path is `parse_detail(body, url)`: decoding, building the DOM and extracting every field
of the record. Rounds of both alternate and the best round of each is kept, so that a burst of
load on the machine touches both sides alike. The target is a ratio of at most 3.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

from selectolax.lexbor import LexborHTMLParser

from crawler.parsers import parse_detail

HERE = Path(__file__).resolve().parent
DEFAULT_PAGES = HERE.parent / "tests" / "fixtures"


def load_pages(root: Path) -> list[tuple[bytes, str]]:
    pages = []
    for site in sorted(p for p in root.iterdir() if (p / "pages").is_dir()):
        for path in sorted((site / "pages").rglob("*.html")):
            url = f"https://{site.name}.example/" + path.relative_to(site / "pages").as_posix()
            pages.append((path.read_bytes(), url))
    return pages


def timed(fn, pages: list[tuple[bytes, str]], repeat: int) -> float:
    start = time.perf_counter()
    for _ in range(repeat):
        for body, url in pages:
            fn(body, url)
    return time.perf_counter() - start


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--pages", type=Path, default=DEFAULT_PAGES)
    args = parser.parse_args(argv)
    pages = load_pages(args.pages)
    if not pages:
        print(f"no pages under {args.pages}", file=sys.stderr)
        return 1

    def bare(body: bytes, _url: str) -> None:
        LexborHTMLParser(body)

    def full(body: bytes, url: str) -> None:
        parse_detail(body, url)

    for fn in (bare, full):  # warm caches and allocators
        timed(fn, pages, 40)
    bare_times, full_times = [], []
    for _ in range(args.rounds):
        bare_times.append(timed(bare, pages, args.repeat))
        full_times.append(timed(full, pages, args.repeat))
    n = len(pages) * args.repeat
    bare_best, full_best = min(bare_times), min(full_times)
    print(f"pages: {len(pages)} fixture pages x {args.repeat} per round, best of {args.rounds} rounds")
    print(f"{'':28s}{'pages/s':>10s}{'us/page':>10s}{'median us':>11s}")
    for name, best, times in (("bare selectolax parse", bare_best, bare_times),
                              ("parse_detail (full)", full_best, full_times)):
        print(f"{name:28s}{n / best:10.0f}{best / n * 1e6:10.1f}{statistics.median(times) / n * 1e6:11.1f}")
    print(f"ratio full/bare: {full_best / bare_best:.2f}x (target <= 3x)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
