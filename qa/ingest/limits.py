"""How much docqa will read from one file: refusing early beats grinding through a hostile one."""

from __future__ import annotations

# A file that expands past this many characters of text is refused rather than ground through.
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
# A .docx is a zip: its parts may expand to this much in all (a 300-page report with images is
# well under it), so a zip bomb is refused from its directory before anything is decompressed.
MAX_DOCX_EXPANDED_BYTES = 256 * 1024 * 1024
# OCR takes seconds a page: a long scanned book is read up to this many pages, the rest is reported.
MAX_OCR_PAGES = 200


def size_text(n: int) -> str:
    """A byte count as people read it: '3.2 MB' or '512 bytes'."""
    return f"{n / (1024 * 1024):,.1f} MB" if n >= 1024 * 1024 else f"{n:,} bytes"
