"""Word .docx files: paragraphs, headings and table cells in the order they are read.

A .docx is a zip of XML parts. The zip's directory is checked before anything is decompressed
(a zip bomb declares its sizes there), and an encrypted file (an OLE container, not a zip) is
refused with the reason, as is a legacy .doc renamed to .docx.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterator
from typing import Any

from qa.errors import IngestError
from qa.ingest.limits import MAX_DOCX_EXPANDED_BYTES, size_text
from qa.ingest.parsed import Parsed
from qa.ingest.titles import declared_title

_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ZIP_MAGIC = b"PK\x03\x04"
# An encrypted Office file is an OLE container holding a stream of this name (UTF-16 in the directory).
_ENCRYPTED_STREAM = "EncryptedPackage".encode("utf-16-le")
_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
CELL_SEPARATOR = " | "


def check_container(data: bytes, name: str) -> None:
    """Refuse what is not a readable, reasonably sized .docx zip, before python-docx opens it.

    Raises:
        IngestError: an encrypted or legacy Word file, a damaged zip, or one that expands too far.
    """
    if data.startswith(_OLE_MAGIC):
        if _ENCRYPTED_STREAM in data:
            raise IngestError(
                f"{name}: the document is password-protected (encrypted); remove the password in Word and add it again."
            )
        raise IngestError(f"{name}: a Word 97-2003 (.doc) file, not .docx; save it as .docx in Word and add it again.")
    if not data.startswith(_ZIP_MAGIC):
        raise IngestError(f"{name}: not a .docx file (a .docx is a zip archive, and this is not one).")
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            expanded = sum(info.file_size for info in archive.infolist())
            if "word/document.xml" not in archive.namelist():
                raise IngestError(f"{name}: not a Word document (the archive has no word/document.xml).")
    except zipfile.BadZipFile as e:
        raise IngestError(f"{name}: a damaged .docx ({e}).") from e
    if expanded > MAX_DOCX_EXPANDED_BYTES:
        raise IngestError(
            f"{name}: the document expands to {size_text(expanded)}; the limit is {size_text(MAX_DOCX_EXPANDED_BYTES)}."
        )


def _is_heading(paragraph: Any) -> bool:
    style = paragraph.style
    style_name = (style.name or "") if style is not None else ""
    return style_name == "Title" or style_name.startswith("Heading")


def _row_text(row: Any) -> str:
    cells: list[str] = []
    # A merged cell is listed once per grid column it spans. The elements are kept (not their id()),
    # so that lxml hands back the same proxy object for the same cell while this list holds it.
    seen: list[Any] = []
    for cell in row.cells:
        if any(cell._tc is tc for tc in seen):
            continue
        seen.append(cell._tc)
        text = " ".join(" ".join(p.text for p in cell.paragraphs).split())
        cells.append(text)
    while cells and not cells[-1]:
        cells.pop()
    return CELL_SEPARATOR.join(cells) if any(cells) else ""


def _blocks(parent: Any, container: Any) -> Iterator[tuple[str, bool]]:
    """(text, is a heading) of each paragraph and table under `container`, in reading order."""
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    for child in container.iterchildren():
        if child.tag == f"{_W}p":
            paragraph = Paragraph(child, parent)
            yield paragraph.text, _is_heading(paragraph)
        elif child.tag == f"{_W}tbl":
            rows = [_row_text(row) for row in Table(child, parent).rows]
            yield "\n".join(r for r in rows if r), False
        elif child.tag == f"{_W}sdt":  # a content control (cover pages, tables of contents) holds blocks
            content = child.find(f"{_W}sdtContent")
            if content is not None:
                yield from _blocks(parent, content)


def read_docx(data: bytes, name: str) -> Parsed:
    """The document's text, one paragraph, heading or table a paragraph, and its title.

    Raises:
        IngestError: see `check_container`, or a document python-docx cannot read.
    """
    check_container(data, name)
    try:
        import docx

        document = docx.Document(io.BytesIO(data))
        blocks = list(_blocks(document, document.element.body))
        declared = document.core_properties.title or ""
    except IngestError:
        raise
    except Exception as e:  # damaged parts fail in many ways (KeyError, lxml errors, ValueError, ...)
        raise IngestError(f"{name}: not a readable .docx ({type(e).__name__}: {e}).") from (
            None if isinstance(e, OSError) else e
        )
    # White space folded within each line; a line break inside a paragraph and table rows stay.
    paragraphs = ["\n".join(" ".join(ln.split()) for ln in text.split("\n") if ln.strip()) for text, _ in blocks]
    text = "\n\n".join(p for p in paragraphs if p)
    heading = next((" ".join(t.split()) for t, is_heading in blocks if is_heading and t.strip()), "")
    return Parsed(text=text, title=declared_title(declared) or heading)
