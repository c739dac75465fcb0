"""Read .txt/.md/.html/.pdf files into Documents; skip what cannot be read with one warning each."""

from __future__ import annotations

import codecs
import hashlib
import html as html_lib
import io
import logging
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

from qa.errors import FileTooLargeError, IngestError, UnsupportedFileError
from qa.models import Document

log = logging.getLogger(__name__)

SUPPORTED_SUFFIXES = (".txt", ".md", ".markdown", ".html", ".htm", ".pdf")
# A PDF that expands past this many characters of text is refused rather than ground through.
MAX_TEXT_CHARS = 20_000_000
MAX_PDF_PAGES = 2000
# Files are refused above this size before a byte is read: no supported file this large holds
# fewer than MAX_TEXT_CHARS characters of text worth answering from (UTF-32 needs 4 bytes a character).
MAX_FILE_BYTES = 64 * 1024 * 1024
# pypdf's text extraction slows down faster than linearly with a page's drawing instructions, so a
# few kilobytes of compressed instructions could keep it busy for hours. A dense text page needs
# tens of kilobytes; a detailed map a few megabytes.
MAX_PDF_PAGE_CONTENT_BYTES = 4 * 1024 * 1024
MAX_PDF_CONTENT_BYTES = 64 * 1024 * 1024


@dataclass(frozen=True)
class Skipped:
    path: str
    reason: str


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _size(n: int) -> str:
    return f"{n / (1024 * 1024):,.1f} MB" if n >= 1024 * 1024 else f"{n:,} bytes"


def read_file(path: Path, max_bytes: int = MAX_FILE_BYTES) -> bytes:
    """The bytes of one file, refusing a file over `max_bytes` before reading it.

    At most `max_bytes + 1` bytes are ever read, so a file that grows while it is read, or a
    special file without a size, cannot exhaust memory either.

    Raises:
        FileTooLargeError: the file is larger than `max_bytes`.
        OSError: the file cannot be opened or read.
    """
    with path.open("rb") as f:
        size = os.fstat(f.fileno()).st_size
        if size > max_bytes:
            raise FileTooLargeError(f"{path.name}: the file is {_size(size)}; the limit is {_size(max_bytes)}.")
        data = f.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise FileTooLargeError(f"{path.name}: the file is larger than the limit of {_size(max_bytes)}.")
    return data


def decode_text(data: bytes, name: str) -> str:
    """Decode bytes as text: BOMs first, then UTF-8, then Windows-1252; refuse binary data."""
    for bom, enc in (
        (codecs.BOM_UTF32_LE, "utf-32"),
        (codecs.BOM_UTF32_BE, "utf-32"),
        (codecs.BOM_UTF8, "utf-8-sig"),
        (codecs.BOM_UTF16_LE, "utf-16"),
        (codecs.BOM_UTF16_BE, "utf-16"),
    ):
        if data.startswith(bom):
            try:
                return data.decode(enc)
            except UnicodeDecodeError as e:
                raise IngestError(f"{name}: not valid {enc} text ({e.reason}).") from e
    if b"\x00" in data[:8192]:
        raise IngestError(f"{name}: looks like a binary file (NUL bytes), not text.")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    text = data.decode("cp1252", errors="replace")
    control = sum(1 for ch in text[:8192] if ord(ch) < 32 and ch not in "\r\n\t\f")
    if control > 0.05 * min(len(text), 8192):
        raise IngestError(f"{name}: looks like a binary file, not text.")
    return text


class _VisibleText(HTMLParser):
    """Collects the text a browser would show; drops script, style and other invisible elements."""

    _HIDDEN = {"script", "style", "noscript", "template", "head", "svg", "iframe", "object"}
    _BLOCK = {
        "p",
        "div",
        "br",
        "li",
        "ul",
        "ol",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "tr",
        "table",
        "section",
        "article",
        "header",
        "footer",
        "blockquote",
        "pre",
        "title",
        "dd",
        "dt",
        "hr",
    }

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.title: str = ""
        self._hidden = 0
        self._in_title = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "title":
            self._in_title = True
        elif tag in self._HIDDEN:
            self._hidden += 1
        if tag in self._BLOCK:
            self.parts.append("\n\n")

    def handle_endtag(self, tag: str) -> None:
        if tag == "title":
            self._in_title = False
        elif tag in self._HIDDEN and self._hidden:
            self._hidden -= 1
        if tag in self._BLOCK:
            self.parts.append("\n\n")

    def handle_data(self, data: str) -> None:
        if self._in_title:
            self.title += data
        elif not self._hidden:
            # Browsers fold white space (line breaks included) inside running text.
            self.parts.append(re.sub(r"[ \t\r\n\f\v]+", " ", data))


def html_to_text(markup: str) -> tuple[str, str]:
    """(visible text, <title>) with white space tidied so sentences and paragraphs survive."""
    parser = _VisibleText()
    parser.feed(markup)
    parser.close()
    raw = "".join(parser.parts)
    lines = [re.sub(r"[ \t\r\f\v]+", " ", ln).strip() for ln in raw.split("\n")]
    text = re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()
    return text, html_lib.unescape(parser.title).strip()


def _content_bytes(page: Any) -> int:
    """Decompressed size of a page's drawing instructions, forms it draws included."""
    from pypdf.generic import ArrayObject

    def resolve(obj: Any) -> Any:
        return obj.get_object() if obj is not None else None

    total = 0
    contents: Any = resolve(page.get("/Contents"))
    for stream in contents if isinstance(contents, ArrayObject) else [contents]:
        stream = resolve(stream)
        if hasattr(stream, "get_data"):
            total += len(stream.get_data())
    resources: Any = resolve(page.get("/Resources"))
    xobjects: Any = resolve(resources.get("/XObject")) if hasattr(resources, "get") else None
    if hasattr(xobjects, "values"):
        for ref in xobjects.values():
            form = resolve(ref)
            if hasattr(form, "get_data") and form.get("/Subtype") == "/Form":
                total += len(form.get_data())
    return total


def _opens_without_password(reader: Any) -> bool:
    try:
        return bool(reader.decrypt(""))
    except Exception:  # AES without the `cryptography` package, or a damaged encryption dictionary
        return False


def pdf_to_text(data: bytes, name: str) -> str:
    try:
        from pypdf import PdfReader
        from pypdf.errors import PyPdfError
    except ImportError as e:  # pragma: no cover - pypdf is a declared dependency
        raise IngestError("pypdf is not installed - install it to read PDF files.") from e
    try:
        reader = PdfReader(io.BytesIO(data))
        # Many PDFs are encrypted only to restrict printing or copying, with an empty password to open.
        if reader.is_encrypted and not _opens_without_password(reader):
            raise IngestError(f"{name}: the PDF is encrypted; decrypt it before adding it.")
        if len(reader.pages) > MAX_PDF_PAGES:
            raise IngestError(f"{name}: the PDF has {len(reader.pages)} pages; the limit is {MAX_PDF_PAGES}.")
        pages: list[str] = []
        total = 0
        content = 0
        for number, page in enumerate(reader.pages, 1):
            size = _content_bytes(page)
            if size > MAX_PDF_PAGE_CONTENT_BYTES:
                raise IngestError(
                    f"{name}: page {number} holds {_size(size)} of drawing instructions; "
                    f"the limit is {_size(MAX_PDF_PAGE_CONTENT_BYTES)} a page."
                )
            content += size
            if content > MAX_PDF_CONTENT_BYTES:
                raise IngestError(
                    f"{name}: the PDF holds more than {_size(MAX_PDF_CONTENT_BYTES)} of drawing instructions."
                )
            t = page.extract_text() or ""
            total += len(t)
            if total > MAX_TEXT_CHARS:
                raise IngestError(f"{name}: the PDF expands to more than {MAX_TEXT_CHARS:,} characters of text.")
            pages.append(t.strip())
    except IngestError:
        raise
    except PyPdfError as e:
        if type(e).__name__ == "LimitReachedError":  # not a PdfReadError: a stream past pypdf's limits
            raise IngestError(f"{name}: the PDF expands to an enormous size when decompressed ({e})") from e
        raise IngestError(f"{name}: not a readable PDF ({type(e).__name__}: {e}).") from e
    except Exception as e:
        # On damaged input pypdf fails in many ways (zlib.error, struct.error, LookupError, ...); for
        # this one file each means "unreadable", and the rest of the batch must still be ingested.
        # An OSError here is about the PDF's bytes, not our disk: it is not chained, because an
        # IngestError caused by an OSError means the index could not be written (see web.uploads).
        raise IngestError(f"{name}: not a readable PDF ({type(e).__name__}: {e}).") from (
            None if isinstance(e, OSError) else e
        )
    return "\n\n".join(p for p in pages if p)


def first_line_title(text: str, fallback: str) -> str:
    for line in text.splitlines():
        if line.strip():
            return line.strip()[:200]
    return fallback


def parse_document(doc_id: str, data: bytes, source: str = "") -> Document:
    """Turn one file's bytes into a Document.

    Args:
        doc_id: the document id; its suffix picks the reader (.txt .md .html .pdf).
        data: the file's bytes.
        source: the folder it was ingested from, kept so a re-ingest can spot removed files.

    Returns:
        The document, its title from the first non-empty line or the HTML `<title>`.

    Raises:
        UnsupportedFileError: a suffix docqa cannot read.
        FileTooLargeError: a file over the size limit.
        IngestError: an empty, binary, undecodable, encrypted or oversized (expanded) file.
    """
    suffix = Path(doc_id).suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        raise UnsupportedFileError(
            f"{doc_id}: unsupported file type {suffix or '(none)'}; supported: {', '.join(SUPPORTED_SUFFIXES)}."
        )
    if len(data) > MAX_FILE_BYTES:
        raise FileTooLargeError(f"{doc_id}: the file is {_size(len(data))}; the limit is {_size(MAX_FILE_BYTES)}.")
    if not data.strip():
        raise IngestError(f"{doc_id}: the file is empty.")
    title = ""
    if suffix == ".pdf":
        if not data.startswith(b"%PDF"):
            raise IngestError(f"{doc_id}: not a PDF file (no %PDF header).")
        text = pdf_to_text(data, doc_id)
    else:
        text = decode_text(data, doc_id)
        if suffix in (".html", ".htm"):
            text, title = html_to_text(text)
    if len(text) > MAX_TEXT_CHARS:
        raise IngestError(f"{doc_id}: {len(text):,} characters of text; the limit is {MAX_TEXT_CHARS:,}.")
    if not text.strip():
        raise IngestError(f"{doc_id}: no text found in the file.")
    title = title or first_line_title(text, doc_id)
    return Document(doc_id=doc_id, title=title, text=text, sha256=sha256(data), source=source)


def iter_files(root: Path) -> Iterator[tuple[str, Path]]:
    """(doc_id, path) for every supported file under `root`; ids are POSIX paths relative to it."""
    if root.is_file():
        yield root.name, root
        return
    for path in sorted(root.rglob("*")):
        if path.is_file() and not any(part.startswith(".") for part in path.relative_to(root).parts):
            if path.suffix.lower() in SUPPORTED_SUFFIXES:
                yield path.relative_to(root).as_posix(), path


def check_root(root: Path) -> None:
    """Refuse a path to ingest before any work starts.

    Raises:
        IngestError: the path does not exist.
        UnsupportedFileError: the path is a file of a type docqa cannot read.
    """
    if not root.exists():
        raise IngestError(f"{root}: no such file or folder.")
    if root.is_file() and root.suffix.lower() not in SUPPORTED_SUFFIXES:
        raise UnsupportedFileError(
            f"{root}: unsupported file type {root.suffix or '(none)'}; supported: {', '.join(SUPPORTED_SUFFIXES)}."
        )
