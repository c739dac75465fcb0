"""Saved web pages keep the article and lose the navigation, banners, link lists and footer."""

from __future__ import annotations

from pathlib import Path

from qa.ingest import parse_document
from qa.ingest.html import page_title

SAVED = Path(__file__).resolve().parent / "data" / "saved_article.html"


def test_a_saved_article_keeps_its_sentences_and_drops_the_boilerplate() -> None:
    doc = parse_document("saved_article.html", SAVED.read_bytes())
    for sentence in (
        "The harbour at Port Elsworth reopened to shipping on Monday, six weeks after a winter storm tore away part "
        "of the eastern breakwater.",
        "Skippers said the extra two hours of sailing each day had added noticeably to their fuel bills.",
        "A full survey of the western breakwater is planned for the summer.",
    ):
        assert sentence in doc.text
    for boilerplate in ("cookies", "Subscribe", "Related stories", "Fuel prices squeeze", "newsletter", "Privacy"):
        assert boilerplate not in doc.text, boilerplate
    assert doc.title == "Harbour reopens after storm repairs"  # the <h1>, not "... | The Coastal Courier"


def test_headings_of_a_saved_article_are_paragraphs_of_their_own() -> None:
    doc = parse_document("saved_article.html", SAVED.read_bytes())
    assert "\n\nFishing fleet returns\n\n" in doc.text
    assert doc.text.startswith("Harbour reopens after storm repairs\n\n")


def test_a_short_fragment_keeps_all_its_visible_text() -> None:
    doc = parse_document("f.html", b"<p>The ferry leaves at nine.</p><ul><li>Tickets at the pier.</li></ul>")
    assert doc.text == "The ferry leaves at nine.\n\nTickets at the pier."


def test_page_titles_lose_their_site_name() -> None:
    assert page_title("Configuring backups — Ledgerly documentation", []) == "Configuring backups"
    assert page_title("Sourdough at altitude - Crumb & Crust blog", [("h2", "Sourdough at altitude")]) == (
        "Sourdough at altitude"
    )
    assert page_title("Site | Section | The article", [("h1", "The article")]) == "The article"
    assert page_title("", [("h2", "Minor"), ("h1", "Main heading")]) == "Main heading"
    assert page_title("Port news", [("h1", "Ferries")]) == "Port news"
