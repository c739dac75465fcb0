"""A document not in English is ingested with a warning; English text gets none."""

from __future__ import annotations

from qa.ingest import parse_document
from qa.ingest.language import language_warning

GERMAN = (
    "Der Hafen von Kiel wurde am Montag nach sechs Wochen wieder für den Schiffsverkehr geöffnet. "
    "Ingenieure hatten mehr als vierhundert Betonblöcke entlang der beschädigten Mole ersetzt und oft "
    "nachts gearbeitet, wenn die Gezeiten es erlaubten. Die Fischer sagten, die zusätzlichen zwei Stunden "
    "Fahrt jeden Tag hätten ihre Treibstoffkosten deutlich erhöht."
)
FRENCH = (
    "Le port de Brest a rouvert lundi à la navigation, six semaines après qu'une tempête d'hiver a arraché "
    "une partie de la digue est. Les ingénieurs ont remplacé plus de quatre cents blocs de béton le long de "
    "la section endommagée, en travaillant la nuit lorsque les marées le permettaient. Les pêcheurs disent "
    "que les deux heures de navigation supplémentaires ont fait grimper leurs factures de carburant."
)
ENGLISH = (
    "The harbour at Port Elsworth reopened to shipping on Monday, six weeks after a winter storm tore away "
    "part of the eastern breakwater. Engineers replaced more than four hundred concrete blocks along the "
    "damaged section, working through the night when the tides allowed. Skippers said the extra two hours "
    "of sailing each day had added noticeably to their fuel bills."
)


def test_german_and_french_documents_get_a_warning_naming_the_language() -> None:
    doc = parse_document("hafen.txt", GERMAN.encode())
    assert doc.warnings == (
        "looks like German (de), not English: docqa's models read English only, so answers may be poor.",
    )
    warning = language_warning(FRENCH)
    assert warning is not None and warning.startswith("looks like French (fr), not English")


def test_english_and_short_texts_get_no_warning() -> None:
    assert parse_document("harbour.txt", ENGLISH.encode()).warnings == ()
    assert language_warning("Der Hafen ist offen.") is None  # too few letters to tell


def test_the_verdict_is_the_same_every_time() -> None:
    assert len({language_warning(FRENCH) for _ in range(5)}) == 1
