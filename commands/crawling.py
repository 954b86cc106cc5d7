"""The main job: `proposals crawl`, and the site registry: `proposals sites list`."""

from __future__ import annotations

import json
import sys
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

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
                                       help="Override a crawler setting (DOWNLOAD_DELAY=0, LOG_LEVEL=INFO …)."),
    db: DbOption = None,
) -> None:
    """Crawl the proposal columns of sites into the archive, incrementally.

    Lists are walked until they reach archived records; records without a final reply or status
    are revalidated with conditional GETs. Blocked and challenge pages are reported and kept as
    captures, never archived as records. Exit 0 when all went well, 1 when a page failed or was
    blocked, 2 on bad usage. Ctrl-C stops cleanly and keeps what was archived.

    Example: proposals crawl zhoushan    or    proposals crawl --url http://127.0.0.1:8123/col/col1229511203/index.html
    """
    from crawler.sites import SitesError, choose

    try:
        chosen = choose(sites or [], all_sites=all_sites, urls=url or [], extra=sites_file)
    except SitesError as error:
        raise fail(str(error), 2) from None
    overrides = {"LOG_LEVEL": "WARNING"} | _overrides(settings)
    _crawl(chosen, overrides, db, full)


def _crawl(chosen: list, overrides: dict[str, str], db: str | None, full: bool) -> None:
    from archive.db import ArchiveError
    from crawler.runner import crawl_settings, open_state, run_crawl

    crawl_config = crawl_settings(overrides, db=db)
    try:
        state = open_state(chosen, crawl_config, full=full)
    except ArchiveError as error:
        raise fail(str(error), 1) from None
    from rich.live import Live

    with Live(get_renderable=lambda: _crawl_table(state), console=stderr, refresh_per_second=4,
              transient=False) if stderr.is_terminal else _nothing():
        result = run_crawl(state, crawl_config)
    counts = result.counts
    stderr.print(
        f"crawled {len(result.per_site)} site{'s' if len(result.per_site) != 1 else ''}: "
        f"{counts['listed']} listed, {counts['fetched']} fetched, {counts['not_modified']} not modified; "
        f"{counts['new']} new, {counts['changed']} changed, {counts['unchanged']} unchanged, "
        f"{counts['skipped']} skipped; "
        f"{counts['blocked']} blocked, {counts['failed']} failed"
        + ("" if result.finish_reason == "finished" else f" (stopped: {result.finish_reason})"), markup=False)
    if not result.ok:
        raise typer.Exit(1)


@contextmanager
def _nothing():
    yield


# (heading, count) of the live display
_LIVE_COLUMNS = (("listed", "listed"), ("fetched", "fetched"), ("304", "not_modified"), ("new", "new"),
                 ("changed", "changed"), ("unchanged", "unchanged"), ("skipped", "skipped"), ("blocked", "blocked"),
                 ("failed", "failed"))


def _crawl_table(state) -> Table:
    from rich.table import Table

    table = Table(box=None, pad_edge=False)
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
        rows = [{"slug": s.slug, "name": s.name, "platform": s.platform, "columns": list(s.columns)}
                for s in known.values()]
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


