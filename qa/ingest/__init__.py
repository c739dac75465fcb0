"""Read .txt/.md/.html/.pdf/.docx files into Documents; refuse what cannot be read with a reason.

One module a format (text, html, pdf with ocr and pages, docx), with the shared parts: limits,
files (finding and reading them), titles and language. Everything other modules import from
`qa.ingest` is re-exported here.
"""

from __future__ import annotations

from pathlib import Path

from qa.errors import FileTooLargeError, IngestError
from qa.ingest.docx import read_docx
from qa.ingest.files import SUPPORTED_SUFFIXES, Skipped, check_root, iter_files, read_file, sha256, unsupported
from qa.ingest.html import html_to_text, read_html
from qa.ingest.language import language_warning
from qa.ingest.limits import (
    MAX_DOCX_EXPANDED_BYTES,
    MAX_FILE_BYTES,
    MAX_PDF_CONTENT_BYTES,
    MAX_PDF_PAGE_CONTENT_BYTES,
    MAX_PDF_PAGES,
    MAX_TEXT_CHARS,
    size_text,
)
from qa.ingest.parsed import Parsed
from qa.ingest.pdf import read_pdf
from qa.ingest.text import decode_text
from qa.ingest.titles import choose_title, headline, markdown_title
from qa.models import Document

# Bumped whenever the same file would now give another text, title, page list or warnings, so
# that `qa ingest` re-reads files an index built by an older parser holds (see settings_fingerprint).
# 2: HTML main content, PDF pages/OCR/running lines/hyphens, .docx, headline titles, language warning.
PARSER_VERSION = 2

__all__ = [
    "MAX_DOCX_EXPANDED_BYTES",
    "MAX_FILE_BYTES",
    "MAX_PDF_CONTENT_BYTES",
    "MAX_PDF_PAGE_CONTENT_BYTES",
    "MAX_PDF_PAGES",
    "MAX_TEXT_CHARS",
    "PARSER_VERSION",
    "SUPPORTED_SUFFIXES",
    "Parsed",
    "Skipped",
    "check_root",
    "decode_text",
    "first_line_title",
    "html_to_text",
    "iter_files",
    "parse_document",
    "read_file",
    "sha256",
]


def first_line_title(text: str, fallback: str) -> str:
    """The title of a plain-text document: its first headline-like line, else `fallback`."""
    return headline(text) or fallback


def _parse(doc_id: str, suffix: str, data: bytes) -> Parsed:
    if suffix == ".pdf":
        return read_pdf(data, doc_id)
    if suffix == ".docx":
        return read_docx(data, doc_id)
    text = decode_text(data, doc_id)
    if suffix in (".html", ".htm"):
        return read_html(text)
    if suffix in (".md", ".markdown"):
        return Parsed(text=text, title=markdown_title(text))
    return Parsed(text=text)


def parse_document(doc_id: str, data: bytes, source: str = "") -> Document:
    """Turn one file's bytes into a Document.

    Args:
        doc_id: the document id; its suffix picks the reader (.txt .md .html .pdf .docx).
        data: the file's bytes.
        source: the folder it was ingested from, kept so a re-ingest can spot removed files.

    Returns:
        The document: its text as docqa stores and shows it, its title (see qa.ingest.titles), page
        starts for a PDF, and warnings about how it was read (scanned pages, another language).

    Raises:
        UnsupportedFileError: a suffix docqa cannot read.
        FileTooLargeError: a file over the size limit.
        IngestError: an empty, binary, undecodable, encrypted, damaged or oversized (expanded) file.
    """
    suffix = Path(doc_id).suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        raise unsupported(doc_id, suffix)
    if len(data) > MAX_FILE_BYTES:
        raise FileTooLargeError(
            f"{doc_id}: the file is {size_text(len(data))}; the limit is {size_text(MAX_FILE_BYTES)}."
        )
    if not data.strip():
        raise IngestError(f"{doc_id}: the file is empty.")
    parsed = _parse(doc_id, suffix, data)
    text = parsed.text
    if len(text) > MAX_TEXT_CHARS:
        raise IngestError(f"{doc_id}: {len(text):,} characters of text; the limit is {MAX_TEXT_CHARS:,}.")
    if not text.strip():
        raise IngestError(f"{doc_id}: no text found in the file.")
    warnings = list(parsed.warnings)
    language = language_warning(text)
    if language:
        warnings.append(language)
    return Document(
        doc_id=doc_id,
        title=choose_title(parsed.title, text, doc_id),
        text=text,
        sha256=sha256(data),
        source=source,
        pages=parsed.pages,
        warnings=tuple(warnings),
    )
