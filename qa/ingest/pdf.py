"""PDF files: each page's text layer (or OCR of a scanned page), cleaned of running headers,
footers and line-end hyphens, with where each page begins in the text."""

from __future__ import annotations

import io
import logging
from typing import Any

from qa.errors import IngestError
from qa.ingest import ocr
from qa.ingest.limits import (
    MAX_OCR_PAGES,
    MAX_PDF_CONTENT_BYTES,
    MAX_PDF_PAGE_CONTENT_BYTES,
    MAX_PDF_PAGES,
    MAX_TEXT_CHARS,
    size_text,
)
from qa.ingest.pages import join_hyphenated, join_pages, remove_running_lines
from qa.ingest.parsed import Parsed
from qa.ingest.titles import declared_title

log = logging.getLogger(__name__)


def _resolve(obj: Any) -> Any:
    return obj.get_object() if obj is not None else None


def _xobjects(page_or_form: Any) -> list[Any]:
    resources: Any = _resolve(page_or_form.get("/Resources"))
    xobjects: Any = _resolve(resources.get("/XObject")) if hasattr(resources, "get") else None
    return [_resolve(ref) for ref in xobjects.values()] if hasattr(xobjects, "values") else []


def _content_bytes(page: Any) -> int:
    """Decompressed size of a page's drawing instructions, forms it draws included."""
    from pypdf.generic import ArrayObject

    total = 0
    contents: Any = _resolve(page.get("/Contents"))
    for stream in contents if isinstance(contents, ArrayObject) else [contents]:
        stream = _resolve(stream)
        if hasattr(stream, "get_data"):
            total += len(stream.get_data())
    for form in _xobjects(page):
        if hasattr(form, "get_data") and form.get("/Subtype") == "/Form":
            total += len(form.get_data())
    return total


def _has_image(page: Any) -> bool:
    """Whether a page draws an image (a scan) rather than being blank; forms one level deep."""
    for obj in _xobjects(page):
        subtype = obj.get("/Subtype") if hasattr(obj, "get") else None
        if subtype == "/Image":
            return True
        if subtype == "/Form" and any(
            hasattr(inner, "get") and inner.get("/Subtype") == "/Image" for inner in _xobjects(obj)
        ):
            return True
    return False


def _opens_without_password(reader: Any) -> bool:
    try:
        return bool(reader.decrypt(""))
    except Exception:  # AES without the `cryptography` package, or a damaged encryption dictionary
        return False


def _metadata_title(reader: Any) -> str:
    try:
        meta = reader.metadata
        return str(meta.title or "") if meta is not None else ""
    except Exception:  # a damaged info dictionary: the title is found in the text instead
        return ""


def _page_list(numbers: list[int]) -> str:
    return ("page " if len(numbers) == 1 else "pages ") + ", ".join(str(n) for n in numbers)


def _lines(text: str) -> list[str]:
    return [ln for ln in (" ".join(raw.split()) for raw in text.splitlines()) if ln]


def _extract(data: bytes, name: str) -> tuple[list[str], list[int], str]:
    """(each page's text layer, 1-based numbers of pages that are images without text, metadata title)."""
    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(data))
    # Many PDFs are encrypted only to restrict printing or copying, with an empty password to open.
    if reader.is_encrypted and not _opens_without_password(reader):
        raise IngestError(f"{name}: the PDF is encrypted; decrypt it before adding it.")
    if len(reader.pages) > MAX_PDF_PAGES:
        raise IngestError(f"{name}: the PDF has {len(reader.pages)} pages; the limit is {MAX_PDF_PAGES}.")
    pages: list[str] = []
    scanned: list[int] = []
    total = 0
    content = 0
    for number, page in enumerate(reader.pages, 1):
        size = _content_bytes(page)
        if size > MAX_PDF_PAGE_CONTENT_BYTES:
            raise IngestError(
                f"{name}: page {number} holds {size_text(size)} of drawing instructions; "
                f"the limit is {size_text(MAX_PDF_PAGE_CONTENT_BYTES)} a page."
            )
        content += size
        if content > MAX_PDF_CONTENT_BYTES:
            raise IngestError(
                f"{name}: the PDF holds more than {size_text(MAX_PDF_CONTENT_BYTES)} of drawing instructions."
            )
        t = page.extract_text() or ""
        total += len(t)
        if total > MAX_TEXT_CHARS:
            raise IngestError(f"{name}: the PDF expands to more than {MAX_TEXT_CHARS:,} characters of text.")
        pages.append(t)
        if not t.strip() and _has_image(page):
            scanned.append(number)
    return pages, scanned, _metadata_title(reader)


def _read_layers(data: bytes, name: str) -> tuple[list[str], list[int], str]:
    try:
        from pypdf.errors import PyPdfError
    except ImportError as e:  # pragma: no cover - pypdf is a declared dependency
        raise IngestError("pypdf is not installed - install it to read PDF files.") from e
    try:
        return _extract(data, name)
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


def _ocr(data: bytes, pages: list[str], scanned: list[int]) -> list[str]:
    """Warnings about the scanned pages; `pages` gets the text OCR reads on them."""
    tools = ocr.find_tools()
    if tools is None:
        return [f"{_page_list(scanned)} {'has' if len(scanned) == 1 else 'have'} no text layer ({ocr.INSTALL_HINT})"]
    warnings: list[str] = []
    read: list[int] = []
    try:
        with ocr.PdfOcr(data, tools) as reader:
            for number in scanned[:MAX_OCR_PAGES]:
                try:
                    text = reader.read_page(number)
                except ocr.OcrError as e:
                    warnings.append(f"page {number} has no text layer and could not be read by OCR ({e})")
                    continue
                if text.strip():
                    pages[number - 1] = text
                    read.append(number)
    except OSError as e:  # no room for the temporary page images: the text layer still stands
        unread = [n for n in scanned if n not in read]
        warnings.append(f"{_page_list(unread)} could not be read by OCR ({e.strerror or e})")
    if read:
        warnings.insert(0, f"{_page_list(read)} {'was' if len(read) == 1 else 'were'} read by OCR")
    if len(scanned) > MAX_OCR_PAGES:
        rest = scanned[MAX_OCR_PAGES:]
        warnings.append(
            f"{len(rest)} more scanned pages (from page {rest[0]}) were not read: OCR stops at {MAX_OCR_PAGES}"
        )
    return warnings


def read_pdf(data: bytes, name: str) -> Parsed:
    """The PDF's text, page by page, with OCR for scanned pages when tesseract is installed.

    Raises:
        IngestError: not a PDF, encrypted, damaged, too large when expanded, or no text at all.
    """
    if not data.startswith(b"%PDF"):
        raise IngestError(f"{name}: not a PDF file (no %PDF header).")
    layers, scanned, declared = _read_layers(data, name)
    warnings = _ocr(data, layers, scanned) if scanned else []
    lines = remove_running_lines([_lines(t) for t in layers])
    pages = join_hyphenated(["\n".join(p) for p in lines])
    text, starts = join_pages(pages)
    if not text.strip():
        hint = f" ({'; '.join(warnings)})" if warnings else ""
        raise IngestError(f"{name}: no text found in the file{hint}.")
    return Parsed(text=text, title=declared_title(declared), pages=starts, warnings=tuple(warnings))
