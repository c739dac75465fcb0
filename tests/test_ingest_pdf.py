"""PDFs as they come: page starts, running headers, hyphens, scanned pages with and without OCR."""

from __future__ import annotations

import shutil

import pytest

from qa.errors import IngestError
from qa.ingest import ocr, parse_document
from tests.pdfgen import make_pdf, text_image

HAS_OCR = ocr.find_tools() is not None

REPORT = [
    "Port Authority Annual Report\nThe harbour handled more cargo than in any year before.\nThe inter-\nnational "
    "terminal opened in May.\nPage 1 of 3",
    "Port Authority Annual Report\nDredging of the channel finished in the autumn.\nPage 2 of 3",
    "Port Authority Annual Report\nThe board thanks the pilots for a safe year.\nPage 3 of 3",
]


def test_a_report_loses_its_running_header_page_numbers_and_line_end_hyphen() -> None:
    doc = parse_document("report.pdf", make_pdf(REPORT))
    assert doc.text.count("Port Authority Annual Report") == 0
    assert "Page" not in doc.text
    assert "The international terminal opened in May." in doc.text.replace("\n", " ")
    # Page starts point into the cleaned text.
    assert [doc.text[s:].split("\n")[0] for s in doc.pages] == [
        "The harbour handled more cargo than in any year before.",
        "Dredging of the channel finished in the autumn.",
        "The board thanks the pilots for a safe year.",
    ]
    assert doc.title == "The harbour handled more cargo than in any year before"


def test_a_metadata_title_is_used_unless_it_is_junk() -> None:
    assert parse_document("a.pdf", make_pdf(["Some text here."], title="Pilotage rules 2024")).title == (
        "Pilotage rules 2024"
    )
    assert parse_document("b.pdf", make_pdf(["Harbour rules", "x"], title="Microsoft Word - rules.docx")).title == (
        "Harbour rules"
    )


def scanned_pdf() -> bytes:
    scan = text_image(["The scanned page says the pier", "was rebuilt in 1987 by the council."])
    return make_pdf(["Harbour history", scan])


@pytest.mark.skipif(
    not HAS_OCR, reason="tesseract and pdftoppm are not installed (apt-get install tesseract-ocr poppler-utils)"
)
def test_a_scanned_page_is_read_by_ocr() -> None:
    doc = parse_document("scan.pdf", scanned_pdf())
    assert "rebuilt in 1987" in doc.text
    assert doc.warnings == ("page 2 was read by OCR",)
    assert doc.text[doc.pages[1] :].startswith("The scanned page")


def test_without_ocr_a_scanned_page_is_reported_not_silently_empty(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(shutil, "which", lambda name: None)
    doc = parse_document("scan.pdf", scanned_pdf())
    assert doc.text == "Harbour history" and doc.pages == (0, len(doc.text))
    assert doc.warnings == ("page 2 has no text layer (install tesseract-ocr and poppler-utils to read scanned pages)",)


def test_a_pdf_of_only_scans_without_ocr_is_refused_saying_why(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", "/nonexistent")
    scan = text_image(["Only a picture of text."])
    with pytest.raises(IngestError, match=r"no text found.*pages 1, 2 have no text layer.*tesseract-ocr"):
        parse_document("scans.pdf", make_pdf([scan, scan]))


def test_a_blank_page_is_not_called_a_scan() -> None:
    doc = parse_document("blank.pdf", make_pdf(["Text.", ""]))
    assert doc.warnings == () and doc.pages == (0, len(doc.text))


def test_an_ocr_program_that_fails_leaves_a_warning_not_an_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ocr, "find_tools", lambda: ("/bin/false", "/bin/false"))
    doc = parse_document("scan.pdf", scanned_pdf())
    assert doc.text == "Harbour history"
    assert doc.warnings == ("page 2 has no text layer and could not be read by OCR (false failed (exit code 1))",)
