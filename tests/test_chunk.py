"""Sentence splitting and passages: exact offsets, abbreviations, quotes, long sentences."""

from __future__ import annotations

from pathlib import Path

import pytest

from qa.chunk import approx_tokens, make_passages, split_sentences

CORPUS = Path(__file__).resolve().parent.parent / "corpus"


def texts(text: str) -> list[str]:
    return [text[s.start : s.end] for s in split_sentences(text)]


def test_abbreviations_do_not_end_sentences() -> None:
    text = "Mr. Smith moved to St. Petersburg in the U.S. era. Dr. Jones stayed. He left at 5 p.m. on Friday."
    assert texts(text) == [
        "Mr. Smith moved to St. Petersburg in the U.S. era.",
        "Dr. Jones stayed.",
        "He left at 5 p.m. on Friday.",
    ]


def test_quotes_stay_with_their_sentence() -> None:
    text = "“We demand his resignation.” The letter was short. She said “no.” Then she left."
    assert texts(text) == ["“We demand his resignation.”", "The letter was short.", "She said “no.”", "Then she left."]


def test_headlines_without_periods_split_at_blank_lines() -> None:
    text = "A headline with no period\n\nThe body starts here. It goes on."
    assert texts(text) == ["A headline with no period", "The body starts here.", "It goes on."]


def test_initials_and_decimals() -> None:
    text = "J. R. Tolkien wrote it. The price rose 3.5 percent."
    assert texts(text) == ["J. R. Tolkien wrote it.", "The price rose 3.5 percent."]


@pytest.mark.parametrize("path", sorted(CORPUS.glob("*.txt")), ids=lambda p: p.name[:3])
def test_corpus_offsets_are_exact_and_cover_the_text(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    sents = split_sentences(text)
    covered = "".join(text[s.start : s.end] for s in sents)
    assert "".join(text.split()) == "".join(covered.split())  # nothing lost but white space
    passages = make_passages(path.name, text, sents)
    for p in passages:
        assert p.text == text[p.start : p.end]
        assert approx_tokens(p.text) <= 200
    # Overlap: consecutive passages share text, and together they cover every sentence.
    for a, b in zip(passages, passages[1:]):
        assert b.start < a.end
    assert passages[0].start == sents[0].start and passages[-1].end == sents[-1].end


def test_a_huge_sentence_is_cut_into_passages_under_the_limit() -> None:
    text = "word " * 5000 + "end."
    passages = make_passages("big", text, split_sentences(text), max_tokens=100)
    assert len(passages) > 10
    assert all(approx_tokens(p.text) <= 100 and p.text == text[p.start : p.end] for p in passages)
    assert passages[-1].text.endswith("end.")


def test_empty_and_whitespace_text() -> None:
    assert split_sentences("") == []
    assert split_sentences(" \n\t ") == []
    assert make_passages("x", "", []) == []
