"""Column discovery: from a site's home page (or its 政府信息公开 index) to its proposal columns.

`discover(["https://www.example.gov.cn/"])` follows the site's own navigation and returns, per
start URL, the columns that publish 人大代表建议 / 政协委员提案 handling records:

- navigation: the start page, then the links of the same host whose text speaks of disclosure or
  of proposals (公开, 目录, 建议, 提案 …) or whose folder is a disclosure folder (xxgk, zwgk …), and
  frames, best first, never an article, at most MAX_DEPTH links deep and a bounded number of pages;
- candidates: links whose text holds a proposal-column name (crawler/parsers/labels.py, the one
  table: 人大代表建议办理, 政协委员提案办理, 建议提案办理 …, widths and whitespace folded). A candidate
  on another host, one that names a 信箱 / 信访 / 征集 column, or a URL a family knows for one
  article (`Platform.is_article`) is dropped unfetched;
- verification: the candidate's page must be a column page a family of the platform seam detects
  and reads (`detect`, `read_column`), not an article (`ArticleTitle`), and its list (the first
  page the column carries, else list page 1 asked as the family builds it) must hold an entry;
- sub-columns: the candidate links a candidate's page adds to the navigation that led to it (a
  parent 建议提案办理 column and its 人大代表建议 / 政协委员提案 lists, or its lists named by year), and
  the links under one in a tree (`li` in `li`). A parent whose sub-columns are kept is dropped: its
  sub-columns are the lists. A column of one kind is never the parent of its peer.

It fetches through Scrapy with the crawler's own settings and middlewares (crawler/settings.py):
the same User-Agent, robots.txt obeyed (an unreachable one gives the host up), DOWNLOAD_DELAY and
AutoThrottle, retries with backoff, challenge pages recognised and never read, off-host redirects
never followed. Every page looked at and every verdict goes to `report` as it happens.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urldefrag, urljoin, urlsplit

import scrapy
from scrapy.http import Response
from selectolax.lexbor import LexborHTMLParser

from .failures import describe
from .parsers.labels import column_name, excluded_name, fold_name
from .parsers.text import kind_from_text
from .platforms import REGISTRY, NotAListPage, detect
from .sites import FoundSite, SiteConfig, on_hosts
from .spiders.proposals import XHR_HEADERS
from .state import Hosts

MAX_PAGES = 60           # pages looked at per site, navigation, candidates and their lists together
MAX_DEPTH = 4            # links followed from the start page
# the navigation worth following, and how much: the disclosure area, and what speaks of proposals
# without naming a column; the pages every disclosure area has that never hold columns are not
NAV_WORDS = {"建议": 3, "提案": 3, "议案": 3, "两会": 2, "主动公开": 2, "信息公开": 1, "政务公开": 1, "公开": 1,
             "目录": 1, "法定": 1, "其他": 1, "重点领域": 1}
NOT_NAV_WORDS = ("依申请", "公开指南", "公开制度", "公开年报", "年度报告", "申请表", "意见箱")
# a sub-column of a parent proposal column named only by its year: 2023年, 2022年度
_YEAR_RE = re.compile(r"^(?:19|20)[0-9]{2}年?度?$")
# and where it lives, by the folder names sites give it (政府信息公开: xxgk, zfxxgk, zwgk, gkml …)
NAV_PATH_RE = re.compile(r"(?:^|/)(?:[a-z]*xxgk[a-z]*|zwgk|gkml|fdzdgknr|jytabl?)(?:/|$|\.)", re.I)
# links that are never navigation: files, scripts, mail
_NOT_PAGES_RE = re.compile(r"\.(?:pdf|docx?|wps|xlsx?|ofd|zip|rar|jpe?g|png|gif|mp4|css|js)$", re.I)
_TITLE_SPLIT_RE = re.compile(r"\s*[-_|—–·]+\s*")
KEPT, DROPPED, PENDING = "kept", "dropped", "pending"
CANDIDATE_PRIORITY, NAV_PRIORITY = 20, 0
FRAME_SCORE = 3          # a page's frame is part of it: followed before its links


@dataclass
class Candidate:
    url: str
    text: str                    # the link text that named it
    found_on: str                # the page that linked it
    status: str = PENDING
    reason: str = "not judged: its page could not be read"
    platform: str | None = None
    parent: str | None = None    # the candidate whose page added it (a sub-column)


@dataclass
class Finding:
    """What discovery found for one start URL."""

    start_url: str
    name: str | None = None
    looked_at: list[str] = field(default_factory=list)
    candidates: dict[str, Candidate] = field(default_factory=dict)
    links: dict[str, set[str]] = field(default_factory=dict)   # page: the candidate links it holds
    scheduled: set[str] = field(default_factory=set)
    error: str | None = None     # the start page itself failed

    @property
    def netloc(self) -> str:
        return urlsplit(self.start_url).netloc.lower()

    @property
    def columns(self) -> list[Candidate]:
        return [c for c in self.candidates.values() if c.status == KEPT]

    @property
    def platform(self) -> str | None:
        """The family of the columns, where they share one (else the crawl detects it per column)."""
        names = {c.platform for c in self.columns}
        return names.pop() if len(names) == 1 else None

    @property
    def slug(self) -> str:
        return slug_for(self.start_url)

    def reason_for_none(self) -> str:
        if self.error:
            return self.error
        dropped = [c for c in self.candidates.values() if c.status != KEPT]
        if not dropped:
            return f"no link named a proposal column in the {len(self.looked_at)} pages looked at"
        return (f"none of {len(dropped)} candidate{'s' if len(dropped) != 1 else ''} is a proposal column "
                f"({len(self.looked_at)} pages looked at; -v says why)")


# --- pure helpers --------------------------------------------------------------------------------------


_GENERIC_LABELS = frozenset({"www", "gov", "cn", "com", "net", "org", "edu", "example", "test", "localhost"})


def slug_for(url: str) -> str:
    """A sites-file key for a site: its host's distinctive labels (`www.shengsi.gov.cn` -> `shengsi`)."""
    parts = urlsplit(url)
    host = (parts.hostname or "site").lower()
    if re.fullmatch(r"[0-9.]+|\[?[0-9a-f:]+\]?", host):
        labels = ["site", *re.split(r"[.:\[\]]+", host)]
    else:
        labels = [label for label in host.split(".") if label not in _GENERIC_LABELS] or [host.split(".")[0]]
    if parts.port and parts.port not in (80, 443):
        labels.append(str(parts.port))
    return re.sub(r"[^A-Za-z0-9_-]+", "-", "-".join(label for label in labels if label)).strip("-") or "site"


_GENERIC_TITLES = ("首页", "主页", "网站首页", "门户首页", "欢迎访问", "欢迎您")
_SITE_ENDINGS = ("人民政府", "政府", "局", "委员会", "委", "办公室", "办", "厅", "门户网站", "网站", "网")


def site_name(markup: str) -> str | None:
    """The site's own name: its SiteName meta, else the part of its <title> that names the site
    (`政府信息公开_海岛县人民政府` and `首页 - 海岛县人民政府` -> `海岛县人民政府`)."""
    tree = LexborHTMLParser(markup)
    meta = tree.css_first('meta[name="SiteName"]')
    if meta is not None and (meta.attributes.get("content") or "").strip():
        return meta.attributes["content"].strip()
    title = tree.css_first("title")
    text = " ".join(title.text().split()) if title is not None else ""
    parts = [part for part in _TITLE_SPLIT_RE.split(text) if part and part not in _GENERIC_TITLES]
    named = [part for part in parts if part.endswith(_SITE_ENDINGS)]
    return (named or parts or [None])[-1]


def page_links(markup: str, url: str) -> list[tuple[str, str, str | None]]:
    """(absolute URL without its fragment, link text or title, the URL of the link it sits under in a
    tree: the first link of an enclosing `li`) of every link of a page, in page order."""
    tree = LexborHTMLParser(markup)
    base = tree.css_first("base[href]")
    base_url = urljoin(url, base.attributes.get("href") or "") if base is not None else url

    def target(link) -> str | None:
        href = (link.attributes.get("href") or "").strip()
        if not href or href.startswith(("#", "javascript:", "mailto:", "tel:")):
            return None
        absolute = urldefrag(urljoin(base_url, href))[0]
        return absolute if urlsplit(absolute).scheme in ("http", "https") else None

    found, seen = [], set()
    for link in tree.css("a[href]"):
        absolute = target(link)
        if absolute is None:
            continue
        image = link.css_first("img[alt]")
        title = (link.attributes.get("title") or "").strip()
        text = (" ".join((link.text() or "").split()) or title
                or (image is not None and (image.attributes.get("alt") or "").strip()) or "")
        if title and column_name(title) and not column_name(text):  # 人大代表建...: the title says it whole
            text = title
        above, node = None, link.parent
        while node is not None and above is None:
            if node.tag == "li":
                first = node.css_first("a[href]")
                if first is not None and first.mem_id != link.mem_id:
                    above = target(first)
            node = node.parent
        if (absolute, text) not in seen:
            seen.add((absolute, text))
            found.append((absolute, text, above))
    return found


def frame_sources(markup: str, url: str) -> list[str]:
    """The pages a page shows in its frames (some disclosure indexes hold their column tree in one)."""
    tree = LexborHTMLParser(markup)
    sources = (urldefrag(urljoin(url, (frame.attributes.get("src") or "").strip()))[0]
               for frame in tree.css("iframe[src], frame[src]") if (frame.attributes.get("src") or "").strip())
    return [source for source in dict.fromkeys(sources) if urlsplit(source).scheme in ("http", "https")]


_INDEX_FILE_RE = re.compile(r"/(?:index|default)\.(?:s?html?|jsp|php|aspx?)$", re.I)


def column_key(url: str) -> str:
    """One key for the URLs of one page: a folder and its index file are one (`…/zxwyta/` and
    `…/zxwyta/index.shtml`), the host's case does not matter."""
    parts = urlsplit(url)
    path = _INDEX_FILE_RE.sub("/", parts.path) or "/"
    return parts._replace(netloc=parts.netloc.lower(), path=path).geturl()


def may_hold(parent: str, child: str) -> bool:
    """Can a column named `parent` hold one named `child`? A column of both (建议提案办理) holds either
    kind; a column of one kind holds only that kind (人大代表建议 -> 2023年人大代表建议), never its peer
    (人大代表建议办理 beside 政协委员提案办理 on a column's sidebar)."""
    kind = kind_from_text(parent)
    return kind is None or kind == kind_from_text(child)


def article_family(url: str) -> str | None:
    """The family that knows `url` for one article's page, or None."""
    return next((name for name, platform in REGISTRY.items() if platform.is_article(url)), None)


def nav_score(text: str, url: str, here: str = "") -> int:
    """How much a link looks like the way to proposal columns (0: not worth following). A disclosure
    folder in its path counts only on the way in (`here`, the page it is on, is outside one): inside
    the disclosure area every link has it."""
    folded = fold_name(text)
    if (excluded_name(text) or any(word in folded for word in NOT_NAV_WORDS)
            or _NOT_PAGES_RE.search(urlsplit(url).path) or article_family(url)):
        return 0
    way_in = bool(NAV_PATH_RE.search(urlsplit(url).path)) and not NAV_PATH_RE.search(urlsplit(here).path)
    return sum(weight for word, weight in NAV_WORDS.items() if word in folded) + way_in


# --- the spider --------------------------------------------------------------------------------------------


class DiscoverySpider(scrapy.Spider):
    """Walk each start URL's navigation and verify the proposal columns it names."""

    name = "discover"

    def __init__(self, findings: list[Finding], report: Callable[[str], None] = lambda line: None,
                 max_pages: int = MAX_PAGES, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.findings = {str(i): finding for i, finding in enumerate(findings)}
        self.report = report
        self.max_pages = max_pages
        # what the crawler's middlewares read: the sites' hosts (SiteGate), hosts given up (robots.txt)
        self.state = _GateState({key: SiteConfig(slug=key, name=key, columns=(f.start_url,), base_url=f.start_url)
                                 for key, f in self.findings.items()})

    async def start(self):
        for key, finding in self.findings.items():
            request = self._request(key, finding.start_url, self.parse_nav, depth=0)
            if request is not None:
                yield request

    def _request(self, key: str, url: str, callback, *, priority: int = NAV_PRIORITY, **kwargs: Any):
        finding = self.findings[key]
        if len(finding.scheduled) >= self.max_pages:
            return None
        finding.scheduled.add(column_key(url))
        return scrapy.Request(url, callback=callback, errback=self.failed, priority=priority, dont_filter=True,
                              meta={"site": key, "discover": True}, cb_kwargs=kwargs)

    # --- navigation ------------------------------------------------------------------------------

    def parse_nav(self, response: Response, depth: int) -> Iterable[scrapy.Request]:
        key = response.meta["site"]
        finding = self.findings[key]
        problem = self._problem(response)
        if problem:
            self.report(f"  {response.url}: not read: {problem}")
            if depth == 0:
                finding.error = f"the start page {response.url}: {problem}"
            return
        markup = response.text
        finding.looked_at.append(response.url)
        if depth == 0:
            finding.name = site_name(markup)
        self.report(f"looked at {response.url} (navigation, depth {depth})")
        links = page_links(markup, response.url)
        yield from self._candidates(key, response.url, links, parent=None)
        if depth >= MAX_DEPTH:
            return
        scored = [(FRAME_SCORE, -1, url) for url in frame_sources(markup, response.url)]
        scored += [(nav_score(text, url, response.url), index, url) for index, (url, text, _) in enumerate(links)
                   if not column_name(text)]
        ranked = sorted(((score, index, url) for score, index, url in scored
                         if column_key(url) not in finding.scheduled and on_hosts(url, (finding.netloc,))),
                        key=lambda item: (-item[0], item[1]))
        for score, _, url in ranked:
            if score <= 0:
                break
            request = self._request(key, url, self.parse_nav, priority=NAV_PRIORITY + score - depth, depth=depth + 1)
            if request is not None:
                yield request

    def _candidates(self, key: str, page: str, links: list[tuple[str, str, str | None]],
                    parent: Candidate | None) -> Iterable[scrapy.Request]:
        """The links of `page` that name proposal columns: dropped at once, or asked for. A link under
        another such link in a tree (`li` in `li`) is its sub-column; so is one the page of a candidate
        (`parent`) adds to the navigation that led to it."""
        finding = self.findings[key]
        named = [(url, text, above) for url, text, above in links
                 if column_name(text) or (parent is not None and _YEAR_RE.match(fold_name(text)))]
        names = {column_key(url) for url, _, _ in named}
        finding.links[column_key(page)] = names
        before = finding.links.get(column_key(parent.found_on), set()) if parent is not None else set()
        for url, text, above in named:
            if not column_name(text):  # a year under a parent: the parent's name says what it is
                text = f"{parent.text} {text}"
            key_of = column_key(url)
            if key_of in finding.candidates or (parent is not None and (key_of in before
                                                                        or key_of == column_key(parent.url))):
                continue
            texts = {column_key(u): t for u, t, _ in named}
            if above is not None and column_key(above) in names and column_key(above) != key_of:
                under = column_key(above) if may_hold(texts[column_key(above)], text) else None
            else:
                under = column_key(parent.url) if parent is not None and may_hold(parent.text, text) else None
            candidate = Candidate(url, text, page, parent=under)
            finding.candidates[key_of] = candidate
            why_not = self._unfetched_verdict(finding, candidate)
            if why_not:
                self._verdict(candidate, DROPPED, why_not)
                continue
            request = self._request(key, url, self.parse_candidate, priority=CANDIDATE_PRIORITY, candidate=candidate)
            if request is None:
                self.report(f"  candidate {url} ({text}): not looked at, the page budget ran out")
            else:
                self.report(f"  candidate {url} ({text}): asking for it")
                yield request

    def _unfetched_verdict(self, finding: Finding, candidate: Candidate) -> str | None:
        if not on_hosts(candidate.url, (finding.netloc,)):
            return f"on another host ({urlsplit(candidate.url).netloc}): not fetched"
        word = excluded_name(candidate.text)
        if word:
            return f"a {word} column, not proposals"
        family = article_family(candidate.url)
        if family:
            return "a single article (its URL is an article's), not a column"
        return None

    # --- verification ----------------------------------------------------------------------------

    def parse_candidate(self, response: Response, candidate: Candidate) -> Iterable[scrapy.Request]:
        key = response.meta["site"]
        finding = self.findings[key]
        problem = self._problem(response)
        if problem:
            self._verdict(candidate, DROPPED, problem)
            return
        finding.looked_at.append(response.url)
        self.report(f"looked at {response.url} (candidate {candidate.text})")
        markup = response.text
        # a parent column: the candidates its page adds to the navigation that led to it
        yield from self._candidates(key, candidate.url, page_links(markup, response.url), parent=candidate)
        if re.search(r"""<meta\s+[^>]*name\s*=\s*["']?ArticleTitle""", markup[:20000], re.I) or article_family(
                response.url):
            self._verdict(candidate, DROPPED, "a single article (it carries ArticleTitle), not a column")
            return
        platform = detect(markup, response.url)
        if platform is None:
            self._verdict(candidate, DROPPED, f"not a column page of a known platform ({', '.join(REGISTRY)})")
            return
        candidate.platform = platform.name
        try:
            column = platform.read_column(markup, response.url)
        except NotAListPage as error:
            self._verdict(candidate, DROPPED, f"{platform.name} page, but not a column: {error}")
            return
        word = excluded_name(column.name)
        if word:
            self._verdict(candidate, DROPPED, f"the column calls itself {column.name}: a {word} column")
            return
        if column.first is not None:
            self._judge_list(candidate, platform.name, len(platform.own_entries(column, column.first)),
                             "the column page")
            return
        wanted = platform.list_request(column, 1, self.settings.getint("PROPOSALS_PAGE_SIZE"))
        if wanted is None:
            self._verdict(candidate, DROPPED, f"{platform.name} column without a list page")
            return
        if len(finding.scheduled) >= self.max_pages:
            self._verdict(candidate, DROPPED, "its list was not looked at: the page budget ran out")
            return
        finding.scheduled.add(wanted.url)
        headers = {"Referer": response.url} | (XHR_HEADERS if wanted.xhr else {})
        options = dict(callback=self.parse_candidate_list, errback=self.failed, headers=headers, dont_filter=True,
                       priority=CANDIDATE_PRIORITY + 1, meta={"site": key, "discover": True, "list_page": True},
                       cb_kwargs={"candidate": candidate, "column": column})
        if wanted.form is None:
            yield scrapy.Request(wanted.url, **options)
        else:
            yield scrapy.FormRequest(wanted.url, formdata=dict(wanted.form), **options)

    def parse_candidate_list(self, response: Response, candidate: Candidate, column: Any) -> None:
        self.findings[response.meta["site"]].looked_at.append(response.url)
        problem = self._problem(response)
        if problem:
            self._verdict(candidate, DROPPED, f"its list page 1: {problem}")
            return
        platform = REGISTRY[candidate.platform]
        try:
            listing = platform.read_list(response.body, response.url, column)
        except NotAListPage as error:
            self._verdict(candidate, DROPPED, f"its list page 1 does not read: {error}")
            return
        self._judge_list(candidate, platform.name, len(platform.own_entries(column, listing)), "list page 1")

    def _judge_list(self, candidate: Candidate, platform: str, entries: int, where: str) -> None:
        if entries:
            self._verdict(candidate, KEPT, f"a {platform} column; {where} lists {entries} of its entr"
                                           f"{'ies' if entries != 1 else 'y'}")
        else:
            self._verdict(candidate, DROPPED, f"a {platform} column, but its list is empty")

    def _verdict(self, candidate: Candidate, status: str, reason: str) -> None:
        candidate.status, candidate.reason = status, reason
        self.report(f"  {status} {candidate.url} ({candidate.text}): {reason}")

    # --- failures --------------------------------------------------------------------------------

    def _problem(self, response: Response) -> str | None:
        if response.meta.get("blocked") or response.meta.get("failed"):
            return response.meta.get("blocked") or response.meta.get("failed")
        finding = self.findings[response.meta["site"]]
        if not on_hosts(response.url, (finding.netloc,)):
            return f"redirected to another host ({urlsplit(response.url).netloc})"
        if not isinstance(response, scrapy.http.TextResponse):
            return "not a web page"
        return None

    def failed(self, failure) -> None:
        request = failure.request
        reason = describe(failure.value)
        candidate = request.cb_kwargs.get("candidate")
        if candidate is not None:
            self._verdict(candidate, DROPPED, reason if request.url == candidate.url else f"its list page 1: {reason}")
            return
        self.report(f"  {request.url}: not read: {reason}")
        if request.cb_kwargs.get("depth") == 0:
            self.findings[request.meta["site"]].error = f"the start page {request.url}: {reason}"


@dataclass
class _GateSite:
    config: SiteConfig


class _GateState:
    """The part of a crawl's state the crawler's middlewares read: the sites' hosts and hosts given up."""

    def __init__(self, configs: dict[str, SiteConfig]) -> None:
        self.sites = {key: _GateSite(config) for key, config in configs.items()}
        self.hosts = Hosts()


def settle(finding: Finding, report: Callable[[str], None] = lambda line: None) -> Finding:
    """After the walk: a parent column whose sub-columns are kept is dropped (its sub-columns are the
    lists); a candidate never judged (its page failed to read) is dropped."""
    for candidate in finding.candidates.values():
        children = [c for c in finding.candidates.values()
                    if c.status == KEPT and c is not candidate
                    and (c.parent == column_key(candidate.url) or _code_parent(candidate.url, c.url))]
        if children:
            candidate.status = DROPPED
            candidate.reason = "a parent column: its sub-columns are kept (" + ", ".join(c.url for c in children) + ")"
            report(f"  dropped {candidate.url} ({candidate.text}): {candidate.reason}")
        elif candidate.status == PENDING:
            candidate.status = DROPPED
            report(f"  dropped {candidate.url} ({candidate.text}): {candidate.reason}")
    return finding


def _code_parent(parent: str, child: str) -> bool:
    """A 组配分类 code is a tree (W001 holds W001-001 and W001-002): one column's `?number=` is the
    parent of another's on the same host when the other's code extends it, however the navigation
    lists them (nested or flat)."""
    mine, theirs = urlsplit(parent), urlsplit(child)
    code, sub = parse_qs(mine.query).get("number", [""])[0], parse_qs(theirs.query).get("number", [""])[0]
    return bool(code and sub) and mine.netloc.lower() == theirs.netloc.lower() and sub.startswith(code + "-")


def discover_settings(overrides: dict[str, str] | None = None):
    """The crawler's settings (its politeness: User-Agent, robots.txt, delays, retries, blocks) with
    the caller's overrides, for a walk that archives nothing and logs nothing (it reports instead)."""
    from .runner import crawl_settings

    settings = crawl_settings({"LOG_ENABLED": "False"} | (overrides or {}))
    settings.set("ITEM_PIPELINES", {}, priority="cmdline")
    return settings


def discover(urls: list[str], settings, report: Callable[[str], None] = lambda line: None,
             max_pages: int = MAX_PAGES) -> list[Finding]:
    """Discover the proposal columns of each start URL (one Scrapy run for all; blocks until done)."""
    from scrapy.crawler import CrawlerProcess

    findings = [Finding(url) for url in urls]
    process = CrawlerProcess(settings)
    process.crawl(DiscoverySpider, findings=findings, report=report, max_pages=max_pages)
    process.start()
    for finding in findings:
        settle(finding, report)
        if finding.error is None and not finding.looked_at:
            finding.error = f"the start page {finding.start_url} was not read"
    return findings


def found_sites(findings: list[Finding]) -> tuple[dict[str, FoundSite], dict[str, str]]:
    """The sites-file tables of the findings that found columns, by slug (two start pages of one host
    are one table; two hosts with one slug get a suffix), and the first start URL of each."""
    found: dict[str, FoundSite] = {}
    hosts: dict[str, str] = {}   # slug: the host it names
    starts: dict[str, str] = {}  # slug: the first start URL that gave it
    for finding in findings:
        columns = tuple(c.url for c in finding.columns)
        if not columns:
            continue
        slug, suffix = finding.slug, 1
        while slug in hosts and hosts[slug] != finding.netloc:
            suffix += 1
            slug = f"{finding.slug}-{suffix}"
        hosts[slug] = finding.netloc
        starts.setdefault(slug, finding.start_url)
        before = found.get(slug)
        if before is None:
            found[slug] = FoundSite(slug, finding.name or finding.netloc, columns, finding.platform)
        else:
            platform = before.platform if before.platform == finding.platform else None
            found[slug] = FoundSite(slug, before.name, tuple(dict.fromkeys([*before.columns, *columns])), platform)
    return found, starts
