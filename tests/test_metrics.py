"""Metric functions against hand-worked examples."""

from __future__ import annotations

import pytest

from qa.metrics import (
    bucket_edges,
    bucket_of,
    citation_is_exact,
    exact_match,
    f1_score,
    first_relevant_rank,
    is_correct,
    mean_or_none,
    normalize_answer,
    percentile,
    recall_at,
    reciprocal_rank,
    sentence_contains_answer,
    threshold_grid,
)


@pytest.mark.parametrize(
    ("raw", "normal"),
    [
        ("The  Quick, brown fox!", "quick brown fox"),
        ("An apple a day", "apple day"),
        ("“ABC” — news…", "abc news"),
        ("47,000 rubles ($780)", "47000 rubles 780"),
        ("Theatre and another", "theatre and another"),  # articles only as whole words
        ("  \n\t ", ""),
    ],
)
def test_normalize_answer(raw: str, normal: str) -> None:
    assert normalize_answer(raw) == normal


def test_exact_match() -> None:
    assert exact_match("the ABC.", ["ABC"]) == 1.0
    assert exact_match("ABC News", ["ABC"]) == 0.0
    assert exact_match("Kherson", ["Kharkiv", "kherson"]) == 1.0  # best over the golds
    assert exact_match(None, ["ABC"]) == 0.0  # an abstention
    assert exact_match("ABC", []) == 0.0


def test_f1_partial_overlaps() -> None:
    # "47000 rubles" against "47000 rubles 780": P = 2/2, R = 2/3, F1 = 2·1·(2/3) / (1 + 2/3) = 0.8
    assert f1_score("47,000 rubles", ["47,000 rubles ($780)"]) == pytest.approx(0.8)
    # Best over the golds: the second gold matches exactly.
    assert f1_score("47,000 rubles", ["47,000 rubles ($780)", "47,000 rubles"]) == 1.0
    # One of three predicted tokens is right, the one gold token is found: P = 1/3, R = 1, F1 = 0.5
    assert f1_score("Declan Foyle, the harbourmaster", ["Foyle"]) == pytest.approx(0.5)
    # Repeated tokens count at most as often as in the other side: common = 1 + 1, P = R = 2/3
    assert f1_score("x x y", ["x y y"]) == pytest.approx(2 / 3)
    assert f1_score("Kharkiv", ["Kherson"]) == 0.0


def test_f1_empty_and_abstention() -> None:
    assert f1_score(None, ["ABC"]) == 0.0  # an abstention scores 0
    assert f1_score("ABC", []) == 0.0
    assert f1_score("the", ["a"]) == 1.0  # both normalise to nothing
    assert f1_score("the", ["ABC"]) == 0.0


def test_ranks_recall_and_mrr() -> None:
    ranked = ["a.txt", "a.txt", "b.txt", "c.txt"]  # documents of ranked passages, duplicates kept
    assert first_relevant_rank(ranked, ["c.txt", "b.txt"]) == 3
    assert first_relevant_rank(ranked, ["z.txt"]) is None
    assert first_relevant_rank([], ["a.txt"]) is None
    assert [recall_at(3, k) for k in (1, 2, 3, 5)] == [0.0, 0.0, 1.0, 1.0]
    assert recall_at(None, 10) == 0.0
    assert reciprocal_rank(1) == 1.0
    assert reciprocal_rank(4) == 0.25
    assert reciprocal_rank(None) == 0.0
    # MRR over three questions ranked 1, 2 and not at all: (1 + 1/2 + 0) / 3 = 0.5
    assert mean_or_none([reciprocal_rank(r) for r in (1, 2, None)]) == pytest.approx(0.5)


def test_percentile_nearest_rank() -> None:
    ten = [10 - i for i in range(10)]  # 10, 9, …, 1: order must not matter
    assert percentile(ten, 50) == 5.0  # ceil(0.5·10) = 5th smallest
    assert percentile(ten, 95) == 10.0  # ceil(9.5) = 10th
    assert percentile(list(range(1, 21)), 95) == 19.0  # exactly 19th, not 20th
    assert percentile(list(range(1, 101)), 95) == 95.0
    assert percentile([4, 1, 3, 2], 50) == 2.0
    assert percentile([7.5], 95) == 7.5
    assert percentile([3, 1, 2], 0) == 1.0
    assert percentile([3, 1, 2], 100) == 3.0
    assert percentile([], 50) == 0.0


def test_mean_or_none() -> None:
    assert mean_or_none([]) is None  # no denominator
    assert mean_or_none([1.0, 0.0, 0.0, 1.0]) == 0.5


def test_citation_is_exact() -> None:
    text = "Kirby spoke on ABC on Sunday."
    assert citation_is_exact(text, 15, 18, "ABC")
    assert not citation_is_exact(text, 14, 18, "ABC")
    assert not citation_is_exact(text, 27, 40, "y.")  # offsets past the end
    assert not citation_is_exact(text, 5, 3, "")


def test_is_correct() -> None:
    assert is_correct(answerable=True, abstained=False, f1=0.5)
    assert not is_correct(answerable=True, abstained=False, f1=0.49)
    assert not is_correct(answerable=True, abstained=True, f1=0.0)
    assert is_correct(answerable=False, abstained=True, f1=0.0)
    assert not is_correct(answerable=False, abstained=False, f1=0.0)


def test_threshold_grid_and_buckets() -> None:
    grid = threshold_grid(0.05)
    assert len(grid) == 21 and grid[0] == 0.0 and grid[-1] == 1.0
    assert 0.35 in grid  # exactly, so the current threshold's row is found
    edges = bucket_edges(0.2)
    assert edges[0] == (0.0, 0.2) and edges[-1] == (0.8, 1.0) and len(edges) == 5
    assert bucket_of(0.0, edges) == 0
    assert bucket_of(0.1999, edges) == 0
    assert bucket_of(0.2, edges) == 1  # half-open: [0.2, 0.4)
    assert bucket_of(1.0, edges) == 4  # the last bucket is closed


def test_sentence_contains_answer() -> None:
    sentence = "Palyuga was fined 47,000 rubles ($780) by the court."
    assert sentence_contains_answer(sentence, ["47,000 rubles"])
    assert sentence_contains_answer(sentence, ["47000 Rubles"])  # both sides normalised
    assert sentence_contains_answer(sentence, ["The court"])  # articles dropped on both sides
    assert sentence_contains_answer(sentence, ["Kirby", "$780"])  # any gold answer will do
    assert not sentence_contains_answer(sentence, ["52,000 rubles"])
    assert not sentence_contains_answer(sentence, ["rubles court"])  # a substring, not a bag of words
    assert not sentence_contains_answer(sentence, ["The", "..."])  # normalises to nothing: no free match
    assert not sentence_contains_answer(None, ["rubles"])  # no citation
    assert not sentence_contains_answer(sentence, [])
    # Plain substring of the normalised texts, as specified: no word boundaries.
    assert sentence_contains_answer("The annual report.", ["Ann"])
