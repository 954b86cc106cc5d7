"""`proposals demo`: a first run that works anywhere, offline."""

from __future__ import annotations

import tempfile
from pathlib import Path

import typer

from .common import fail, stderr

# The demo's sites keep their ports from run to run, so that a second demo is an incremental crawl
# of the same sites (what a second night is), not a crawl of three new ones.
DEMO_PORT = 48701
# Loopback only: the demo's own replica answers at once, so waiting between requests shows nothing.
# The shipped polite defaults stay in force for every real crawl.
LOOPBACK = {"DOWNLOAD_DELAY": "0", "AUTOTHROTTLE_ENABLED": "False", "CONCURRENT_REQUESTS_PER_DOMAIN": "4",
            "DOWNLOAD_TIMEOUT": "10"}
TRY = ("proposals query 养老 --db {db}",
       "proposals stats --by published_year --db {db}",
       "proposals query --site qingxi --adoption A --format json --db {db}")


def demo_command(
    db: str = typer.Option("demo.db", "--db", help="The demo's archive (a SQLite file; never PROPOSALS_DB, "
                                                           "so that the demo stays out of your archive)."),
    port: int = typer.Option(DEMO_PORT, "--port", min=1024, max=65530,
                             help="The first of the three loopback ports the demo sites are served on."),
) -> None:
    """Crawl a bundled demo of three fictional counties into ./demo.db, offline.

    The demo sites (one per platform family: Hanweb JPaaS, Hanweb jpage, TRS WCM letter pages) are
    served on 127.0.0.1 for the length of the crawl, and the real crawler crawls them through the
    platforms' own list protocols, with the live display. Run it again and the second crawl is
    incremental, as a second night is. Open the result with `datasette demo.db` or the queries
    printed at the end.

    Example: proposals demo
    """
    from replica import demo

    from .crawling import _crawl

    if "://" in str(db):
        raise fail("the demo writes a SQLite file: give --db a file path", 2)
    with tempfile.TemporaryDirectory(prefix="proposals-demo-") as folder:
        try:
            served = demo.serve(Path(folder), port=port)
            replicas = served.__enter__()
        except OSError as error:
            raise fail(f"cannot serve the demo on 127.0.0.1:{port}-{port + 2} ({error.strerror or error}); "
                       "try --port", 1) from None
        try:
            from crawler.sites import SitesError, choose

            sites_file = Path(folder) / "demo-sites.toml"
            sites_file.write_text(demo.sites_toml(replicas), encoding="utf-8")
            stderr.print(f"serving the demo sites on 127.0.0.1:{port}-{port + len(replicas) - 1}: "
                         + ", ".join(f"{slug} ({r.site['name']}, {r.platform})" for slug, r in replicas.items()),
                         markup=False)
            try:
                chosen = choose(all_sites=True, extra=sites_file)
            except SitesError as error:  # pragma: no cover - the bundled file is ours
                raise fail(str(error), 1) from None
            _crawl(chosen, dict(LOOPBACK), db, full=False)
        finally:
            served.__exit__(None, None, None)
    stderr.print("\ntry:\n" + "\n".join("  " + line.format(db=db) for line in TRY)
                 + f"\n  datasette {db}", markup=False)
