"""A replica site whose reply letters are only attached files, and the files themselves.

Built on tests/replica.py (not changing it): `FileReplica` serves the records it is given (pages
made from the haidao 见附件 fixture page, with their own titles, sponsors, reply cell and links)
and their files:

- `/module/download/downfile.jsp?classid=0&filename=NAME` (the legacy Hanweb download link);
- `/api-gateway/jpaas-jis-server/download?fileId=ID&token=T` (a JPaaS download gateway) answering
  302 to the file on another host (`FileHost`, the provincial object storage) while its token is
  current, 410 once `expire()` made it stale (the page then prints a new token);
- `/jcms_files/…` paths, served as they are;

each with an ETag and Last-Modified, answering conditional requests with 304, and logged.

The files are generated here: a CJK PDF (reportlab's STSong-Light CID font, which needs no font
file), a DOCX (python-docx), a PDF with no text layer (a scan), a file over a size limit, a
corrupt PDF, and a fake DOC for a stub converter. Every name, unit and number is invented.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import random
import re
import threading
from dataclasses import dataclass, field
from http.server import ThreadingHTTPServer
from pathlib import Path
from urllib.parse import quote, urlsplit

from replica import Logged, Replica
from replica.server import SiteHandler

HERE = Path(__file__).resolve().parent
HAIDAO = HERE / "fixtures" / "haidao"
TEMPLATE = "art/2023/8/30/art_1229395011_4087260.html"  # 答复意见 见附件, the letter in two attachments
COLUMN = "1229395011"
DOWNFILE = "/module/download/downfile.jsp"
GATEWAY = "/api-gateway/jpaas-jis-server/download"
OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
TYPES = {"pdf": "application/pdf", "doc": "application/msword", "wps": "application/kswps",
         "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document"}


@dataclass(frozen=True)
class Letter:
    """An invented reply letter, and what the archive must read from it."""

    title: str
    doc_number: str          # as the archive gives it (no whitespace)
    addressee: str           # without the colon
    signer: str
    date: str                # ISO
    date_line: str           # as printed
    body: tuple[str, ...]
    word: str                # a word that appears only in the letter, never on the page

    def lines(self) -> list[str]:
        return [self.title, self.doc_number, f"{self.addressee}：", *self.body, self.signer, self.date_line,
                "（联系人：陆一鸣，联系电话：0580-5550123）"]


def letter(number: int, sponsor: str, unit: str, word: str, *, month: int = 8, day: int = 20) -> Letter:
    return Letter(
        title=f"{unit}关于对县政协十一届二次会议第{number}号提案答复的函",
        doc_number=f"海{unit[3:5]}函〔2023〕{number + 40}号",
        addressee=f"{sponsor}委员",
        signer=unit,
        date=f"2023-{month:02d}-{day:02d}",
        date_line=f"2023年{month}月{day}日",
        body=(f"您提出的《关于推进{word}试点的建议》收悉，现答复如下：",
              f"一、关于{word}的建设。我局已会同有关部门编制方案，计划分两年实施。",
              "二、关于资金保障。县财政安排专项资金，用于设施更新和人员培训。",
              "感谢您对我县工作的关心和支持。"),
        word=word,
    )


# --- the files --------------------------------------------------------------------------------------


def pdf_bytes(lines: list[str]) -> bytes:
    """A PDF with a CJK text layer (STSong-Light: a CID font reportlab ships, no font file needed)."""
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.pdfgen import canvas

    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer, invariant=1)
    pdf.setFont("STSong-Light", 11)
    y = 800
    for line in lines:
        pdf.drawString(40, y, line)
        y -= 18
    pdf.save()
    return buffer.getvalue()


def scanned_pdf_bytes() -> bytes:
    """A PDF page with marks but no text layer, as a scanner makes them."""
    from reportlab.pdfgen import canvas

    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer, invariant=1)
    for row in range(40):
        pdf.rect(40, 780 - row * 18, 300 + (row * 37) % 200, 8, fill=1, stroke=0)
    pdf.save()
    return buffer.getvalue()


def docx_bytes(lines: list[str]) -> bytes:
    import docx

    document = docx.Document()
    for line in lines:
        document.add_paragraph(line)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def fake_doc_bytes(lines: list[str]) -> bytes:
    """An OLE-headed file holding the text as UTF-8: what tests/stub_converter.py 'converts'."""
    return OLE + b"\0" * 8 + "\n".join(lines).encode("utf-8")


def oversized_bytes(size: int) -> bytes:
    """A PDF-headed file of `size` bytes (incompressible, so no transfer encoding shrinks it)."""
    return b"%PDF-1.4\n" + random.Random(14).randbytes(size - 9)


def corrupt_pdf_bytes() -> bytes:
    return b"%PDF-1.7\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n" + bytes(range(256)) * 3


# --- serving files ----------------------------------------------------------------------------------


@dataclass
class Served:
    body: bytes
    content_type: str
    modified: dt.datetime = field(default_factory=lambda: dt.datetime(2024, 2, 1, tzinfo=dt.UTC))

    @property
    def etag(self) -> str:
        return '"' + hashlib.sha1(self.body).hexdigest()[:16] + '"'


def serve_file(handler: SiteHandler, served: Served) -> int:
    """The file, or 304 for a conditional request it satisfies."""
    return handler._validated("", served.body, served.content_type, {"Content-Disposition": "attachment"},
                              modified=served.modified)


class FileHost:
    """Another host holding files (the provincial object storage a gateway redirects to)."""

    def __init__(self) -> None:
        self.files: dict[str, Served] = {}
        self.log: list[Logged] = []
        self._lock = threading.Lock()
        host = self

        class Handler(SiteHandler):
            replica = host

            def _route(self, method: str, path: str, query: dict[str, list[str]], form: str) -> int:
                if path == "/robots.txt":
                    return self._send(200, b"User-agent: *\nDisallow:\n", "text/plain")
                if path in host.files:
                    return serve_file(self, host.files[path])
                return self._send(404, b"<html><body>NoSuchKey</body></html>")

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    @property
    def netloc(self) -> str:
        return urlsplit(self.base_url).netloc

    def __enter__(self) -> FileHost:
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc) -> None:
        self._server.shutdown()
        self._server.server_close()


# --- records whose replies are files ----------------------------------------------------------------


@dataclass
class Attached:
    """One link of a record: how it is reached (downfile, gateway, path) and what it serves."""

    name: str                     # the link text
    body: bytes
    kind: str                     # pdf, docx, doc, wps
    route: str = "downfile"       # downfile, gateway (302 to the FileHost), path (/jcms_files/…)
    key: str = ""                 # the file's id (made from the name when empty)

    def file_id(self) -> str:
        return self.key or hashlib.md5(self.name.encode()).hexdigest()


@dataclass
class FileRecord:
    number: int                   # its 提案 number (202300NN)
    title: str
    sponsor: str
    reply_cell: str               # the 答复意见 cell's inner HTML: 见附件, empty, or "{links}" (the links themselves)
    files: list[Attached]
    letter: Letter | None = None  # the letter the files hold (None: no readable letter among them)

    @property
    def path(self) -> str:
        return f"/art/2023/9/{self.number % 28 + 1}/art_{COLUMN}_77{self.number:05d}.html"


class FileReplica(Replica):
    """The haidao replica serving `records` (and only them) whose letters are attached files."""

    def __init__(self, records: list[FileRecord], host: FileHost | None = None) -> None:
        self.file_records = records
        self.host = host
        self.served: dict[str, Served] = {}     # downfile name or path -> file
        self.tokens: dict[str, int] = {}        # gateway file id -> its current token
        template = (HAIDAO / "pages" / TEMPLATE).read_text(encoding="utf-8")
        listed, pages = [], {}
        for record in records:
            listed.append({"path": record.path, "title": f"({record.number}号){record.title}", "date": "2023-09-01"})
            pages[record.path] = b""  # made when served: gateway links carry the current token
            for attached in record.files:
                if attached.route == "gateway":
                    self.tokens[attached.file_id()] = 1
        columns = {COLUMN: listed, "1229395012": []}
        super().__init__(HAIDAO, records=columns, pages=pages)
        self.template = template
        base = self._server.RequestHandlerClass
        self._server.RequestHandlerClass = _with_files(self, base)
        for record in records:
            for attached in record.files:
                served = Served(attached.body, TYPES.get(attached.kind, "application/octet-stream"))
                if attached.route == "gateway":
                    assert host is not None, "a gateway link needs the FileHost it redirects to"
                    host.files[self.oss_path(attached)] = served
                else:
                    self.served[self.file_key(attached)] = served

    # --- what tests read and change -------------------------------------------------------------

    def file_key(self, attached: Attached) -> str:
        if attached.route == "downfile":
            return f"{attached.file_id()}.{attached.kind}"
        return f"/jcms_files/jcms1/web3201/site/attach/0/{attached.file_id()}.{attached.kind}"

    def oss_path(self, attached: Attached) -> str:
        return f"/jcms_files/jcms1/web3201/site/attach/-1/{attached.file_id()}.{attached.kind}"

    def link(self, attached: Attached) -> str:
        """The attachment's URL as the page gives it (absolute)."""
        if attached.route == "downfile":
            return f"{self.base_url}{DOWNFILE}?classid=0&filename={self.file_key(attached)}"
        if attached.route == "gateway":
            token = self.tokens[attached.file_id()]
            return f"{self.base_url}{GATEWAY}?fileId={attached.file_id()}&token=t{token}"
        return self.base_url + self.file_key(attached)

    def expire(self, attached: Attached) -> None:
        """The gateway's link for this file goes stale (410); the page prints a fresh one."""
        with self._lock:
            self.tokens[attached.file_id()] += 1

    def file_requests(self) -> list[Logged]:
        """Requests for files (downfile, gateway, paths) on this host and the FileHost."""
        mine = [r for r in self.requests() if r.path.startswith((DOWNFILE, GATEWAY, "/jcms_files/"))]
        return mine + ([r for r in self.host.log if r.path != "/robots.txt"] if self.host is not None else [])

    def anchor(self, attached: Attached) -> str:
        return f'<a href="{self.link(attached).replace("&", "&amp;")}" target="_blank">{attached.name}</a>'

    def render(self, record: FileRecord) -> bytes:
        page = self.template.replace("(20230021号)关于支持海水养殖产业转型升级的建议",
                                     f"({record.number}号){record.title}")
        page = page.replace("关于支持海水养殖产业转型升级的建议", record.title)
        page = page.replace('<td class="value">褚海明</td>', f'<td class="value">{record.sponsor}</td>')
        cell = record.reply_cell.replace("{links}", "".join(f"<p>{self.anchor(a)}</p>" for a in record.files))
        page = page.replace('<td class="value"><p>见附件</p></td>', f'<td class="value">{cell}</td>')
        links = "\n".join(f'        <li>{self.anchor(a)}</li>' for a in record.files)
        page = re.sub(r"<ul>\s*<li><a href=\"/module/download.*?</ul>", f"<ul>\n{links}\n      </ul>", page,
                      flags=re.S)
        page = page.replace("art_1229395011_4087260", record.path.rsplit("/", 1)[-1][:-5])
        return page.encode("utf-8")

    def record_for(self, path: str) -> FileRecord | None:
        for record in self.file_records:
            if record.path == path:
                return record
        return None


def _with_files(replica: FileReplica, base: type) -> type:
    class Handler(base):
        def _answer(self, method: str, path: str, query: dict[str, list[str]], form: str) -> int:
            record = replica.record_for(path)
            if record is not None and method == "GET":
                with replica._lock:
                    replica.pages[path] = replica.render(record)
                return self._detail(path)
            if path == DOWNFILE and method == "GET":
                served = replica.served.get((query.get("filename") or [""])[0])
                if served is not None:
                    return serve_file(self, served)
            if path == GATEWAY and method == "GET":
                file_id, token = (query.get("fileId") or [""])[0], (query.get("token") or [""])[0]
                attached = next((a for r in replica.file_records for a in r.files
                                 if a.route == "gateway" and a.file_id() == file_id), None)
                if attached is None:
                    return self._send(404, b'{"success":false,"message":"file not found"}', "application/json")
                if token != f"t{replica.tokens[file_id]}":
                    return self._send(410, b'{"success":false,"message":"link expired"}', "application/json")
                location = replica.host.base_url + quote(replica.oss_path(attached))
                return self._send(302, b"", headers={"Location": location})
            if path in replica.served and method == "GET":
                return serve_file(self, replica.served[path])
            return super()._answer(method, path, query, form)

    return Handler


__all__ = ["Attached", "FileHost", "FileRecord", "FileReplica", "Letter", "corrupt_pdf_bytes", "docx_bytes",
           "fake_doc_bytes", "letter", "oversized_bytes", "pdf_bytes", "scanned_pdf_bytes"]
