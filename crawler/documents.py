"""The text of an attached file: PDF, DOCX, DOC and WPS (bytes in, text lines out).

Each format is read by a library made for it: PDF by pypdfium2 (PDFium's text layer), DOCX by
python-docx (paragraphs, then table cells). The binary Word formats (DOC, and WPS Office's .wps,
which is the same OLE compound file) go through a converter when one is installed: the command
PROPOSALS_DOC_CONVERTER names, else LibreOffice (`soffice --headless --convert-to txt`), else
`antiword`. Without one such a file is kept and reported as not read; nothing fails. A PDF whose
pages hold no text (a scan) is reported as `scanned` (no OCR). OFD has no well-kept reader in
Python: kept, not read.

`read_document(body, url, content_type)` never raises for a bad file: a corrupt one is
`unreadable`, with the reader's words. The lines come out as the letter rules want them (one per
line of text, trimmed, no empty lines), ready for `parsers.letter.parse_letter`.
"""

from __future__ import annotations

import io
import os
import re
import shlex
import shutil
import subprocess
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

READER_VERSION = "1"
READ, SCANNED, NOT_READ, UNREADABLE = "read", "scanned", "not-read", "unreadable"
CONVERTER_ENV = "PROPOSALS_DOC_CONVERTER"
CONVERT_TIMEOUT = 60  # seconds a converter may take over one file
_EXTENSIONS = {"pdf": "pdf", "docx": "docx", "doc": "doc", "wps": "wps", "ofd": "ofd", "xls": "xls", "xlsx": "xlsx",
               "et": "xls", "txt": "txt", "rtf": "rtf", "zip": "zip", "rar": "rar", "jpg": "image", "jpeg": "image",
               "png": "image"}
_TYPES = {"application/pdf": "pdf", "application/msword": "doc", "application/ofd": "ofd",
          "application/vnd.openxmlformats-officedocument.wordprocessingml.document": "docx",
          "application/kswps": "wps", "application/vnd.ms-works": "wps", "application/wps-office.wps": "wps"}
_OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_SPACES = re.compile(r"[ \t\u3000\u00a0]+")
# a page's number printed at its foot: `- 1 -`, `— 2 —`, `3`, `第 1 页 共 2 页`, `1/2`
_PAGE_NUMBER = re.compile(r"^(?:[-—–－\s]*[0-9０-９]{1,3}[-—–－\s]*|第\s*\d+\s*页(?:\s*[,，/]?\s*共\s*\d+\s*页)?|"
                          r"\d+\s*/\s*\d+)$")


@dataclass(frozen=True, slots=True)
class DocumentText:
    format: str | None          # pdf, docx, doc, wps, ofd … (None: not told)
    status: str                 # read, scanned, not-read, unreadable
    lines: tuple[str, ...] = ()
    detail: str | None = None   # why it is not read

    @property
    def text(self) -> str | None:
        return "\n".join(self.lines) if self.lines else None


def file_name(url: str) -> str:
    """The file name a URL names: its last path segment, or downfile.jsp's `filename=`."""
    parts = urlsplit(url)
    query = parse_qs(parts.query)
    for key in ("filename", "fileName", "file", "name"):
        if query.get(key):
            return unquote(query[key][0]).rsplit("/", 1)[-1]
    return unquote(parts.path.rsplit("/", 1)[-1])


def format_of(body: bytes, url: str, content_type: str | None = None, name: str | None = None) -> str | None:
    """The file's format: from its first bytes where they tell, else its name or URL, else its type."""
    named = None
    for candidate in (name, file_name(url)):
        if candidate and "." in candidate:
            named = _EXTENSIONS.get(candidate.rsplit(".", 1)[-1].strip().lower())
            if named:
                break
    if body.startswith(b"%PDF"):
        return "pdf"
    if body.startswith(b"PK"):
        try:
            with zipfile.ZipFile(io.BytesIO(body)) as archive:
                names = set(archive.namelist())
        except (zipfile.BadZipFile, ValueError, OSError):
            return named
        if "word/document.xml" in names:
            return "docx"
        if "OFD.xml" in names:
            return "ofd"
        if any(n.startswith("xl/") for n in names):
            return "xlsx"
        return named
    if body.startswith(_OLE):
        return named if named in ("doc", "wps", "xls") else "doc"
    kind = (content_type or "").split(";")[0].strip().lower()
    return named or _TYPES.get(kind)


def text_lines(text: str) -> tuple[str, ...]:
    """Lines of text as the letter rules read them: trimmed, spaces collapsed, no empty lines."""
    lines = []
    for line in re.split(r"\r\n|\r|\n|\f|\v|\u2028|\u2029", text.replace("\x00", "")):
        line = _SPACES.sub(" ", line).strip()
        if line:
            lines.append(line)
    return tuple(lines)


def read_document(body: bytes, url: str, content_type: str | None = None, *, name: str | None = None,
                  converter: str | None = None) -> DocumentText:
    """The text of an attached file, or why it is not read (never raises for a bad file)."""
    kind = format_of(body, url, content_type, name)
    if not body:
        return DocumentText(kind, UNREADABLE, detail="the file is empty")
    reader = _READERS.get(kind or "")
    if reader is None:
        return DocumentText(kind, NOT_READ, detail=f"no reader for {kind or 'this kind of'} files")
    try:
        if kind in ("doc", "wps"):
            return reader(body, kind, converter)
        return reader(body, kind)
    except Exception as error:  # a corrupt file: the reader's own words, on one line
        said = (str(error).strip().splitlines() or [type(error).__name__])[0]
        return DocumentText(kind, UNREADABLE, detail=f"not a readable {kind.upper()} file: {said}"[:300])


def _read_pdf(body: bytes, kind: str) -> DocumentText:
    import pypdfium2 as pdfium

    pdf = pdfium.PdfDocument(body)
    try:
        pages = len(pdf)
        lines: list[str] = []
        for index in range(pages):
            page = pdf[index]
            textpage = page.get_textpage()
            try:
                lines.extend(line for line in text_lines(textpage.get_text_bounded()) if not _PAGE_NUMBER.match(line))
            finally:
                textpage.close()
                page.close()
    finally:
        pdf.close()
    if not lines:
        return DocumentText(kind, SCANNED, detail=f"no text layer on its {pages} page(s): a scan (no OCR)")
    return DocumentText(kind, READ, tuple(lines))


def _read_docx(body: bytes, kind: str) -> DocumentText:
    import docx

    document = docx.Document(io.BytesIO(body))
    lines: list[str] = []
    for block in document.iter_inner_content():  # paragraphs and tables (a 红头 header table …) in order
        if isinstance(block, docx.table.Table):
            for row in block.rows:
                seen = set()
                for cell in row.cells:  # a merged cell is given once per column it spans
                    if id(cell._tc) not in seen:
                        seen.add(id(cell._tc))
                        lines.extend(text_lines(cell.text))
        else:
            lines.extend(text_lines(block.text))
    if not lines:
        return DocumentText(kind, NOT_READ, detail="the document holds no text")
    return DocumentText(kind, READ, tuple(lines))


def find_converter() -> list[str] | None:
    """The command that turns a DOC/WPS file into text: PROPOSALS_DOC_CONVERTER, soffice, antiword."""
    named = os.environ.get(CONVERTER_ENV)
    if named:
        return shlex.split(named)
    for program in ("soffice", "libreoffice"):
        found = shutil.which(program)
        if found:
            return [found]
    found = shutil.which("antiword")
    return [found] if found else None


def _read_binary_word(body: bytes, kind: str, converter: str | None) -> DocumentText:
    command = shlex.split(converter) if converter else find_converter()
    if not command:
        return DocumentText(kind, NOT_READ, detail=f"no converter for {kind.upper()} files installed "
                                                   "(LibreOffice or antiword; see README)")
    with tempfile.TemporaryDirectory(prefix="proposals-doc-") as tmp:
        source = Path(tmp) / f"attachment.{kind}"
        source.write_bytes(body)
        program = Path(command[0]).name
        if program.startswith(("soffice", "libreoffice")):
            args = [*command, "--headless", "--norestore", f"-env:UserInstallation=file://{tmp}/profile",
                    "--convert-to", "txt:Text (encoded):UTF8", "--outdir", tmp, str(source)]
        elif program == "antiword":
            args = [*command, "-m", "UTF-8.txt", str(source)]
        else:  # a command of one's own: the file's path last, the text on its standard output
            args = [*command, str(source)]
        try:
            done = subprocess.run(args, capture_output=True, timeout=CONVERT_TIMEOUT, check=False, cwd=tmp)
        except subprocess.TimeoutExpired:
            return DocumentText(kind, NOT_READ, detail=f"the converter took over {CONVERT_TIMEOUT} s")
        except OSError as error:
            return DocumentText(kind, NOT_READ, detail=f"the converter could not run: {error}")
        converted = Path(tmp) / "attachment.txt"
        output = converted.read_bytes() if converted.exists() else done.stdout
        if done.returncode != 0 and not output.strip():
            said = (done.stderr.decode("utf-8", "replace").strip().splitlines() or [f"exit {done.returncode}"])[0]
            return DocumentText(kind, UNREADABLE, detail=f"the converter could not read it: {said}"[:300])
    lines = text_lines(output.decode("utf-8", "replace").lstrip("\ufeff"))
    if not lines:
        return DocumentText(kind, NOT_READ, detail="the converter found no text")
    return DocumentText(kind, READ, lines)


_READERS = {"pdf": _read_pdf, "docx": _read_docx, "doc": _read_binary_word, "wps": _read_binary_word}
