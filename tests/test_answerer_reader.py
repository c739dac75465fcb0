"""The reader's span arithmetic on hand-made logits (no model): offsets, bounds, end >= start."""

from __future__ import annotations

import numpy as np

from qa.answerer.reader import MAX_SPAN_TOKENS, Window, WindowScores

TEXT = "Anna Berg works for the Harbour Authority in Gdansk."
# Token offsets of a word-level tokenisation of TEXT, as document offsets (window starts at 100).
WORDS = [(0, 4), (5, 9), (10, 15), (16, 19), (20, 23), (24, 31), (32, 41), (42, 44), (45, 51), (51, 52)]


def _scores(start_best: int, end_best: int) -> WindowScores:
    n = len(WORDS)
    s = np.full(n, -5.0, dtype=np.float32)
    e = np.full(n, -5.0, dtype=np.float32)
    s[start_best] = 4.0
    e[end_best] = 3.0
    ts = np.asarray([a + 100 for a, _ in WORDS])
    te = np.asarray([b + 100 for _, b in WORDS])
    return WindowScores(Window(0, 100, 100 + len(TEXT), TEXT), s, e, ts, te, null=1.0)


def test_best_span_maps_tokens_to_document_offsets() -> None:
    ws = _scores(5, 6)  # "Harbour Authority"
    best = ws.best_spans(1, [(100, 100 + len(TEXT))])[0]
    assert TEXT[best.start - 100 : best.end - 100] == "Harbour Authority"
    assert best.score == 7.0


def test_spans_respect_bounds_order_and_length() -> None:
    ws = _scores(8, 1)  # the best end lies before the best start: never paired
    for sp in ws.best_spans(10, [(100, 100 + len(TEXT))]):
        assert sp.end > sp.start
    assert all(sp.end <= 100 + 23 for sp in ws.best_spans(10, [(100, 100 + 23)]))
    assert MAX_SPAN_TOKENS >= 10


def test_any_character_span_gets_the_reader_score_of_its_tokens() -> None:
    ws = _scores(5, 6)
    assert ws.span_score(124, 141) == 7.0  # exactly "Harbour Authority"
    assert ws.span_score(10, 20) is None  # outside the window
