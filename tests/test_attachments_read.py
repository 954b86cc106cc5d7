"""Reading attached files (crawler/documents.py) and making the reply of their letter (parsers/attached.py).

The files are generated here (tests/replica_files.py): a CJK PDF, a DOCX, a scan with no text
layer, a corrupt PDF, a fake DOC for a stub converter. Every name, unit and number is invented.
"""

from __future__ import annotations

import sys
from dataclasses import replace
from pathlib import Path

import pytest
from replica_files import corrupt_pdf_bytes, docx_bytes, fake_doc_bytes, letter, pdf_bytes, scanned_pdf_bytes

from crawler.documents import NOT_READ, READ, SCANNED, UNREADABLE, file_name, format_of, read_document
from crawler.parsers import Attachment, ProposalRecord, Reply
from crawler.parsers.attached import is_pointer, wants_attachment, with_attachment_reply

HERE = Path(__file__).resolve().parent
LETTER = letter(41, "詹若水", "海岛县农业农村局", "紫菜晒场", month=10, day=9)
URL = "https://www.qiandao.example/module/download/downfile.jsp?classid=0&filename=7c1e.pdf"


def test_a_cjk_pdf_is_read_line_by_line():
    document = read_document(pdf_bytes(LETTER.lines()), URL, "application/pdf")
    assert (document.format, document.status) == ("pdf", READ)
    assert list(document.lines) == LETTER.lines()


def test_a_docx_is_read_paragraph_by_paragraph_whatever_its_url_says():
    document = read_document(docx_bytes(LETTER.lines()), "https://www.qiandao.example/api/download?fileId=9", None)
    assert (document.format, document.status) == ("docx", READ)
    assert list(document.lines) == LETTER.lines()


def test_a_scan_without_a_text_layer_is_reported_as_such():
    document = read_document(scanned_pdf_bytes(), URL)
    assert (document.status, document.lines) == (SCANNED, ())
    assert document.detail == "no text layer on its 1 page(s): a scan (no OCR)"


@pytest.mark.parametrize(("body", "url", "said"), [
    (corrupt_pdf_bytes(), URL, "not a readable PDF file: Failed to load document"),
    (b"PK\x03\x04 not really a zip", URL, "not a readable PDF file"),  # named .pdf, read as one, refused
    (b"PK\x03\x04 not really a zip", URL.replace(".pdf", ".docx"), "not a readable DOCX file"),
    (b"", URL, "the file is empty"),
])
def test_a_corrupt_file_is_unreadable_never_an_error(body, url, said):
    document = read_document(body, url)
    assert document.status == UNREADABLE
    assert document.detail.startswith(said)


def test_doc_and_wps_need_a_converter_and_without_one_are_kept_unread(monkeypatch):
    monkeypatch.delenv("PROPOSALS_DOC_CONVERTER", raising=False)
    monkeypatch.setenv("PATH", "/nonexistent")
    document = read_document(fake_doc_bytes(LETTER.lines()), URL.replace(".pdf", ".wps"))
    assert (document.format, document.status) == ("wps", NOT_READ)
    assert "no converter for WPS files installed" in document.detail


def test_doc_is_read_by_the_converter_named(monkeypatch):
    monkeypatch.setenv("PROPOSALS_DOC_CONVERTER", f"{sys.executable} {HERE / 'stub_converter.py'}")
    document = read_document(fake_doc_bytes(LETTER.lines()), URL.replace(".pdf", ".doc"))
    assert (document.format, document.status) == ("doc", READ)
    assert list(document.lines) == LETTER.lines()
    refused = read_document(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", URL.replace(".pdf", ".doc"))  # the stub refuses it
    assert refused.status in (UNREADABLE, NOT_READ)


@pytest.mark.skipif(not __import__("shutil").which("soffice"), reason="LibreOffice (soffice) is not installed")
def test_a_real_doc_is_read_by_libreoffice(tmp_path, monkeypatch):
    import subprocess

    monkeypatch.delenv("PROPOSALS_DOC_CONVERTER", raising=False)
    source = tmp_path / "letter.docx"
    source.write_bytes(docx_bytes(LETTER.lines()))
    subprocess.run(["soffice", "--headless", f"-env:UserInstallation=file://{tmp_path}/profile", "--convert-to",
                    "doc", "--outdir", str(tmp_path), str(source)], check=True, capture_output=True, timeout=120)
    document = read_document((tmp_path / "letter.doc").read_bytes(), URL.replace(".pdf", ".doc"))
    assert document.status == READ and LETTER.title in document.lines


def test_formats_and_names_from_bytes_and_links():
    assert file_name(URL) == "7c1e.pdf"
    assert format_of(b"%PDF-1.7 ...", "https://x.example/download?id=1") == "pdf"
    assert format_of(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "https://x.example/a/答复函（可编辑版）.wps") == "wps"
    assert format_of(b"", "https://x.example/f", "application/msword") == "doc"


@pytest.mark.parametrize(("text", "pointer"), [
    ("见附件", True), ("详见附件。", True), ("答复函见附件", True), ("（见附件1）", True), ("请查看附件", True),
    (None, True), ("", True),
    ("海岛县农业农村局关于对第41号提案答复的函（见附件）", False), ("您提出的建议收悉，现答复如下：见附件", False),
])
def test_pointer_replies(text, pointer):
    assert is_pointer(text) is pointer


def _record(reply: Reply | None, attachments: tuple[Attachment, ...]) -> ProposalRecord:
    return ProposalRecord(url="https://www.qiandao.example/art/1.html", kind="cppcc_proposal",
                          raw_title="(202341号)关于",
                          title="关于", number="202341", year=2023, session=None, category=None, lead_sponsors=(),
                          co_sponsors=(), content=None, lead_units=(), co_units=(), reply=reply, adoption_label=None,
                          adoption_class=None, implementation_status=None, impact_scope=None, approved_by=None,
                          attachments=attachments)


def test_the_attached_letter_becomes_the_reply_where_the_page_gives_none():
    form = Attachment("https://www.qiandao.example/files/表格.xls", "办理情况统计表.xls")
    pdf = Attachment(URL, "202341号提案答复函.pdf")
    record = _record(Reply("见附件"), (form, pdf))
    done = with_attachment_reply(record, {form.url: ["序号", "单位"], pdf.url: LETTER.lines()})
    reply = done.reply
    assert (reply.title, reply.doc_number, reply.addressee, reply.signer, reply.date) == (
        LETTER.title, LETTER.doc_number, LETTER.addressee, LETTER.signer, LETTER.date)
    assert (reply.source, reply.attachment_url) == ("attachment", URL)
    assert done.session == "十一届二次"
    assert wants_attachment(reply)  # read from an attachment: read again when its text changes


def test_a_page_letter_is_kept_and_an_unreadable_file_leaves_the_reply_as_it_was():
    pdf = Attachment(URL, "答复函.pdf")
    page_letter = Reply("\n".join(LETTER.lines()), LETTER.title, source="page")
    assert with_attachment_reply(_record(page_letter, (pdf,)), {pdf.url: LETTER.lines()}).reply is page_letter
    pointer = _record(Reply("见附件"), (pdf,))
    assert with_attachment_reply(pointer, {}).reply == Reply("见附件")
    not_a_letter = with_attachment_reply(pointer, {pdf.url: ["2023年度建议提案办理工作总结", "一、总体情况"]})
    assert not_a_letter.reply == Reply("见附件")
    # a reply read from a file before, whose file reads no longer: back to none
    before = replace(pointer, reply=Reply("x", source="attachment", attachment_url=URL))
    assert with_attachment_reply(before, {}).reply is None


def test_the_reply_keys_are_one_list_in_the_parser_the_archive_the_schema_and_record_md(record_schema):
    import re

    from archive.export import COLUMNS
    from archive.records import REPLY_KEYS as ARCHIVED
    from crawler.parsers.records import REPLY_KEYS

    schema = record_schema["properties"]["reply"]["oneOf"][1]
    documented = re.findall(r"^\| `reply\.(\w+)` \|", (HERE / "fixtures" / "RECORD.md").read_text(encoding="utf-8"),
                            flags=re.M)
    assert ARCHIVED == REPLY_KEYS == tuple(schema["required"]) == tuple(documented)
    assert schema["properties"]["source"]["enum"] == ["page", "attachment"]
    assert [c for c in COLUMNS if c.startswith("reply_")] == [f"reply_{key}" for key in REPLY_KEYS]


def test_page_numbers_of_a_pdf_are_no_lines_of_the_letter():
    lines = [LETTER.title, "- 1 -", *LETTER.body, "第 2 页 共 2 页", LETTER.signer, LETTER.date_line]
    document = read_document(pdf_bytes(lines), URL)
    assert list(document.lines) == [LETTER.title, *LETTER.body, LETTER.signer, LETTER.date_line]


def test_a_docx_header_table_is_read_where_it_stands():
    import io

    import docx

    document = docx.Document()
    head = document.add_table(rows=1, cols=2)
    head.cell(0, 0).text, head.cell(0, 1).text = LETTER.doc_number, "签发人：滕远航"
    for line in LETTER.lines()[:1] + LETTER.lines()[2:]:
        document.add_paragraph(line)
    buffer = io.BytesIO()
    document.save(buffer)
    read = read_document(buffer.getvalue(), URL.replace(".pdf", ".docx"))
    assert list(read.lines[:3]) == [LETTER.doc_number, "签发人：滕远航", LETTER.title]
    record = with_attachment_reply(_record(None, (Attachment(URL, "答复函.docx"),)), {URL: read.lines})
    assert (record.reply.title, record.reply.doc_number, record.reply.signer) == (
        LETTER.title, LETTER.doc_number, LETTER.signer)


@pytest.mark.parametrize("body", [
    '<p>见附件</p><p><a href="./P020220510000051.pdf">{name}</a></p>',
    '<p><a href="./P020220510000051.pdf">{name}</a></p>',
])
def test_a_letter_page_whose_letter_is_only_a_file_is_read_from_the_file(body):
    from crawler.parsers import parse_detail

    page = "xishan/pages/xxgk/zfxxgkml/jytabl/zxwyta/202205/t20220510_3493514.shtml"
    raw = (HERE / "fixtures" / page).read_text(encoding="utf-8")
    start = raw.index('<div class="TRS_Editor">')
    end = raw.index("</div>", start)
    name = "溪山县海洋与渔业局关于第51号提案的答复函.pdf"
    markup = raw[:start] + '<div class="TRS_Editor">' + body.format(name=name) + raw[end:]
    url = "https://www.xishan.example/xxgk/zfxxgkml/jytabl/zxwyta/202205/t20220510_3493514.shtml"
    record = parse_detail(markup.encode("utf-8"), url)
    [attachment] = record.attachments
    file_letter = letter(51, "贺丽萍、佟志强", "溪山县海洋与渔业局", "滩涂牧场")
    done = with_attachment_reply(record, {attachment.url: file_letter.lines()})
    assert (done.reply.source, done.reply.attachment_url) == ("attachment", attachment.url)
    assert (done.reply.signer, done.reply.date, done.reply.addressee) == (
        "溪山县海洋与渔业局", file_letter.date, "贺丽萍、佟志强委员")
    assert done.lead_sponsors == ("贺丽萍", "佟志强") and done.lead_units == ("溪山县海洋与渔业局",)


@pytest.mark.parametrize(("href", "text", "attached"), [
    ("/api-gateway/jpaas-jis-server/download?fileId=5d1e&token=a1", "答复函（可编辑版）", True),
    ("/interface/getFile?key=77a0", "202341号提案答复函.docx", True),   # told by the file name it prints
    ("/module/download/downfile.jsp?classid=0&amp;filename=a1b2.pdf", "答复函", True),
    ("/art/2023/9/1/art_1229395011_1.html", "相关链接.pdf说明", False),  # another article
    ("/interface/getFile?key=77a0", "办理情况说明", False),
])
def test_attachment_links_of_download_gateways(href, text, attached):
    from crawler.parsers import parse_detail

    template = "haidao/pages/art/2023/8/30/art_1229395011_4087260.html"
    raw = (HERE / "fixtures" / template).read_text(encoding="utf-8")
    start, end = raw.index('<div class="art-fj">'), raw.index("</ul>") + len("</ul>")
    markup = raw[:start] + f'<div class="art-fj"><ul><li><a href="{href}">{text}</a></li></ul>' + raw[end:]
    record = parse_detail(markup.encode("utf-8"), "https://www.haidao.example/art/2023/8/30/art_1229395011_4087260.html")
    assert [a.name for a in record.attachments] == ([text] if attached else [])
