"""Titles are the first headline-like line: never a date, byline, URL or `key: value` line."""

from __future__ import annotations

import pytest

from qa.ingest import parse_document
from qa.ingest.titles import MAX_TITLE_CHARS, declared_title, headline, markdown_title

STORM = "Storm warning: all ferries stay in port until the wind drops"
PIER = "Mr. Reyes said the pier was rebuilt in 1987 by the county council"


@pytest.mark.parametrize(
    ("text", "title"),
    [
        ("Posted: 3 May 2021\nBy Jane Smith\nhttps://example.org/story\n\nFerries return\n", "Ferries return"),
        ("12 September 2022, 10:30 am\n- 3 -\nThe storm season ends early\n", "The storm season ends early"),
        ("updated 2023-01-05 The board approved the budget. It rises by 4%.", "The board approved the budget"),
        ("Title: Annual pilot report\nAuthor: Tomas Reyes\n\nText.", "Annual pilot report"),
        (STORM + "\n", STORM),
        (PIER + ". Work took a year.", PIER),
    ],
)
def test_headline_skips_metadata_lines(text: str, title: str) -> None:
    assert headline(text) == title


def test_a_long_first_sentence_is_cut_at_a_clause_or_a_word() -> None:
    clause = "The harbour board, meeting for the first time since the storm that closed the port for six weeks"
    long = clause + ", agreed to rebuild the eastern breakwater with larger blocks and to survey the western one too."
    assert headline(long) == clause
    words = " ".join(["breakwater"] * 40)
    cut = headline(words)
    assert len(cut) <= MAX_TITLE_CHARS + 1 and cut.endswith("…") and not cut[:-1].endswith(" ")


def test_markdown_titles_come_from_headings_and_front_matter() -> None:
    assert markdown_title("---\ntitle: Pilot notes\ndate: 2021-01-01\n---\n\nBody.") == "Pilot notes"
    assert markdown_title("Harbour log\n===========\n\nBody.") == "Harbour log"
    assert markdown_title("Intro paragraph.\n\n# The real title\n\n## Section") == "The real title"
    assert markdown_title("Just text.") == ""


@pytest.mark.parametrize(
    "junk",
    ["Untitled", "Microsoft Word - report_final.docx", "scan0001.pdf", "C:\\docs\\a b.doc", "/home/ann/scan", ""],
)
def test_junk_metadata_titles_are_ignored(junk: str) -> None:
    assert declared_title(junk) == ""


def test_a_real_metadata_title_is_kept() -> None:
    assert declared_title("  Annual Harbour Report 2023 ") == "Annual Harbour Report 2023"
    assert declared_title("AC/DC at the harbour festival") == "AC/DC at the harbour festival"


def test_a_file_with_no_headline_is_titled_by_its_name() -> None:
    assert parse_document("notes/12.txt", b"2021-03-04\n\n12:30\n").title == "notes/12.txt"
