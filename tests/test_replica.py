"""The replica answers the documented requests with the captured bytes."""

from __future__ import annotations

import json
import urllib.request

import pytest
from conftest import FIXTURES

from replica import Replica

HAIDAO = FIXTURES / "haidao" / "examples"


def _get(url: str, data: bytes | None = None) -> tuple[int, bytes, dict]:
    request = urllib.request.Request(url, data=data)
    with urllib.request.urlopen(request) as response:
        return response.status, response.read(), dict(response.headers)


@pytest.fixture(scope="module")
def haidao():
    with Replica(FIXTURES / "haidao") as replica:
        yield replica


def test_documented_list_requests_answer_the_captured_files(haidao):
    readme = (HAIDAO / "README.md").read_text(encoding="utf-8")
    url = readme.split("answers this URL (percent-encoded):\n\n```\n", 1)[1].split("\n```", 1)[0]
    status, body, headers = _get(url.replace("https://www.haidao.example", haidao.base_url))
    assert status == 200 and headers["Content-Type"] == "application/json;charset=UTF-8"
    assert body == haidao.rewrite((HAIDAO / "api-1229395011-p2.json").read_bytes())


UNIT = "/api-gateway/jpaas-publish-server/front/page/build/unit"
FIXED = ("webId=3201&pageId=1229395011&tagId=%E7%BB%84%E9%85%8D%E5%88%86%E7%B1%BBlist&tplSetId=aB3dEf9GhIjK1LmNoP2qR"
         "&pageType=column&parseType=bulidstatic&editType=null")
SEARCH = {"xxgkId": "W001-002", "xxgkType": "xxgk_combination", "nodeId": "11339901002610225D", "className": ""}


def test_paging_only_through_paramjson_and_pagesize_honoured(haidao):
    base = f"{haidao.base_url}{UNIT}?{FIXED}"
    search = json.dumps(SEARCH)
    param = urllib.parse.quote(json.dumps({"pageNo": 1, "pageSize": 5, "search": search}))
    _, body, _ = _get(f"{base}&pageNo=2&paramJson={param}")
    html = json.loads(body)["data"]["html"]
    assert html.count("<li") == 5 and 'pageNo="1"' in html and 'count="8"' in html


def test_detail_pages_answer_conditional_gets(haidao):
    url = haidao.url("art/2023/9/8/art_1229395011_4090552.html")
    _, body, headers = _get(url)
    assert haidao.base_url.encode() in body and b"https://www.haidao.example" not in body
    request = urllib.request.Request(url, headers={"If-None-Match": headers["ETag"]})
    with pytest.raises(urllib.error.HTTPError) as answer:
        urllib.request.urlopen(request)
    assert answer.value.code == 304


def test_jpage_groups_are_posted(tmp_path):
    with Replica(FIXTURES / "gucheng") as replica:
        url = replica.base_url + "/module/jpage/dataproxy.jsp?startrecord=5&endrecord=8&perpage=2"
        _, body, _ = _get(url, b"col=1&appid=1&webid=85&path=%2F&columnid=40512&unitid=78231")
        assert body == replica.rewrite((FIXTURES / "gucheng/examples/dataproxy-40512-5-8.xml").read_bytes())


@pytest.mark.parametrize("change", [
    lambda fixed: fixed.replace("&parseType=bulidstatic", ""),           # what queryData may not carry
    lambda fixed: fixed.replace("&pageType=column", ""),
    lambda fixed: fixed + "&xxgkParams=%7B%27xxgkId%27%3A+%27W001-002%27%7D",  # a Python repr forwarded
    lambda fixed: fixed.replace("tplSetId=aB3dEf9GhIjK1LmNoP2qR", "tplSetId=other"),
], ids=["no-parseType", "no-pageType", "python-repr", "wrong-tplSetId"])
def test_the_gateway_refuses_requests_unitbuild_would_not_send(haidao, change):
    param = urllib.parse.quote(json.dumps({"pageNo": 1, "pageSize": 3, "search": json.dumps(SEARCH)}))
    _, body, _ = _get(f"{haidao.base_url}{UNIT}?{change(FIXED)}&paramJson={param}")
    assert json.loads(body) == {"success": False, "code": "400", "message": "参数错误", "data": None}
    _, body, _ = _get(f"{haidao.base_url}{UNIT}?{FIXED}&paramJson={param}")  # the right request is answered
    assert json.loads(body)["success"] is True


def test_nodeid_must_match_the_unit(haidao):
    search = json.dumps(SEARCH | {"nodeId": ""})
    param = urllib.parse.quote(json.dumps({"pageNo": 1, "pageSize": 3, "search": search}))
    _, body, _ = _get(f"{haidao.base_url}{UNIT}?{FIXED}&paramJson={param}")
    assert json.loads(body)["message"] == "参数错误"


def test_column_pages_set_a_session_cookie(haidao):
    _, _, headers = _get(haidao.column_urls[0])
    assert headers["Set-Cookie"].startswith("JSESSIONID=")
