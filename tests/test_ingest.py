"""Reading files: formats, encodings, and refusing what cannot be read with a clear reason."""

from __future__ import annotations

import codecs
from pathlib import Path

import pytest

from qa.errors import IngestError, UnsupportedFileError
from qa.ingest import SUPPORTED_SUFFIXES, html_to_text, iter_files, parse_document
from tests.pdfgen import make_pdf

CORPUS = Path(__file__).resolve().parent.parent / "corpus"


def test_txt_keeps_the_original_text_and_titles_from_the_first_line() -> None:
    doc = parse_document("notes/a.txt", b"\n\n  Harbour report  \nThe ferry runs daily.\n")
    assert doc.text == "\n\n  Harbour report  \nThe ferry runs daily.\n"
    assert doc.title == "Harbour report"
    assert doc.doc_id == "notes/a.txt"


def test_markdown_is_read_as_text_and_titled_by_its_heading_without_the_marks() -> None:
    doc = parse_document("a.md", b"# Harbour notes\n\nSome *text* here.")
    assert doc.text == "# Harbour notes\n\nSome *text* here." and doc.title == "Harbour notes"


def test_html_keeps_visible_text_only() -> None:
    markup = """<html><head><title>Port news</title><style>p{color:red}</style>
    <script>alert('x')</script></head><body><h1>Ferries</h1><p onclick="evil()">The ferry &amp; the tug
    sail at 9.</p><noscript>enable js</noscript><p>Second&nbsp;paragraph.</p></body></html>"""
    text, title = html_to_text(markup)
    assert title == "Port news"
    assert "alert" not in text and "color" not in text and "enable js" not in text and "evil" not in text
    assert "The ferry & the tug sail at 9." in text
    assert "Ferries" in text and "Second\u00a0paragraph." in text
    doc = parse_document("page.html", markup.encode())
    assert doc.title == "Port news" and doc.text == text


def test_pdf_text_is_extracted() -> None:
    pdf = make_pdf(["Harbour Authority report", "The tug Neptune was built in 1961."])
    doc = parse_document("r.pdf", pdf)
    assert "Harbour Authority report" in doc.text
    assert "The tug Neptune was built in 1961." in doc.text


def test_utf16_with_bom_and_cp1252_fallback() -> None:
    text = "Zürich – café, “quoted”."
    assert parse_document("u.txt", codecs.BOM_UTF16_LE + text.encode("utf-16-le")).text == text
    assert parse_document("w.txt", "Café au lait.".encode("cp1252")).text == "Café au lait."


@pytest.mark.parametrize(
    ("name", "data", "error", "reason"),
    [
        ("empty.txt", b"", IngestError, "empty"),
        ("blank.txt", b"  \n\t ", IngestError, "empty"),
        ("bin.txt", b"\x00\x01\x02binary\x00" * 10, IngestError, "binary"),
        ("image.png", b"\x89PNG\r\n", UnsupportedFileError, "unsupported file type"),
        ("fake.pdf", b"not a pdf at all", IngestError, "not a PDF"),
        ("broken.pdf", b"%PDF-1.4\n1 0 obj << /Type /Catalog >> garbage", IngestError, "PDF"),
        ("fake.docx", b"not a word file", IngestError, "not a .docx"),
    ],
)
def test_unreadable_files_are_refused_with_a_reason(name: str, data: bytes, error: type, reason: str) -> None:
    with pytest.raises(error, match=reason):
        parse_document(name, data)


def test_each_bundled_corpus_file_is_titled_by_its_headline_not_a_metadata_line() -> None:
    for path in sorted(CORPUS.iterdir()):
        doc = parse_document(path.name, path.read_bytes())
        first = next(line.strip() for line in doc.text.splitlines() if line.strip())
        assert 20 <= len(doc.title) <= 151, (path.name, doc.title)
        assert not any(ch.isdigit() for ch in doc.title[:12]), (path.name, doc.title)  # no leading date
        assert first.startswith(doc.title.rstrip("…")) or doc.title.rstrip("…") in first, (path.name, doc.title)
        assert doc.warnings == (), (path.name, doc.warnings)  # English, no pages


def test_pdf_pages_record_where_each_page_begins() -> None:
    doc = parse_document("r.pdf", make_pdf(["First page.", "", "Third page."]))
    assert doc.text == "First page.\n\nThird page."
    # The empty second page keeps its number: it begins where the third does.
    assert doc.pages == (0, 13, 13)
    assert doc.text[doc.pages[2] :].startswith("Third page.")


def test_unpaged_formats_have_no_pages_and_a_docx_is_supported() -> None:
    assert parse_document("a.txt", b"Plain text.").pages == ()
    assert ".docx" in SUPPORTED_SUFFIXES


def test_iter_files_uses_relative_posix_ids_and_skips_hidden(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    (tmp_path / "a.txt").write_text("A.")
    (tmp_path / "sub" / "b.md").write_text("B.")
    (tmp_path / ".hidden.txt").write_text("H.")
    (tmp_path / "c.exe").write_bytes(b"MZ")
    (tmp_path / "d.docx").write_bytes(b"PK")
    assert [doc_id for doc_id, _ in iter_files(tmp_path)] == ["a.txt", "d.docx", "sub/b.md"]
    assert [doc_id for doc_id, _ in iter_files(tmp_path / "a.txt")] == ["a.txt"]
