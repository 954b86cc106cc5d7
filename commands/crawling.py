"""The main job: `proposals crawl`, and the site registry: `proposals sites list`, `proposals sites discover`."""

from __future__ import annotations

import json
import sys
import time
from collections import Counter
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated
from urllib.parse import urlsplit

import typer

from .common import DbOption, RecordFormat, fail, stderr, stdout

if TYPE_CHECKING:
    from rich.table import Table

SitesOption = Annotated[Path | None, typer.Option(
    "--sites", envvar="PROPOSALS_SITES", show_envvar=True,
    help="Your own sites file (TOML), merged over the shipped registry.")]


def _registry(sites_file: Path | None) -> dict:
    from crawler.sites import SitesError, registry

    try:
        return registry(sites_file)
    except SitesError as error:
        raise fail(str(error), 2) from None


def _overrides(values: list[str] | None) -> dict[str, str]:
    overrides = {}
    for value in values or []:
        name, sep, setting = value.partition("=")
        if not sep or not name.strip():
            raise fail(f"--set takes NAME=VALUE, not {value}", 2)
        overrides[name.strip()] = setting.strip()
    return overrides


def crawl_command(
    sites: list[str] = typer.Argument(None, help="Slugs of registered sites (see `proposals sites list`)."),
    all_sites: bool = typer.Option(False, "--all", help="Every site of your sites file if you give one, "
                                                        "else every shipped site."),
    sites_file: SitesOption = None,
    url: list[str] = typer.Option(None, "--url", help="A column URL to crawl (repeatable), registered or not."),
    full: bool = typer.Option(False, "--full", help="Walk every list and refetch every page."),
    settings: list[str] = typer.Option(None, "--set", metavar="NAME=VALUE",
                                       help="Override a crawler setting (DOWNLOAD_DELAY=0, LOG_LEVEL=DEBUG …)."),
    log: Path | None = typer.Option(None, "--log", metavar="FILE",
                                    help="Where Scrapy's log goes (appended). Default: beside the archive, "
                                         "proposals.db -> proposals.crawl.log."),
    no_attachments: bool = typer.Option(False, "--no-attachments",
                                        help="Do not fetch the records' attached files (reply letters as PDF, "
                                             "DOCX, DOC, WPS)."),
    redis: str | None = typer.Option(None, "--redis", metavar="URL", envvar="PROPOSALS_REDIS_URL", show_envvar=True,
                                     help="Share the crawl with other workers through this Redis "
                                          "(redis://host:6379/0); with no sites named, join the crawl seeded there."),
    seed: bool = typer.Option(False, "--seed", help="With --redis: queue the sites' columns for the workers, "
                                                    "crawl nothing."),
    status: bool = typer.Option(False, "--status", help="With --redis: show the shared crawl's frontier "
                                                        "(queued, in flight, done per site) and the workers."),
    db: DbOption = None,
) -> None:
    """Crawl the proposal columns of sites into the archive, incrementally.

    Lists are walked until they reach records archived by a complete walk; archived records are
    revalidated with conditional GETs (unfinished ones every crawl, the others a slice each
    crawl). Blocked and challenge pages are reported and kept as captures, never archived as
    records. The records' attached files (reply letters as PDF, DOCX, DOC, WPS) are fetched too,
    conditionally, and read: where a page gives no reply letter, the attached one is the reply
    (--no-attachments: not fetched). The summary names each failing host and why; the whole
    story is in the log. Exit 0 when all went well, 1 when a page failed or was blocked (a file
    that could not be fetched or read is reported, and fails nothing), 2 on bad usage. Ctrl-C stops
    cleanly and keeps what was archived; a crawl killed outright is finished by the next one.

    With --redis URL, any number of workers on any machines share one crawl (scrapy-redis's
    queue and duplicate filter in that Redis) into one archive (--db postgresql://…): the first
    worker naming a site queues its columns, workers naming none join, each stops when the
    shared queue has stayed empty for PROPOSALS_REDIS_IDLE seconds; per-host delay and
    concurrency hold for all workers together; a worker that dies has its requests crawled by
    the others.

    Example: proposals crawl zhoushan    or    proposals crawl --url http://127.0.0.1:8123/col/col1229511203/index.html
    """
    from crawler.sites import SitesError, choose

    overrides = _overrides(settings)
    if (seed or status) and not redis:
        raise fail(f"{'--seed' if seed else '--status'} needs --redis URL (or PROPOSALS_REDIS_URL)", 2)
    if status:
        _status(redis, overrides)
        return
    try:
        joining = bool(redis) and not (sites or all_sites or url) and not seed
        chosen = [] if joining else choose(sites or [], all_sites=all_sites, urls=url or [], extra=sites_file)
    except SitesError as error:
        raise fail(str(error), 2) from None
    overrides = overrides | ({"PROPOSALS_ATTACHMENTS": "False"} if no_attachments else {})
    _crawl(chosen, overrides, db, full, log, redis=redis, seed=seed)


def _frontier(url: str, overrides: dict[str, str]):
    from crawler.runner import crawl_settings
    from crawler.shared import Frontier

    config = crawl_settings(overrides)
    try:
        frontier = Frontier(url, config.get("PROPOSALS_REDIS_KEY"),
                            heartbeat=config.getfloat("PROPOSALS_REDIS_HEARTBEAT"))
    except ValueError as error:
        raise fail(f"--redis: {error}", 2) from None
    try:
        frontier.ping()
    except Exception as error:
        from archive.db import first_line

        raise fail(f"cannot reach Redis at {url}: {first_line(error)}", 1) from None
    return frontier, config


def _status(url: str, overrides: dict[str, str]) -> None:
    frontier, _ = _frontier(url, overrides)
    status = frontier.status()
    if not status["workers"] and not status["sites"]:
        sys.stdout.write(f"no crawl under {status['key']} in {url}\n")
        return
    sys.stdout.write(f"crawl {status['key']} in {url}: {len(status['workers'])} workers\n")
    for worker in status["workers"]:
        said = "" if worker["alive"] else " (silent: its requests go back on the queue)"
        sys.stdout.write(f"  {worker['worker']}: {worker['in_flight']} in flight{said}\n")
    sys.stdout.write(f"{'site':24s}{'queued':>8s}{'in flight':>11s}{'done':>8s}\n")
    totals = {"queued": 0, "in_flight": 0, "done": 0}
    for row in status["sites"]:
        sys.stdout.write(f"{row['site']:24s}{row['queued']:8d}{row['in_flight']:11d}{row['done']:8d}\n")
        for name in totals:
            totals[name] += row[name]
    sys.stdout.write(f"{'all':24s}{totals['queued']:8d}{totals['in_flight']:11d}{totals['done']:8d}\n")



def _crawl(chosen: list, overrides: dict[str, str], db: str | None, full: bool, log: Path | None = None, *,
           files=None, pages: bool = True, redis: str | None = None, seed: bool = False) -> object:
    """Run a crawl with the live display and its summary; exit 1 if a page failed (or, when only
    files are fetched, a file could not be fetched). `redis`: this worker's part of a shared crawl
    (`seed`: only queue the sites for the workers)."""
    from archive.db import ArchiveError
    from crawler.runner import (
        crawl_settings,
        default_log,
        join_shared,
        open_state,
        run_crawl,
        seed_shared,
        shared_sites,
    )

    try:
        log = log or default_log(db)
    except ArchiveError as error:
        raise fail(str(error), 2) from None
    crawl_config = crawl_settings({"LOG_FILE": str(log), "LOG_FILE_APPEND": "True"} | overrides, db=db)
    try:
        log.parent.mkdir(parents=True, exist_ok=True)
        log.open("a", encoding="utf-8").close()
    except OSError as error:
        raise fail(f"cannot write the crawl's log {log}: {error.strerror or error}", 2) from None
    frontier = None
    if redis:
        from crawler.shared import redis_settings

        frontier, _ = _frontier(redis, overrides)
        crawl_config.setdict(redis_settings(redis, frontier.key), priority="cmdline")
        chosen = shared_sites(frontier, chosen, crawl_config.getfloat("PROPOSALS_REDIS_IDLE"))
        if not chosen:
            raise fail(f"nothing to crawl: no crawl is seeded under {frontier.key} in {redis}; "
                       "name sites (or --all, --url) to seed one", 1)
    try:
        state = open_state(chosen, crawl_config, full=full, files=files, runs=not seed)
        state.pages = pages
    except ArchiveError as error:
        raise fail(str(error), 1) from None
    except ValueError as error:  # a setting the crawl cannot read (PROPOSALS_NOW …)
        raise fail(f"bad setting: {error}", 2) from None
    if frontier is not None:
        shared = join_shared(state, frontier, crawl_config.getfloat("PROPOSALS_REDIS_IDLE"))
        if seed:
            queued = seed_shared(state, crawl_config)
            stderr.print(f"seeded {len(shared.seed_slugs)} of {len(state.sites)} sites ({queued} requests) "
                         f"into {frontier.key} in {redis}", markup=False)
            return
    from rich.live import Live

    started = time.monotonic()
    with Live(get_renderable=lambda: _crawl_table(state, time.monotonic() - started), console=stderr,
              refresh_per_second=4, transient=False) if stderr.is_terminal else _nothing():
        result = run_crawl(state, crawl_config)
    _summary(result, state, log, pages=pages)
    unfetched = sum(result.counts[f"files_{name}"] for name in ("failed", "blocked", "too_large"))
    if not result.ok or (not pages and unfetched):
        raise typer.Exit(1)
    return result


def _summary(result, state, log: Path, *, pages: bool = True) -> None:
    counts = result.counts
    offsite = f"; {counts['offsite']} on other hosts, not fetched" if counts["offsite"] else ""
    if pages:
        _pages_summary(result, counts, offsite)
    files = {name: counts[f"files_{name}"] for name in FILES}
    if any(files.values()) or not pages:
        stderr.print(
            f"attachments: {files['fetched']} fetched, {files['not_modified']} not modified, "
            f"{files['read']} read, {files['not_read']} not read; {files['too_large']} over the size limit, "
            f"{files['blocked']} blocked, {files['failed']} failed; {files['replies']} replies read from them",
            markup=False)
        for host, causes in sorted(state.file_problems().items()):
            said = "; ".join(f"{n} × {cause}" for cause, n in causes.most_common())
            stderr.print(f"  {host}: {said}", markup=False)
    if state.interrupted:
        stderr.print(f"  (finished the work of {state.interrupted} interrupted crawl"
                     f"{'s' if state.interrupted != 1 else ''})", markup=False)
    pages_done = sum(counts[name] for name in PAGES)
    stderr.print(f"took {_elapsed(result.seconds)}, {_rate(pages_done, result.seconds)}; log: {log}", markup=False)
    shared = state.shared
    if shared is not None:
        crawl: Counter = Counter()
        for site_counts in shared.crawl_counts.values():
            crawl.update(site_counts)
        stderr.print(f"shared crawl {shared.frontier.key}: this worker ({shared.worker}) is one of "
                     f"{shared.finished_workers} finished so far; together: {crawl['listed']} listed, "
                     f"{crawl['fetched']} fetched, {crawl['not_modified']} not modified; {crawl['new']} new, "
                     f"{crawl['changed']} changed, {crawl['unchanged']} unchanged, {crawl['skipped']} skipped; "
                     f"{crawl['blocked']} blocked, {crawl['failed']} failed", markup=False)


FILES = ("fetched", "not_modified", "read", "not_read", "too_large", "blocked", "failed", "replies")


def _pages_summary(result, counts, offsite: str) -> None:
    stderr.print(
        f"crawled {len(result.per_site)} site{'s' if len(result.per_site) != 1 else ''}: "
        f"{counts['listed']} listed, {counts['fetched']} fetched, {counts['not_modified']} not modified; "
        f"{counts['new']} new, {counts['changed']} changed, {counts['unchanged']} unchanged, "
        f"{counts['skipped']} skipped; "
        f"{counts['blocked']} blocked, {counts['failed']} failed{offsite}"
        + ("" if result.finish_reason == "finished" else f" (stopped: {result.finish_reason})"), markup=False)
    for host, causes in sorted(result.problems.items()):
        said = "; ".join(f"{n} × {cause}" for cause, n in causes.most_common())
        stderr.print(f"  {host}: {said}", markup=False)


def _elapsed(seconds: float) -> str:
    minutes, secs = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}"


def _rate(pages: int, seconds: float) -> str:
    return f"{pages} pages, {pages / seconds * 60:.0f} a minute" if seconds > 0 else f"{pages} pages"


@contextmanager
def _nothing():
    yield


# (heading, count) of the live display
_LIVE_COLUMNS = (("listed", "listed"), ("fetched", "fetched"), ("304", "not_modified"), ("new", "new"),
                 ("changed", "changed"), ("unchanged", "unchanged"), ("skipped", "skipped"), ("blocked", "blocked"),
                 ("failed", "failed"))
PAGES = ("fetched", "not_modified", "skipped", "blocked", "failed")  # answers counted as pages (rate)


def _crawl_table(state, seconds: float) -> Table:
    from rich.table import Table

    totals = state.totals()
    pages = sum(totals[name] for name in PAGES)
    table = Table(box=None, pad_edge=False, caption=f"{_elapsed(seconds)} elapsed · {_rate(pages, seconds)}",
                  caption_justify="left")
    table.add_column("site")
    for heading, _ in _LIVE_COLUMNS:
        table.add_column(heading, justify="right")
    with state.lock:
        for slug, site in state.sites.items():
            table.add_row(slug, *(str(site.counts[key]) for _, key in _LIVE_COLUMNS))
    return table


sites_app = typer.Typer(help="The site registry.", no_args_is_help=True)


@sites_app.command("list")
def sites_list(
    sites_file: SitesOption = None,
    output: RecordFormat = typer.Option(RecordFormat.table, "--format", "-f", help="table or json."),
) -> None:
    """Show the registered sites and their columns (the shipped registry plus yours).

    Example: proposals sites list --sites my-sites.toml
    """
    known = _registry(sites_file)
    if output is RecordFormat.json:
        rows = [{"slug": s.slug, "name": s.name, "platform": s.platform, "columns": list(s.columns),
                 "allowed_hosts": list(s.allowed_hosts)} for s in known.values()]
        sys.stdout.write(json.dumps(rows, ensure_ascii=False, indent=2) + "\n")
        return
    if stdout.is_terminal:
        from rich.table import Table

        table = Table("slug", "name", "platform", "columns")
        for site in known.values():
            table.add_row(site.slug, site.name, site.platform or "detected", "\n".join(site.columns))
        stdout.print(table)
    else:
        for site in known.values():
            for column in site.columns:
                sys.stdout.write(f"{site.slug}\t{site.name}\t{site.platform or 'detected'}\t{column}\n")


class DiscoverFormat(StrEnum):
    toml = "toml"
    json = "json"


@sites_app.command("discover")
def sites_discover(
    urls: list[str] = typer.Argument(..., metavar="URL...", help="A site's home page or its 政府信息公开 index."),
    write: Path | None = typer.Option(None, "--write", metavar="FILE",
                                      help="Merge what is found into this sites file (made if missing), "
                                           "keeping everything it holds."),
    output: DiscoverFormat = typer.Option(DiscoverFormat.toml, "--format", "-f", help="toml or json."),
    verbose: bool = typer.Option(False, "--verbose", "-v",
                                 help="Say on stderr what was looked at and why each candidate was kept or dropped."),
    max_pages: int = typer.Option(60, "--max-pages", min=1, help="Pages looked at per site, at most."),
    settings: list[str] = typer.Option(None, "--set", metavar="NAME=VALUE",
                                       help="Override a crawler setting (DOWNLOAD_DELAY=0 …)."),
) -> None:
    """Find a site's proposal columns from its home page, ready for `proposals crawl --sites FILE`.

    Follows the site's own navigation (same host, robots.txt obeyed, the crawler's polite delay, at
    most --max-pages pages), keeps the links named like proposal columns (人大代表建议办理,
    政协委员提案办理, 建议提案办理 …) whose page is a column of a known platform with at least one
    entry in its list, and prints a [sites.<slug>] block for each site. Exit 0 when every site gave
    columns, 1 when one gave none (the reason on stderr), 2 on bad usage.

    Example: proposals sites discover https://www.example.gov.cn/ --write my-sites.toml
    """
    from crawler.discover import discover, discover_settings, found_sites
    from crawler.sites import SitesError, merge_into, read_for_writing, render

    for url in urls:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise fail(f"discover needs an absolute http(s) URL, not {url}", 2)
    if write is not None:
        if write.exists() and not write.is_file():
            raise fail(f"--write needs a file, not {write}", 2)
        try:
            read_for_writing(write)  # a file that cannot take the result is bad usage, found out before the walk
        except SitesError as error:
            raise fail(str(error), 2) from None
    crawl_config = discover_settings(_overrides(settings))

    stderr.print(f"discovering the proposal columns of {len(urls)} site{'s' if len(urls) != 1 else ''} "
                 f"(at most {max_pages} pages each)…", markup=False)
    with _discovery_progress(verbose) as report:
        findings = discover(list(dict.fromkeys(urls)), crawl_config, report=report, max_pages=max_pages)
    for finding in findings:
        if finding.columns:
            stderr.print(f"{finding.start_url}: {len(finding.columns)} proposal column"
                         f"{'s' if len(finding.columns) != 1 else ''} ({len(finding.looked_at)} pages looked at)",
                         markup=False)
        else:
            stderr.print(f"error: {finding.start_url}: no proposal column found: {finding.reason_for_none()}",
                         markup=False, style="red")
    found, starts = found_sites(findings)
    if output is DiscoverFormat.json:
        rows = [{"slug": site.slug, "name": site.name, "platform": site.platform, "columns": list(site.columns),
                 "start_url": starts[site.slug]} for site in found.values()]
        sys.stdout.write(json.dumps(rows, ensure_ascii=False, indent=2) + "\n")
    elif found:
        sys.stdout.write(render(found.values()))
    if write is not None and found:
        try:
            for line in merge_into(write, found.values()):
                stderr.print(f"{write}: {line}", markup=False)
        except SitesError as error:
            raise fail(str(error), 2) from None
    if any(not finding.columns for finding in findings):
        raise typer.Exit(1)


@contextmanager
def _discovery_progress(verbose: bool):
    """Where discovery's reports go: every line on stderr with -v; else, on a terminal, one status line
    counting the pages looked at (nothing when stderr is a file: the summary says it)."""
    if verbose:
        yield lambda line: stderr.print(line, markup=False)
        return
    if not stderr.is_terminal:
        yield lambda line: None
        return
    pages = 0
    with stderr.status("discovering…") as status:
        def report(line: str) -> None:
            nonlocal pages
            if line.startswith("looked at "):
                pages += 1
                status.update(f"{pages} pages looked at; {line.removeprefix('looked at ')}")

        yield report
