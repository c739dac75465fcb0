"""Word .docx files: text, headings and tables in reading order; damaged or locked files refused."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest

from qa.config import Settings
from qa.errors import IngestError
from qa.indexer import update_index
from qa.ingest import docx as docx_reader
from qa.ingest import parse_document
from tests.fakes import FakeEmbedder


def make_docx(title: str | None = None) -> bytes:
    import docx

    document = docx.Document()
    if title is not None:
        document.core_properties.title = title
    document.add_paragraph("Prepared for the harbour board.")
    document.add_heading("Harbour tides", level=1)
    document.add_paragraph("High water is at noon.")
    table = document.add_table(rows=2, cols=2)
    for r, row in enumerate([("Berth", "Depth"), ("North quay", "9 m")]):
        for c, value in enumerate(row):
            table.cell(r, c).text = value
    document.add_paragraph("The pilot boards at the outer buoy.")
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def test_paragraphs_headings_and_tables_come_in_reading_order() -> None:
    doc = parse_document("tides.docx", make_docx())
    assert doc.text == (
        "Prepared for the harbour board.\n\nHarbour tides\n\nHigh water is at noon.\n\n"
        "Berth | Depth\nNorth quay | 9 m\n\nThe pilot boards at the outer buoy."
    )
    assert doc.title == "Harbour tides"  # the first heading, not the first paragraph
    assert doc.pages == ()


def test_a_merged_cell_is_read_once() -> None:
    import docx

    document = docx.Document()
    table = document.add_table(rows=2, cols=3)
    table.cell(0, 0).merge(table.cell(0, 2)).text = "Tide times at the north quay"
    for c, value in enumerate(["06:10", "12:25", "18:40"]):
        table.cell(1, c).text = value
    out = io.BytesIO()
    document.save(out)
    assert parse_document("t.docx", out.getvalue()).text == "Tide times at the north quay\n06:10 | 12:25 | 18:40"


def test_the_core_properties_title_wins_unless_it_is_junk() -> None:
    assert parse_document("a.docx", make_docx(title="Tide tables 2024")).title == "Tide tables 2024"
    assert parse_document("b.docx", make_docx(title="Document1")).title == "Harbour tides"


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 500 + "EncryptedPackage".encode("utf-16-le"), "password"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 500, r"97-2003 \(\.doc\)"),
        (b"PK\x03\x04" + b"\0" * 100, "damaged"),
        (b"just text", "not a .docx"),
    ],
)
def test_locked_legacy_and_damaged_files_are_refused_with_the_reason(data: bytes, reason: str) -> None:
    with pytest.raises(IngestError, match=reason):
        parse_document("locked.docx", data)


def test_a_truncated_docx_is_refused() -> None:
    data = make_docx()
    with pytest.raises(IngestError, match="docx"):
        parse_document("cut.docx", data[: len(data) // 2])


def test_a_zip_bomb_is_refused_from_its_directory(monkeypatch: pytest.MonkeyPatch) -> None:
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(make_docx())) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            dst.writestr(item, src.read(item))
        dst.writestr("word/media/filler.bin", b"\0" * 2_000_000)
    assert len(out.getvalue()) < 100_000
    monkeypatch.setattr(docx_reader, "MAX_DOCX_EXPANDED_BYTES", 1_000_000)
    with pytest.raises(IngestError, match="expands to"):
        parse_document("bomb.docx", out.getvalue())


def test_a_bad_docx_in_a_folder_is_skipped_and_the_rest_ingested(tmp_path: Path) -> None:
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "good.docx").write_bytes(make_docx())
    (folder / "bad.docx").write_bytes(b"PK\x03\x04broken")
    report = update_index(Settings(index_dir=tmp_path / "ix"), FakeEmbedder(), roots=[folder], warn=lambda m: None)
    assert report.added == ["good.docx"]
    assert [(Path(p).name, "damaged" in why) for p, why in report.skipped] == [("bad.docx", True)]
