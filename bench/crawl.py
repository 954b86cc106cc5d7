"""Crawl throughput and memory against a bare Scrapy spider fetching the same pages in the same run.

    python bench/crawl.py [--records 2000 500] [--rounds 2]

A loopback replica of a JPaaS site (copies of the haidao fixture pages, one column of N records)
serves both crawlers, politeness off (no delay, no AutoThrottle, no robots.txt, 16 concurrent
requests). The floor is a bare Scrapy spider that walks the same column page, list pages and detail
pages and parses each detail page with selectolax, writing nothing. The measured crawler is
`proposals crawl` into a fresh SQLite archive. Each runs in a child process of its own and reports
its pages per minute (detail pages) and its peak memory (max RSS). Running at two sizes shows
whether memory stays flat as the records grow. Targets: within 2x of the bare spider; flat memory.

    python bench/crawl.py --workers [--sites 24] [--per-site 9] [--latency 0.25] [--delay 0.25]

One worker against three of `proposals crawl --redis` (crawler/shared.py) over a fleet of slow
replica sites (a port each, every answer `latency` late, each site's `delay` in its sites file,
AutoThrottle, robots.txt and 2 requests per host as shipped) into a fresh PostgreSQL database,
through the Redis on 127.0.0.1: wall time, pages a minute, and the most requests any host was
answering at once (the replicas' own timing).
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

POLITENESS_OFF = {"DOWNLOAD_DELAY": 0, "AUTOTHROTTLE_ENABLED": False, "ROBOTSTXT_OBEY": False,
                  "CONCURRENT_REQUESTS": 16, "CONCURRENT_REQUESTS_PER_DOMAIN": 16, "LOG_LEVEL": "ERROR",
                  "TELNETCONSOLE_ENABLED": False, "REMOTE_CONTROL_ENABLED": False}


def synthetic_replica(records: int):
    """One JPaaS column of `records` copies of the haidao pages, each under its own path."""
    from replica import Replica

    fixtures = ROOT / "tests" / "fixtures" / "haidao"
    site = json.loads((fixtures / "site.json").read_text(encoding="utf-8"))
    originals = [(r, (fixtures / "pages" / r["path"].lstrip("/")).read_bytes())
                 for column in site["columns"] for r in column["records"]]
    listed, pages = [], {}
    for index in range(records):
        record, body = originals[index % len(originals)]
        path = f"/art/2023/1/1/art_9999_{index}.html"
        listed.append({"path": path, "title": f"{record['title']}（{index}）", "date": record["date"]})
        pages[path] = body
    columns = [c["column_id"] for c in site["columns"]]
    return Replica(fixtures, records={columns[0]: listed, columns[1]: []}, pages=pages)


# --- the children -----------------------------------------------------------------------------------


def child_bare(column_url: str) -> dict:
    import scrapy
    from scrapy.crawler import CrawlerProcess
    from selectolax.lexbor import LexborHTMLParser

    from crawler.platforms.hanweb_jpaas import read_column as jpaas_column
    from crawler.platforms.hanweb_jpaas import read_list as jpaas_list

    counted = {"pages": 0}

    class BareSpider(scrapy.Spider):
        name = "bare"

        async def start(self):
            yield scrapy.Request(column_url, callback=self.parse_column)

        def parse_column(self, response):
            self.column = jpaas_column(response.text, response.url)
            yield self.list_page(1)

        def list_page(self, page_no):
            from urllib.parse import quote, urlencode

            params = urlencode(self.column.list_params(page_no, 15), quote_via=quote)
            return scrapy.Request(f"{self.column.unit_url}?{params}", callback=self.parse_list,
                                  cb_kwargs={"page_no": page_no}, priority=10)

        def parse_list(self, response, page_no):
            listing = jpaas_list(response.body, response.url)
            for entry in listing.entries:
                yield scrapy.Request(entry.url, callback=self.parse_detail)
            if listing.entries and page_no < (listing.last_page or 0):
                yield self.list_page(page_no + 1)

        def parse_detail(self, response):
            title = LexborHTMLParser(response.body).css_first("title")
            counted["pages"] += 1
            yield {"title": title.text() if title is not None else None}

    process = CrawlerProcess(POLITENESS_OFF)
    start = time.perf_counter()
    process.crawl(BareSpider)
    process.start()
    return {"pages": counted["pages"], "seconds": time.perf_counter() - start}


def child_ours(column_url: str, db: str) -> dict:
    from archive.db import make_engine, upgrade
    from crawler.runner import crawl_settings, open_state, run_crawl
    from crawler.sites import SiteConfig

    upgrade(make_engine(f"sqlite:///{db}"))
    settings = crawl_settings({k: str(v) for k, v in POLITENESS_OFF.items()}, db=db)
    state = open_state([SiteConfig("bench", "bench", (column_url,))], settings, full=False)
    start = time.perf_counter()
    result = run_crawl(state, settings)
    return {"pages": result.counts["fetched"], "seconds": time.perf_counter() - start,
            "new": result.counts["new"], "failed": result.counts["failed"] + result.counts["blocked"]}


def run_child(kind: str, column_url: str, directory: Path) -> dict:
    db = directory / f"bench-{time.monotonic_ns()}.db"
    result = subprocess.run([sys.executable, __file__, "--child", kind, "--column", column_url, "--db", str(db)],
                            capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise SystemExit(f"{kind} crawler failed:\n{result.stderr[-2000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def bench_workers(sites: int, per_site: int, latency: float, delay: float) -> int:
    """1 worker, then 3, over the same fleet, each into a fresh PostgreSQL database."""
    from conftest import fresh_postgres_database
    from fleet import Workers, fleet, redis_key, stop
    from sqlalchemy import func, select

    from archive.db import make_engine, upgrade
    from archive.models import Proposal
    from crawler.shared import Frontier

    redis_url = "redis://127.0.0.1:6379/0"
    replicas = fleet(sites, per_site, latency)
    rows = []
    try:
        for workers in (1, 3):
            for replica in replicas.values():
                replica.clear_log()
                replica._spans.clear()
            key = redis_key()
            with fresh_postgres_database() as db, tempfile.TemporaryDirectory(prefix="bench-shared-") as tmp:
                engine = make_engine(db)
                upgrade(engine)
                crew = Workers(Path(tmp), replicas, redis_url, db, key, delay=delay)
                started = time.monotonic()
                processes = [crew.start(*replicas) for _ in range(workers)]
                for process in processes:
                    _, err = process.communicate(timeout=600)
                    if process.returncode != 0:
                        raise SystemExit(f"a worker failed:\n{err[-2000:]}")
                seconds = time.monotonic() - started
                with engine.connect() as connection:
                    archived = connection.scalar(select(func.count(Proposal.id)))
                engine.dispose()
                Frontier(redis_url, key).clear()
            pages = sum(len(r.requests()) for r in replicas.values())
            most = max(r.max_concurrency() for r in replicas.values())
            rows.append((workers, seconds, pages, archived, most))
    finally:
        stop(replicas)
    print(f"shared crawl of {sites} sites x {per_site} records (answers {latency} s late, {delay} s delay per site, "
          "AutoThrottle and 2 requests per host as shipped), into PostgreSQL")
    print(f"{'workers':>8s}{'seconds':>9s}{'pages/min':>11s}{'archived':>10s}{'most at once per host':>23s}")
    for workers, seconds, pages, archived, most in rows:
        print(f"{workers:>8d}{seconds:9.1f}{pages / seconds * 60:11.0f}{archived:10d}{most:23d}")
    print(f"3 workers: {rows[0][1] / rows[1][1]:.2f}x as fast as 1")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, nargs="+", default=[2000, 500])
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--child", choices=["bare", "ours"])
    parser.add_argument("--column")
    parser.add_argument("--db")
    parser.add_argument("--workers", action="store_true", help="1 vs 3 workers of a shared crawl (Redis, PostgreSQL)")
    parser.add_argument("--sites", type=int, default=24)
    parser.add_argument("--per-site", type=int, default=9)
    parser.add_argument("--latency", type=float, default=0.25)
    parser.add_argument("--delay", type=float, default=0.25)
    args = parser.parse_args(argv)
    if args.workers:
        return bench_workers(args.sites, args.per_site, args.latency, args.delay)
    if args.child:
        report = child_bare(args.column) if args.child == "bare" else child_ours(args.column, args.db)
        report["max_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(json.dumps(report))
        return 0

    rows = []
    with tempfile.TemporaryDirectory(prefix="bench-crawl-") as tmp:
        for count in args.records:
            with synthetic_replica(count) as replica:
                column = replica.column_urls[0]
                runs = {"bare": [], "ours": []}
                for _ in range(args.rounds):  # alternate, so that both meet the machine in the same state
                    for kind in ("bare", "ours"):
                        report = run_child(kind, column, Path(tmp))
                        if report["pages"] != count:
                            raise SystemExit(f"{kind} fetched {report['pages']} pages of {count}")
                        runs[kind].append(report)
            for kind, reports in runs.items():
                best = min(reports, key=lambda r: r["seconds"])
                rows.append((count, kind, count / best["seconds"] * 60, best["seconds"],
                             statistics.median(r["max_rss_mb"] for r in reports)))
    print(f"crawl of a JPaaS replica, politeness off, best of {args.rounds} rounds each")
    print(f"{'records':>8s}  {'crawler':28s}{'pages/min':>11s}{'seconds':>9s}{'peak RSS MB':>13s}")
    names = {"bare": "bare Scrapy spider (floor)", "ours": "proposals crawl"}
    for count, kind, per_minute, seconds, rss in rows:
        print(f"{count:>8d}  {names[kind]:28s}{per_minute:11.0f}{seconds:9.1f}{rss:13.1f}")
    for count in args.records:
        bare = next(r for r in rows if r[0] == count and r[1] == "bare")
        ours = next(r for r in rows if r[0] == count and r[1] == "ours")
        print(f"ratio at {count} records: {bare[2] / ours[2]:.2f}x slower than the floor (target <= 2x)")
    if len(args.records) > 1:
        small, large = min(args.records), max(args.records)
        rss = {r[0]: r[4] for r in rows if r[1] == "ours"}
        print(f"peak memory, proposals crawl: {rss[small]:.0f} MB at {small} records, {rss[large]:.0f} MB at "
              f"{large} records ({rss[large] / rss[small]:.2f}x for {large / small:.0f}x the records)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
