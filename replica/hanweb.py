"""A loopback replica of a fixture site, speaking the platforms' real list protocols.

    with Replica(FIXTURES / "haidao") as site:
        site.column_urls        # ["http://127.0.0.1:PORT/col/col1229395011/index.html?number=W001-002", …]

It serves what `<site>/examples/README.md` documents, byte for byte where a capture exists:

- hanweb-jpaas: the column pages; `GET /api-gateway/jpaas-publish-server/front/page/build/unit`,
  a gateway that answers `{"success":false,"message":"参数错误"}` unless the request is the one
  unitbuild.js builds (webId, pageId, tagId, tplSetId of the column, parseType=bulidstatic,
  pageType=column, no Python-repr values; paging only through `paramJson`, its pageSize
  honoured; a 组配分类 list's `search` naming its xxgkId and nodeId); a page past the end
  answering an empty list with the true count;
- hanweb-jpage: the column page with the first group embedded; `POST /module/jpage/dataproxy.jsp`
  with `startrecord/endrecord/perpage` answering `<datastore>` XML (UTF-8), stopping on totalrecord;
- detail pages as stored, with ETag and Last-Modified, answering conditional GETs with 304;
- `/robots.txt`; a session cookie on column pages, as real sites set.

A `Variant` makes a site the crawler has never seen, from the research notes on the platforms
(shared/research/site_structure.md §2.1, §2.3) rather than from the captured column pages: where
queryData stops (no parseType/pageType), where the nodeId and the 组配分类 code are printed,
which element carries the pager's numbers, what a page past the end answers, the list markup,
the jpage proxy path, group sizes and look-ahead records.

The site's own origin (https://www.haidao.example) is rewritten to the replica's in everything
served. Faults can be injected per path (500s, a 412 Ruishu challenge, a 521 JiaSuLe challenge, a
200 "访问过于频繁" page, a truncated body, a slow answer, a redirect, broken list answers), pages
can be changed between crawls, and every request is logged.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, urlencode

from replica.server import BLOCKS, ROBOTS, Fault, Logged, LoopbackSite, SiteHandler

UNIT_PATH = "/api-gateway/jpaas-publish-server/front/page/build/unit"
DATAPROXY_PATH = "/module/jpage/dataproxy.jsp"
JSON_TYPE = "application/json;charset=UTF-8"
REFUSED = b'{"success":false,"code":"400","message":"\xe5\x8f\x82\xe6\x95\xb0\xe9\x94\x99\xe8\xaf\xaf","data":null}'


@dataclass
class Column:
    column_id: str
    name: str
    kind: str | None
    code: str | None
    page_size: int
    records: list[dict]        # path, title, date: newest first
    tag_id: str | None = None
    tpl_set_id: str | None = None
    unit_id: str | None = None


@dataclass(frozen=True)
class Variant:
    """How a never-seen site of a family differs from its fixture."""

    # JPaaS column page: "full" queryData (every key), "bare" (webId, pageId, tagId, tplSetId only),
    # "numbers" (bare, webId and pageId written as numbers)
    query_data: str = "bare"
    node_id: str = "tree"        # where the nodeId is: tree (div.xxgkParams), query (queryData.xxgkParams), script
    code: str = "url"            # where the 组配分类 code is: url (?number=), query (queryData.xxgkParams), tree
    sidebar: bool = True         # another unitbuild.js unit (a news list of another column) before the list
    # JPaaS list answers
    pager: str = "ajax-page"     # count/rows/pageNo/pageCount on: ajax-page, page-content, count-only, json, none
    past_end: str = "empty"      # a page past the end: "empty" (the true count), "repeat" (the last page again)
    list_markup: str = "ajax-ul"  # ajax-ul, page-content (Zhoushan), bt-left (zj.gov.cn departments), table
    count_bias: int = 0          # the pager states this many records more than the list holds
    # jpage
    proxy: str = DATAPROXY_PATH  # or /module/web/jpage/dataproxy.jsp
    per_page: int = 3
    group_size: int = 2
    total_in_call: bool = True   # the jpage call states totalRecord (else only <totalrecord> does)
    lookahead: bool = False      # groups after the first start with the previous group's last record (nhsa)
    record_markup: str = "table"  # table (one small table per record) or li (Yuhang: <li><a><span/><i>date</i></a>)


class Replica(LoopbackSite):
    """One Hanweb fixture site (JPaaS or jpage) on a loopback address of its own."""

    def __init__(self, site_dir: Path, *, port: int = 0, records: dict[str, list[dict]] | None = None,
                 pages: dict[str, bytes] | None = None, variant: Variant | None = None,
                 host: str = "127.0.0.1") -> None:
        super().__init__(site_dir, port=port, host=host, pages=pages)
        self.variant = variant
        self.columns = [Column(str(c["column_id"]), c["name"], c.get("kind"), c.get("combination_code"),
                               int(variant.per_page if variant and self.platform == "hanweb-jpage"
                                   else c.get("page_size") or 15),
                               list((records or {}).get(str(c["column_id"]), c["records"])),
                               c.get("tag_id"), c.get("tpl_set_id"), c.get("unit_id"))
                        for c in self.site["columns"]]
        self.node_id = self.site.get("node_id") or self._captured_node_id()

    def _captured_node_id(self) -> str | None:
        for page in sorted((self.dir / "examples").glob("col-*-index.html")):
            found = re.search(rb'nodeid="([^"]+)"', page.read_bytes())
            if found:
                return found.group(1).decode()
        return None

    # --- what tests read and change -------------------------------------------------------------

    @property
    def column_urls(self) -> list[str]:
        urls = []
        for column in self.columns:
            url = f"{self.base_url}/col/col{column.column_id}/index.html"
            in_url = self.variant is None or self.variant.code == "url"
            urls.append(url + (f"?number={column.code}" if column.code and in_url else ""))
        return urls

    # --- serving ---------------------------------------------------------------------------------

    def column_for(self, column_id: str | None = None, code: str | None = None) -> Column | None:
        for column in self.columns:
            if (column_id and column.column_id == column_id) or (code and column.code == code):
                return column
        return None

    def column_page(self, column_id: str) -> bytes | None:
        """A column page: the captured one, or the variant's (generated from the research notes)."""
        column = self.column_for(column_id=column_id)
        if self.variant is not None and column is not None:
            build = _jpaas_column_page if self.platform == "hanweb-jpaas" else _jpage_column_page
            return build(self, column, self.variant).encode("utf-8")
        captured = self.dir / "examples" / f"col-{column_id}-index.html"
        return captured.read_bytes() if captured.exists() else None

    def refusal(self, column: Column, query: dict[str, list[str]]) -> bool:
        """Would the real gateway refuse this request? (what unitbuild.js sends is what it accepts)"""
        value = {key: (values or [""])[0] for key, values in query.items()}
        if any("{'" in v or "': " in v for v in value.values()):  # a Python repr forwarded as a value
            return True
        wanted = {"webId": self.site.get("web_id"), "pageId": column.column_id, "tagId": column.tag_id,
                  "tplSetId": column.tpl_set_id, "parseType": "bulidstatic", "pageType": "column"}
        if any(expected is not None and value.get(key) != str(expected) for key, expected in wanted.items()):
            return True
        try:
            param = json.loads(value.get("paramJson") or "{}")
            search = json.loads(param.get("search") or "{}") if column.code else {}
        except (ValueError, TypeError, AttributeError):
            return True
        if not isinstance(param, dict) or not isinstance(search, dict):
            return True
        return bool(column.code) and (search.get("xxgkId") != column.code or search.get("nodeId") != self.node_id)

    def jpaas_list(self, column: Column, page_no: int, page_size: int, query_data: str) -> bytes:
        variant = self.variant
        captured = self.dir / "examples" / f"api-{column.column_id}-p{page_no}.json"
        if variant is None and page_size == column.page_size and captured.exists():
            return captured.read_bytes()  # the captured answer, byte for byte
        count = len(column.records)
        pages = max(1, math.ceil(count / page_size))
        if variant is not None and variant.past_end == "repeat" and page_no > pages:
            page_no = pages  # some servers answer the last page for any page past the end
        records = column.records[(page_no - 1) * page_size: page_no * page_size]
        markup = variant.list_markup if variant else "ajax-ul"
        items = [_list_item(markup, r["path"] if r["path"].startswith("http") else
                            self.origin + r["path"] if i % 2 == 0 else r["path"], r["title"], r["date"])
                 for i, r in enumerate(records)]
        stated = count + (variant.count_bias if variant else 0)
        numbers = {"count": stated, "rows": page_size, "pageNo": page_no, "pageCount": math.ceil(stated / page_size)}
        pager = variant.pager if variant else "ajax-page"
        attrs = "".join(f' {k}="{v}"' for k, v in numbers.items()
                        if pager in ("ajax-page", "page-content") or (pager == "count-only" and k in ("count", "rows")))
        body = "".join(items)
        listing = {"ajax-ul": f'<ul class="ajax-ul">\n{body}</ul>\n',
                   "page-content": f"<ul>\n{body}</ul>\n",
                   "bt-left": f'<ul class="bt-list">\n{body}</ul>\n',
                   "table": f'<table class="xxgk-table">\n{body}</table>\n'}[markup]
        if pager == "page-content":
            listing = f'<div class="page-content"{attrs}>\n{listing}</div>\n'
        elif pager in ("ajax-page", "count-only"):
            listing += (f'<div class="ajax-page" id="page_{column.tag_id or "list"}"{attrs} unitUrl="{UNIT_PATH}" '
                        f'queryData="{query_data}"></div>\n')
        fragment = f'<div class="xxgk-list-con">\n<label class="label-className">{column.name}</label>\n{listing}</div>'
        data: dict = {"html": fragment}
        if pager == "json":
            data |= {"total": stated, "pageNo": page_no, "pageSize": page_size}
        payload = {"success": True, "code": "200", "data": data}
        return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")

    def jpage_group(self, column: Column, start: int, end: int, per_page: int) -> bytes:
        variant = self.variant
        first = start - 1 if variant is not None and variant.lookahead and start > 1 else start
        records = column.records[first - 1: end]
        params = self._jpage_params(column)
        total = len(column.records)
        next_page = end // per_page + 1
        nextgroup = (f'<a href="./dataproxy.jsp?page={next_page}&appid={params.get("appid", "1")}'
                     f'&webid={params.get("webid", "")}&path=/&columnid={column.column_id}'
                     f'&unitid={params.get("unitid", "")}&webname={params.get("webname", "")}&permissiontype=0"></a>')
        body = ['<?xml version="1.0" encoding="UTF-8"?>', "<datastore>", f"<totalrecord>{total}</totalrecord>",
                f"<totalpage>{math.ceil(total / per_page)}</totalpage>",
                f"<nextgroup><![CDATA[{nextgroup}]]></nextgroup>",
                "<recordset>"]
        markup = variant.record_markup if variant else "table"
        body += [_jpage_record(markup, self.origin + r["path"], r["title"], r["date"]) for r in records]
        if not records:
            body.append("")
        body += ["</recordset>", "</datastore>"]
        return ("\n".join(body) + "\n").encode("utf-8")

    def _jpage_params(self, column: Column) -> dict[str, str]:
        if self.variant is not None:
            return _jpage_param_values(self, column)
        page = (self.dir / "examples" / f"col-{column.column_id}-index.html").read_bytes().decode("gb18030")
        match = re.search(r"var\s+param_\w+\s*=\s*\{(.*?)\}", page, re.S)
        return dict(re.findall(r"(\w+)\s*:\s*'?([^,']*)'?", match.group(1))) if match else {}

    @property
    def proxy_path(self) -> str:
        return self.variant.proxy if self.variant is not None else DATAPROXY_PATH


# --- variant pages ---------------------------------------------------------------------------------


def _list_item(markup: str, href: str, title: str, date: str) -> str:
    shown = title if len(title) <= 30 else title[:29] + "..."
    if markup == "bt-left":
        return (f'<li class="clearfix"><a class="bt-left" href="{href}" title="{title}" target="_blank">{shown}</a>'
                f'<span class="bt-right">{date}</span></li>\n')
    if markup == "table":
        return f'<tr><td class="title"><a href="{href}" title="{title}">{shown}</a></td><td>{date}</td></tr>\n'
    css = ' class="cf border-line"' if markup == "ajax-ul" else ""
    return (f'<li{css}><a class="fl" href="{href}" title="{title}" target="_blank">{shown}</a>'
            f'<span class="fr">{date}</span></li>\n')


def _jpage_record(markup: str, href: str, title: str, date: str) -> str:
    shown = title if len(title) <= 24 else title[:23] + "..."
    if markup == "li":
        return (f'<record><![CDATA[<li><a href="{href}" target="_blank" title="{title}"><span>{shown}</span>'
                f"<i>{date}</i></a></li>]]></record>")
    return ("<record><![CDATA[\n"
            '<table width="100%" border="0" cellspacing="0" cellpadding="0" class="list_table"><tr>'
            '<td width="15" class="list_dot"><img src="/images/gc_dot.gif" width="4" height="4" /></td>'
            f'<td class="list_title"><a href="{href}" title="{title}" target="_blank">{shown}</a></td>'
            f'<td width="90" class="list_date">[{date}]</td></tr></table>\n]]></record>')


def _single_quoted(data: dict) -> str:
    """queryData as the pages print it: JSON with single quotes."""
    return json.dumps(data, ensure_ascii=False, separators=(",", ":")).replace('"', "'")


def _jpaas_column_page(replica: Replica, column: Column, variant: Variant) -> str:
    site = replica.site
    web_id = site["web_id"]
    query: dict = {"webId": int(web_id) if variant.query_data == "numbers" else web_id,
                   "pageId": int(column.column_id) if variant.query_data == "numbers" else column.column_id,
                   "tagId": column.tag_id, "tplSetId": column.tpl_set_id}
    if variant.query_data == "full":
        query |= {"pageType": "column", "parseType": "bulidstatic", "editType": "null", "unitType": "ajax-xxgk"}
    nested = {}
    if variant.code == "query" and column.code:
        nested["xxgkId"] = column.code
    if variant.node_id == "query":
        nested["nodeId"] = replica.node_id
    if nested:
        query["xxgkParams"] = nested | {"xxgkType": "xxgk_combination"}
    tree_links = []
    for other in replica.columns:
        number = f"?number={other.code}" if other.code and variant.code != "query" else ""
        on = ' class="on"' if other is column and variant.code == "tree" else ""
        tree_links.append(f'<li{on}><a href="/col/col{other.column_id}/index.html{number}">{other.name}</a></li>')
    params = (f'<div class="xxgkParams" unitid="{column.tag_id}" webid="{web_id}" nodeid="{replica.node_id}" '
              'style="display:none;"></div>' if variant.node_id == "tree" else "")
    script = (f"<script>var xxgkConfig = {{webId: '{web_id}', nodeId: '{replica.node_id}'}};</script>"
              if variant.node_id == "script" else "")
    news = _single_quoted({"webId": web_id, "pageId": "1229000001", "tagId": "新闻列表", "tplSetId": "n1"})
    sidebar = ('<script type="text/javascript" src="/AuthorizedRead/unitbuild.js" id="authorizedReadUnit1" '
               f'url="{UNIT_PATH}" queryData="{news}"></script>' if variant.sidebar else "")
    unit = ('<script type="text/javascript" language="javascript" src="/AuthorizedRead/unitbuild.js" '
            f'id="authorizedReadUnit2" url="{UNIT_PATH}" queryData="{_single_quoted(query)}"></script>')
    return f"""<!DOCTYPE html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>{column.name}-{site['name']}</title>
<meta name="SiteName" content="{site['name']}"><meta name="ColumnName" content="{column.name}">
<meta name="WebId" content="{web_id}"><meta name="i_columnid" content="{column.column_id}">
{script}</head>
<body>
<div class="header"><a href="/">首页</a></div>
<div class="main">
<div class="left"><div class="xxgk-tree" id="tree-ajax-combination">{params}
<ul class="tree-list">{''.join(tree_links)}</ul></div>
<div class="news">{sidebar}</div></div>
<div class="right"><div id="{column.tag_id}" class="xxgk-list">
{unit}
</div></div>
</div>
<div class="footer">版权所有 {site['name']}</div>
</body></html>
"""


def _jpage_param_values(replica: Replica, column: Column) -> dict[str, str]:
    site = replica.site
    return {"col": "1", "appid": "1", "webid": site["web_id"], "path": "/", "columnid": column.column_id,
            "sourceContentType": "1", "unitid": column.unit_id or "1", "webname": site["web_name"],
            "permissiontype": "0"}


def _jpage_column_page(replica: Replica, column: Column, variant: Variant) -> str:
    params = _jpage_param_values(replica, column)
    unit = params["unitid"]
    group = variant.per_page * variant.group_size
    first = [_jpage_record(variant.record_markup, r["path"], r["title"], r["date"]) for r in column.records[:group]]
    param_js = ",".join(f"{k}:{v}" if v.isdigit() else f"{k}:'{v}'" for k, v in params.items())
    total = f"totalRecord:{len(column.records)}," if variant.total_in_call else ""
    next_group = (f"{variant.proxy}?page={variant.group_size + 1}&appid=1&webid={params['webid']}&path=/"
                  f"&columnid={column.column_id}&unitid={unit}&permissiontype=0")
    call = (f"dataStore:$('#{unit} script[type=\"text/xml\"]').html(),proxyUrl:'{variant.proxy}',"
            f"ajaxParam:param_{unit},perPage:{variant.per_page},groupSize:{variant.group_size},{total}"
            f"openCookies:false,cookieName:'jpage_{unit}',showMode:'full',themeName:'default',barPosition:'bottom'")
    return f"""<html><head><meta http-equiv="Content-Type" content="text/html; charset=utf-8" />
<title>{column.name}</title><meta name="ColumnName" content="{column.name}" /></head>
<body><table width="1000" align="center"><tr><td class="bt_content">
<div id="{unit}"><script type="text/xml"><datastore>
<nextgroup><![CDATA[<a href="{next_group}"></a>]]></nextgroup>
<recordset>
{chr(10).join(first)}
</recordset>
</datastore></script></div>
<script language="javascript" src="/module/jpage/resources/js/jpage.js"></script>
<script type="text/javascript">
var param_{unit} = {{{param_js}}};
$(function(){{$('#{unit}').jpage({{{call}}});}});
</script>
</td></tr></table></body></html>
"""


def copies(site_dir: Path, count: int, *, prefix: str = "copy") -> tuple[list[dict], dict[str, bytes], dict[str, str]]:
    """`count` records made of the site's pages, each under a path of its own: (list records newest
    first, {path: bytes}, {path: the fixture page it copies})."""
    site = json.loads((Path(site_dir) / "site.json").read_text(encoding="utf-8"))
    originals = [r for column in site["columns"] for r in column["records"]]
    listed, pages, source = [], {}, {}
    for index in range(count):
        record = originals[index % len(originals)]
        path = f"/art/2023/1/1/art_{prefix}_{index}.html"
        listed.append({"path": path, "title": f"{record['title']}（{index}）", "date": record["date"]})
        pages[path] = (Path(site_dir) / "pages" / record["path"].lstrip("/")).read_bytes()
        source[path] = record["path"].lstrip("/")
    return listed, pages, source


class HanwebHandler(SiteHandler):
    """The JPaaS api-gateway, the jpage data proxy, column pages and detail pages."""

    replica: Replica

    def _list_page(self, query: dict[str, list[str]]) -> int | None:
        return _list_page(query)

    def _answer(self, method: str, path: str, query: dict[str, list[str]], form: str) -> int:
        if path == "/robots.txt":
            return self._send(200, ROBOTS, "text/plain")
        if path == UNIT_PATH and method == "GET":
            return self._send(200, self._unit(query), JSON_TYPE)
        if path == self.replica.proxy_path and method == "POST":
            return self._send(200, self._dataproxy(query, form), "text/xml;charset=UTF-8")
        match = re.fullmatch(r"/col/col(\d+)/index\.html", path)
        if match and method == "GET":
            page = self.replica.column_page(match.group(1))
            if page is not None:
                generated = self.replica.variant is not None
                content_type = ("text/html" if self.replica.platform == "hanweb-jpage" and not generated
                                else "text/html; charset=UTF-8")
                session = hashlib.sha1(self.path.encode()).hexdigest()[:16].upper()
                return self._send(200, self.replica.rewrite(page), content_type,
                                  {"Set-Cookie": f"JSESSIONID={session}; Path=/; HttpOnly"})
        stored = self.replica.dir / "pages" / path.lstrip("/")
        if method == "GET" and (path in self.replica.pages or stored.is_file()):
            return self._detail(path)
        return self._send(404, b"<html><body><h1>404</h1></body></html>")

    def _detail(self, path: str) -> int:
        content_type = "text/html" if self.replica.platform == "hanweb-jpage" else None
        return self._validated(path, self._body(path), content_type)

    def _unit(self, query: dict[str, list[str]]) -> bytes:
        page_id = (query.get("pageId") or [""])[0]
        try:  # paging goes only through paramJson; a bare pageNo/pageSize is ignored
            param = json.loads((query.get("paramJson") or ["{}"])[0])
            search = json.loads(param.get("search") or "{}")
            page_no, page_size = int(param.get("pageNo") or 1), int(param.get("pageSize") or 15)
        except (ValueError, TypeError, AttributeError):
            return REFUSED
        column = self.replica.column_for(code=search.get("xxgkId")) or self.replica.column_for(column_id=page_id)
        if column is None or self.replica.refusal(column, query):
            return REFUSED
        query_data = "{" + ",".join(f"'{k}':'{(query.get(k) or [''])[0]}'"
                                    for k in ("webId", "pageId", "tagId", "tplSetId")) + "}"
        answer = self.replica.jpaas_list(column, max(page_no, 1), max(page_size, 1), query_data)
        return self.replica.rewrite(answer)

    def _dataproxy(self, query: dict[str, list[str]], form: str) -> bytes:
        fields = parse_qs(form)
        column = self.replica.column_for(column_id=(fields.get("columnid") or [""])[0])
        try:
            start = int(query["startrecord"][0])
            end = int(query["endrecord"][0])
            per_page = int(query["perpage"][0])
        except (KeyError, ValueError):
            return b"<datastore></datastore>"
        if column is None:
            return b"<datastore></datastore>"
        captured = self.replica.dir / "examples" / f"dataproxy-{column.column_id}-{start}-{end}.xml"
        if self.replica.variant is None and captured.exists():
            return self.replica.rewrite(captured.read_bytes())
        return self.replica.rewrite(self.replica.jpage_group(column, start, end, per_page))

    def _fault(self, fault: Fault, path: str, method: str, query: dict[str, list[str]], form: str) -> int | None:
        if fault.kind == "bad-json":
            return self._send(200, b'{"success":true,"data":{"html":"<ul><li><a href=', JSON_TYPE)
        if fault.kind == "deep-json":
            return self._send(200, b'{"success":true,"data":' + b"[" * 200_000 + b"]" * 200_000 + b"}", JSON_TYPE)
        if fault.kind == "cut":  # the server's own answer cut short, its length saying so
            self.close_connection = True
            answer = self._answer_bytes(method, path, query, form)
            return self._send(200, answer[: len(answer) // 2], "text/xml;charset=UTF-8")
        return super()._fault(fault, path, method, query, form)

    def _answer_bytes(self, method: str, path: str, query: dict[str, list[str]], form: str) -> bytes:
        if path == UNIT_PATH:
            return self._unit(query)
        if path == self.replica.proxy_path:
            return self._dataproxy(query, form)
        return self.replica.rewrite(self.replica.page(path))


Replica.handler = HanwebHandler


def _list_page(query: dict[str, list[str]]) -> int | None:
    """The list page a list request asks for: JPaaS paramJson's pageNo, or a jpage group's number."""
    try:
        if "paramJson" in query:
            return int(json.loads(query["paramJson"][0]).get("pageNo") or 1)
        if "startrecord" in query:
            start, end = int(query["startrecord"][0]), int(query["endrecord"][0])
            return (start - 1) // max(end - start + 1, 1) + 1
    except (ValueError, TypeError, AttributeError, KeyError):
        return None
    return None


def sites_toml(replicas: dict, allowed_hosts: dict[str, list[str]] | None = None) -> str:
    """A sites file naming each replica's columns under its slug (and the other hosts a site names)."""
    lines = []
    for slug, replica in replicas.items():
        columns = ", ".join(json.dumps(url) for url in replica.column_urls)
        lines += [f"[sites.{slug}]", f"name = {json.dumps(replica.site['name'], ensure_ascii=False)}",
                  f"columns = [{columns}]"]
        if allowed_hosts and slug in allowed_hosts:
            lines.append(f"allowed_hosts = {json.dumps(allowed_hosts[slug])}")
        lines.append("")
    return "\n".join(lines)


__all__ = ["BLOCKS", "Fault", "HanwebHandler", "Logged", "Replica", "Variant", "copies", "sites_toml", "urlencode"]
