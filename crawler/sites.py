"""The site registry: a TOML file shipped with the package, plus the user's own (`--sites`, PROPOSALS_SITES).

    [sites.qiandao]
    name = "千岛县人民政府"
    columns = ["http://127.0.0.1:8123/col/col1229511203/index.html?number=W001-002"]
    platform = "hanweb-jpaas"   # optional: detected from the column page otherwise
    allowed_hosts = ["oss.qiandao.example"]   # optional: other hosts the site serves its pages from
    delay = 2.0                 # optional: seconds between requests to its hosts (else DOWNLOAD_DELAY)

A crawl fetches only from a site's own hosts (those of its columns and base_url) and the ones
`allowed_hosts` names (`host`, `host:port`, or `*.domain` for every host under a domain).
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from urllib.parse import urlsplit

from .platforms import PLATFORMS

ENV_VAR = "PROPOSALS_SITES"


class SitesError(ValueError):
    """A sites file that cannot be read or does not describe sites."""


@dataclass(frozen=True)
class SiteConfig:
    slug: str
    name: str
    columns: tuple[str, ...]
    base_url: str | None = None
    platform: str | None = None
    adhoc: bool = False  # from --url: belongs to whichever archived site has its host
    allowed_hosts: tuple[str, ...] = ()
    delay: float | None = None  # seconds between requests to the site's hosts (None: DOWNLOAD_DELAY)

    @property
    def origin(self) -> str:
        parts = urlsplit(self.base_url or self.columns[0])
        return f"{parts.scheme}://{parts.netloc}"

    @property
    def hosts(self) -> tuple[str, ...]:
        """The hosts the site's pages may come from: its columns', its base_url's, and those it names."""
        own = [urlsplit(url).netloc for url in (self.base_url, *self.columns) if url]
        return tuple(dict.fromkeys(host.lower() for host in (*own, *self.allowed_hosts) if host))

    def allows(self, url: str) -> bool:
        """Is `url` on one of the site's hosts?"""
        return on_hosts(url, self.hosts)


_DEFAULT_PORTS = {None, 80, 443}


def _split_host(netloc: str) -> tuple[str, int | None]:
    parts = urlsplit("//" + netloc.strip().lower())
    try:
        port = parts.port
    except ValueError:
        port = None
    return (parts.hostname or "").rstrip("."), None if port in _DEFAULT_PORTS else port


def on_hosts(url: str, hosts: tuple[str, ...]) -> bool:
    """Is `url` on one of `hosts` (`host`, `host:port`, `*.domain`)? A host named without a port is
    the host on its default ports, so that http:// and https:// of one host are one host."""
    parts = urlsplit(url)
    try:
        host, port = (parts.hostname or "").rstrip("."), parts.port
    except ValueError:
        return False
    port = None if port in _DEFAULT_PORTS else port
    for spec in hosts:
        wanted, wanted_port = _split_host(spec.removeprefix("*."))
        if wanted_port is not None and wanted_port != port:
            continue
        if wanted_port is None and port is not None:
            continue
        if host == wanted or (spec.startswith("*.") and host.endswith("." + wanted)):
            return True
    return False


def _parse(data: dict, source: str) -> dict[str, SiteConfig]:
    sites = data.get("sites")
    if not isinstance(sites, dict):
        raise SitesError(f"{source}: no [sites.<slug>] tables")
    parsed = {}
    for slug, entry in sites.items():
        if not isinstance(entry, dict):
            raise SitesError(f"{source}: sites.{slug} is not a table")
        columns = entry.get("columns")
        if not columns or not isinstance(columns, list) or not all(isinstance(c, str) and "://" in c for c in columns):
            raise SitesError(f"{source}: sites.{slug}.columns must be a list of absolute URLs")
        platform = entry.get("platform")
        if platform is not None and platform not in PLATFORMS:
            raise SitesError(f"{source}: sites.{slug}.platform must be one of {', '.join(PLATFORMS)}")
        hosts = entry.get("allowed_hosts", [])
        if not isinstance(hosts, list) or not all(isinstance(h, str) and h.strip() for h in hosts):
            raise SitesError(f"{source}: sites.{slug}.allowed_hosts must be a list of host names")
        delay = entry.get("delay")
        if delay is not None and (isinstance(delay, bool) or not isinstance(delay, int | float) or delay < 0):
            raise SitesError(f"{source}: sites.{slug}.delay must be a number of seconds (0 or more)")
        parsed[slug] = SiteConfig(slug=slug, name=str(entry.get("name") or slug), columns=tuple(columns),
                                  base_url=entry.get("base_url"), platform=platform,
                                  allowed_hosts=tuple(urlsplit(h).netloc if "://" in h else h.strip()
                                                      for h in hosts),
                                  delay=float(delay) if delay is not None else None)
    return parsed


def load_file(path: Path) -> dict[str, SiteConfig]:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SitesError(f"no such sites file: {path}") from None
    except (OSError, UnicodeDecodeError) as error:
        raise SitesError(f"cannot read the sites file {path}: {error}") from None
    except tomllib.TOMLDecodeError as error:
        raise SitesError(f"{path} is not valid TOML: {error}") from None
    return _parse(data, str(path))


def builtin_sites() -> dict[str, SiteConfig]:
    text = resources.files("crawler").joinpath("sites.toml").read_text(encoding="utf-8")
    return _parse(tomllib.loads(text), "crawler/sites.toml")


def registry(extra: Path | str | None = None) -> dict[str, SiteConfig]:
    """The shipped sites, then the user's file (`extra`, else PROPOSALS_SITES) over them."""
    sites = builtin_sites()
    path = extra or os.environ.get(ENV_VAR)
    if path:
        sites.update(load_file(Path(path)))
    return sites


def own_sites(extra: Path | str | None = None) -> dict[str, SiteConfig]:
    """The sites of the user's file (`extra`, else PROPOSALS_SITES), else the shipped ones."""
    path = extra or os.environ.get(ENV_VAR)
    return load_file(Path(path)) if path else builtin_sites()


def choose(slugs: Iterable[str] = (), *, all_sites: bool = False, urls: Iterable[str] = (),
           extra: Path | str | None = None) -> list[SiteConfig]:
    """The sites a crawl covers: the named ones, with `all_sites` every site of the user's file (the
    shipped registry when there is none), and a site for each column URL. Raises SitesError."""
    known = registry(extra)
    slugs = list(dict.fromkeys(slugs))
    unknown = [slug for slug in slugs if slug not in known]
    if unknown:
        raise SitesError(f"unknown site: {unknown[0]} (known: {', '.join(sorted(known)) or 'none'})")
    chosen = [known[slug] for slug in slugs]
    if all_sites:
        chosen += [site for site in own_sites(extra).values() if site not in chosen]
    for column in urls:
        if "://" not in column:
            raise SitesError(f"--url needs an absolute column URL, not {column}")
        chosen.append(adhoc_site(column))
    if not chosen:
        raise SitesError("nothing to crawl: name sites, or give --all or --url")
    return chosen


def adhoc_site(column_url: str, platform: str | None = None) -> SiteConfig:
    """A site for one column URL given on the command line (`--url`): named after its host."""
    parts = urlsplit(column_url)
    return SiteConfig(slug=parts.netloc.lower() or "local", name=parts.hostname or "local", columns=(column_url,),
                      base_url=f"{parts.scheme}://{parts.netloc}", platform=platform, adhoc=True)


# --- writing sites files (`proposals sites discover`) ----------------------------------------------------


@dataclass(frozen=True)
class FoundSite:
    """A site as discovery found it: what one `[sites.<slug>]` table says."""

    slug: str
    name: str
    columns: tuple[str, ...]
    platform: str | None = None


def _table(site: FoundSite):
    import tomlkit

    table = tomlkit.table()
    table.add("name", site.name)
    columns = tomlkit.array()
    columns.extend(site.columns)
    table.add("columns", columns.multiline(True))
    if site.platform:
        table.add("platform", site.platform)
    return table


def render(found: Iterable[FoundSite]) -> str:
    """The `[sites.<slug>]` tables of `found`, as a sites file holds them."""
    import tomlkit

    document = tomlkit.document()
    sites = tomlkit.table(is_super_table=True)
    for site in found:
        sites.add(site.slug, _table(site))
    document.add("sites", sites)
    return tomlkit.dumps(document)


def read_for_writing(path: Path):
    """The sites file at `path` as a tomlkit document that keeps its comments and layout (an empty
    one if there is no file). Raises SitesError for a file that is not a readable sites file."""
    import tomlkit
    from tomlkit.exceptions import TOMLKitError

    try:
        text = path.read_text(encoding="utf-8") if path.exists() else ""
        document = tomlkit.parse(text)
    except (OSError, UnicodeDecodeError) as error:
        raise SitesError(f"cannot read the sites file {path}: {error}") from None
    except TOMLKitError as error:
        raise SitesError(f"{path} is not valid TOML: {error}") from None
    if "sites" not in document and document.unwrap():
        raise SitesError(f"{path} is not a sites file: it has no [sites.<slug>] tables")
    if "sites" in document and not isinstance(document["sites"], dict):
        raise SitesError(f"{path}: `sites` is not a table")
    if "sites" in document:
        _parse(document.unwrap(), str(path))
    return document


def merge_into(path: Path, found: Iterable[FoundSite]) -> list[str]:
    """Merge `found` into the sites file at `path` (made if missing), keeping everything it holds:
    a site already there on the same host gains the columns it lacks (its name and settings stay);
    a slug taken by another host's site gets a suffix. Returns what was done, one line per site.
    Raises SitesError for a file that is not a readable sites file; writes atomically."""
    import tomlkit

    document = read_for_writing(path)
    if "sites" not in document:
        document.add("sites", tomlkit.table(is_super_table=True))
    sites = document["sites"]
    done = []
    for site in found:
        hosts = {urlsplit(url).netloc.lower() for url in site.columns}
        slug, existing = site.slug, sites.get(site.slug)
        suffix = 1
        while existing is not None and not (hosts & {urlsplit(str(url)).netloc.lower()
                                                     for url in existing.get("columns", [])}):
            suffix += 1
            slug, existing = f"{site.slug}-{suffix}", sites.get(f"{site.slug}-{suffix}")
        if existing is None:
            sites.add(slug, _table(site))
            done.append(f"added [sites.{slug}] with {len(site.columns)} column{'s' if len(site.columns) != 1 else ''}")
            continue
        columns = existing.get("columns")
        new = [url for url in site.columns if url not in list(columns)]
        if new:
            columns.extend(new)
            columns.multiline(True)
        done.append(f"[sites.{slug}] was there: {len(new)} new column{'s' if len(new) != 1 else ''} added")
    output = tomlkit.dumps(document)
    _parse(tomllib.loads(output), str(path))  # what is written is a sites file `crawl --sites` reads
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        temporary.write_text(output, encoding="utf-8")
        os.replace(temporary, path)
    except OSError as error:
        temporary.unlink(missing_ok=True)
        raise SitesError(f"cannot write the sites file {path}: {error.strerror or error}") from None
    return done
