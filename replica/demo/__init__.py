"""The bundled demo: three fictional counties, one per platform family, built from `sites.json`.

`proposals demo` serves them on 127.0.0.1 for the length of one crawl. Each site is written as
a replica site folder (site.json, pages/, templates/), the same layout the tests' fixture sites
use, so the demo is crawled by the real crawler through the platforms' real list protocols: a
JPaaS 组配分类 list behind unitbuild.js, a jpage `<datastore>` with its data proxy, and a static
TRS list whose pages are the reply letters themselves.
"""

from __future__ import annotations

import datetime as dt
import html
import json
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

from replica.hanweb import Replica, Variant, sites_toml
from replica.static import StaticReplica

DATA = Path(__file__).resolve().parent / "sites.json"


def sites() -> list[dict]:
    return json.loads(DATA.read_text(encoding="utf-8"))["sites"]


def build(into: Path) -> dict[str, Path]:
    """Write every demo site's folder under `into`; {slug: folder}."""
    folders = {}
    for site in sites():
        folder = Path(into) / site["slug"]
        render = _static_site if site["platform"] == "trs-static" else _hanweb_site
        render(site, folder)
        folders[site["slug"]] = folder
    return folders


@contextmanager
def serve(into: Path, port: int = 0) -> Iterator[dict[str, Replica | StaticReplica]]:
    """The demo sites built under `into` and served until the block ends, on loopback ports `port`,
    `port + 1` … (any free ones for 0)."""
    with ExitStack() as stack:
        replicas: dict[str, Replica | StaticReplica] = {}
        for n, (slug, folder) in enumerate(build(into).items()):
            platform = json.loads((folder / "site.json").read_text(encoding="utf-8"))["platform"]
            at = port + n if port else 0
            replica = (StaticReplica(folder, port=at) if platform == "trs-static"
                       else Replica(folder, port=at, variant=Variant()))
            replicas[slug] = stack.enter_context(replica)
        yield replicas


# --- Hanweb (JPaaS and jpage) label/value pages ---------------------------------------------------------


def _hanweb_site(site: dict, folder: Path) -> None:
    columns = []
    for column in site["columns"]:
        listed = []
        for record in column["records"]:
            day = dt.date.fromisoformat(record["date"])
            path = f"/art/{day.year}/{day.month}/{day.day}/art_{column['column_id']}_{record['id']}.html"
            _write(folder / "pages" / path.lstrip("/"), _hanweb_page(site, column, record, path), site["encoding"])
            listed.append({"path": path, "title": record["number"] + record["title"], "date": record["date"]})
        columns.append({key: value for key, value in column.items() if key != "records"} | {"records": listed})
    _site_json(site, folder, columns)


def _hanweb_page(site: dict, column: dict, record: dict, path: str) -> str:
    e = html.escape
    title = record["number"] + record["title"]
    rows = [(record["sponsor_label"], e(record["sponsors"])), ("类型", e(record["category"]))]
    if record.get("cosponsor_label"):
        rows.append((record["cosponsor_label"], e(record["cosponsors"])))
    rows += [(_content_label(record), "<!--ZJEG_RSS.content.begin--><meta name=\"ContentStart\">"
              + "".join(f"<p>{e(line)}</p>" for line in record["content"])
              + "<meta name=\"ContentEnd\"><!--ZJEG_RSS.content.end-->"),
             ("主办单位", e(record["lead"])), ("会办单位", e(record["assist"])),
             ("答复意见", _letter(record["reply"])), ("采纳情况", e(record["adoption"])),
             ("落实情况", e(record["status"]))]
    table = "\n".join(f'<tr><td class="label">{label}：</td><td class="value">{value}</td></tr>'
                      for label, value in rows)
    published = f"{record['date']} {record['time']}"
    return f"""<!DOCTYPE html>
<html lang="zh-CN"><head><meta charset="{site['encoding']}">
<title>{e(title)}-{site['name']}</title>
<meta name="SiteName" content="{site['name']}"><meta name="ColumnName" content="{column['name']}">
<meta name="ArticleTitle" content="{e(title)}"><meta name="PubDate" content="{published}">
<meta name="ContentSource" content="{e(record['lead'])}"><meta name="Url" content="{site['base_url']}{path}">
</head><body>
<div class="header"><a href="/">首页</a> &gt;
<a href="/col/col{column['column_id']}/index.html">{column['name']}</a></div>
<div class="xxgk-meta"><table class="xxgk-table">
<tr><th>索引号：</th><td>{site['web_id']}/{record['date'][:4]}-{record['id']}</td><th>组配分类：</th><td>{column['name']}</td></tr>
<tr><th>发布机构：</th><td>{e(record['lead'])}</td><th>生成日期：</th><td>{record['date']}</td></tr>
</table></div>
<div class="art-title"><h1>{e(title)}</h1>
<div class="art-info"><span>发布时间：{published}</span><span>信息来源：{e(record['lead'])}</span></div></div>
<div class="art-con" id="zoom"><table class="proposal-table">
{table}
</table></div>
<div class="footer">版权所有 {site['name']}</div>
</body></html>
"""


def _content_label(record: dict) -> str:
    return "建议内容" if record["sponsor_label"].endswith("代表") else "提案内容"


def _letter(reply: dict) -> str:
    e = html.escape
    lines = [f'<p style="text-align:center;">{e(reply["title"])}</p>',
             f'<p style="text-align:center;">{e(reply["doc_number"])}</p>', f"<p>{e(reply['addressee'])}：</p>"]
    lines += [f"<p>{e(line)}</p>" for line in reply["body"]]
    lines += [f'<p style="text-align:right;">{e(reply["signer"])}</p>',
              f'<p style="text-align:right;">{reply["date"]}</p>']
    if reply.get("contact"):
        lines.append(f"<p>{e(reply['contact'])}</p>")
    return "\n".join(lines)


# --- TRS WCM static letter pages ------------------------------------------------------------------------


def _static_site(site: dict, folder: Path) -> None:
    columns = []
    for column in site["columns"]:
        listed = []
        for record in column["records"]:
            day = dt.date.fromisoformat(record["date"])
            path = f"{column['path']}{day:%Y%m}/t{day:%Y%m%d}_{record['id']}.shtml"
            _write(folder / "pages" / path.lstrip("/"), _letter_page(site, column, record), site["encoding"])
            listed.append({"path": path, "title": record["title"], "date": record["date"]})
        template = f"list-{column['id']}.shtml"
        _write(folder / "templates" / template, _list_template(site, column), "utf-8")
        columns.append({key: value for key, value in column.items() if key != "records"}
                       | {"list_template": template, "records": listed})
    _site_json(site, folder, columns)


def _letter_page(site: dict, column: dict, record: dict) -> str:
    e = html.escape
    body = [f'<p style="text-align: center;"><strong>{e(record["title"])}</strong></p>',
            f"<p>{e(record['addressee'])}：</p>"]
    body += [f"<p>　　{e(line)}</p>" for line in record["body"]]
    body += [f'<p style="text-align: right;">{e(record["signer"])}</p>',
             f'<p style="text-align: right;">{record["signed"]}</p>']
    body += [f"<p>　　{e(line)}</p>" for line in record["contact"]]
    return f"""<!DOCTYPE html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>{e(record['title'])}_{site['name']}</title>
<meta name="SiteName" content="{site['name']}"><meta name="ColumnName" content="{column['name']}">
</head><body>
<div class="crumb">当前位置：<a href="/">首页</a> &gt; <a href="../">{column['name']}</a></div>
<div class="xxgk-head"><table class="xxgk-table">
<tr><th>索引号：</th><td>{record['id']}/{record['date'][:4]}</td><th>主题分类：</th><td>综合政务</td></tr>
<tr><th>发布机构：</th><td>{e(record['unit'])}</td><th>发文日期：</th><td>{record['date']}</td></tr>
</table></div>
<div class="view"><h1 class="art-title">{e(record['title'])}</h1>
<div class="art-info"><span>发布时间：{record['date']} {record['time']}</span>
<span>信息来源：{e(record['unit'])}</span></div>
<div class="TRS_Editor">
{chr(10).join(body)}
</div></div>
<div class="footer">主办：{site['name']}办公室</div>
</body></html>
"""


def _list_template(site: dict, column: dict) -> str:
    return f"""<!DOCTYPE html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>{column['name']}_{site['name']}</title>
<meta name="SiteName" content="{site['name']}"><meta name="ColumnName" content="{column['name']}">
<script type="text/javascript" src="/images/page.js"></script>
</head><body>
<div class="crumb">当前位置：<a href="/">首页</a> &gt; <a href="./">{column['name']}</a></div>
<div class="list-title"><span>{column['name']}</span></div>
<ul class="list-ul">
{{{{ITEMS}}}}
</ul>
<div class="page">{{{{PAGER}}}}</div>
<div class="footer">主办：{site['name']}办公室</div>
</body></html>
"""


def _site_json(site: dict, folder: Path, columns: list[dict]) -> None:
    data = {key: value for key, value in site.items() if key != "columns"} | {"columns": columns}
    _write(folder / "site.json", json.dumps(data, ensure_ascii=False, indent=1), "utf-8")


def _write(path: Path, text: str, encoding: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(text.encode(encoding))


__all__ = ["DATA", "build", "serve", "sites", "sites_toml"]
