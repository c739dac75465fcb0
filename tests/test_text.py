"""Word normalisation: transliterated name variants share a skeleton, stems match word forms."""

from __future__ import annotations

import pytest

from qa.text import figures, query_terms, skeleton, stem


@pytest.mark.parametrize(
    "variants",
    [
        ("Thorstrom", "Torstrom", "Torstrem", "Thorström"),
        ("Palyuga", "Palyug", "Paliuga"),
        ("Dmitry", "Dmytro", "Dmitri", "Dmitrii"),
        ("Kharkiv", "Kharkov", "Harkiv"),
        ("Ksenia", "Xenia", "Kseniya"),
        ("Izium", "Izyum"),
        ("Gallyamov", "Galyamov", "Gallyamow"),
        ("Smolninsky", "Smolninskoye", "Smolninskiy"),
        ("Yuferev", "Yuferyev", "Juferev"),
    ],
)
def test_transliteration_variants_share_a_skeleton(variants: tuple[str, ...]) -> None:
    assert len({skeleton(v) for v in variants}) == 1


def test_different_names_keep_different_skeletons() -> None:
    assert skeleton("Palyuga") != skeleton("Putin")
    assert skeleton("Moscow") != skeleton("Minsk")


def test_stems_match_word_forms() -> None:
    assert stem("fined") == stem("fines") == stem("fine")
    assert stem("councillors") == stem("councillor")
    assert stem("Putin’s") == stem("Putin")


def test_query_terms_drop_stop_words_and_add_skeletons() -> None:
    terms = query_terms("How much was Torstrem fined?")
    assert "how" not in terms and "was" not in terms
    assert "fine" in terms and "~" + skeleton("Thorstrom") in terms


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Eighteen municipal deputies", ["18"]),
        ("18 municipal deputies", ["18"]),
        ("about 1,250 people", ["1250"]),
        ("Forty-seven officials", ["47"]),
        ("one hundred and five votes", ["105"]),
        ("twenty-five thousand signatures", ["25000"]),
        ("£14.2 million", ["14200000"]),
        ("about 340 people, not 410.", ["340", "410"]),
        ("no one signed it", []),
        ("the petition", []),
    ],
)
def test_figures_are_the_numbers_a_text_states_as_digits(text: str, expected: list[str]) -> None:
    assert figures(text) == expected
