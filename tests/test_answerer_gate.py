"""The gate's reading of the shown answer: what it is given, in which columns."""

from __future__ import annotations

import numpy as np

from qa.answerer.gate import GATE_EXTRA, GATE_WIDTH, Gate, gate_categorical, gate_vector
from qa.answerer.rerank import RERANK_CATEGORICAL
from qa.answerer.scorer import NOANSWER_FEATURES


def _rows(n: int) -> np.ndarray:
    return np.arange(n * len(RERANK_CATEGORICAL), dtype=np.float32).reshape(n, -1)


def test_the_vector_describes_the_shown_candidate_not_the_first_stages_top() -> None:
    rows, pred = _rows(3), np.asarray([0.2, 0.9, 0.6])
    na = np.linspace(0, 1, len(NOANSWER_FEATURES))
    v = gate_vector(rows, pred, 1, 0.33, na)
    assert v.shape == (GATE_WIDTH,)
    head = dict(zip(GATE_EXTRA, v[: len(GATE_EXTRA)].tolist()))
    assert head["stage2_score"] == np.float32(0.9) and head["stage2_second"] == np.float32(0.6)
    assert np.isclose(head["stage2_margin"], 0.3) and head["first_top"] == 0.0
    assert head["stage2_good"] == 2.0 and np.isclose(head["first_confidence"], 0.33)
    assert np.array_equal(v[len(GATE_EXTRA) : len(GATE_EXTRA) + rows.shape[1]], rows[1])
    assert np.allclose(v[-len(NOANSWER_FEATURES) :], na)
    # A span shown below the second stage's best (tighten, prefer_count) has a negative margin.
    low = gate_vector(rows, pred, 0, 0.33, na)
    assert low[GATE_EXTRA.index("stage2_margin")] < 0 and low[GATE_EXTRA.index("first_top")] == 1.0


def test_one_candidate_has_no_rival() -> None:
    v = gate_vector(_rows(1), np.asarray([0.4]), 0, 0.5, np.zeros(len(NOANSWER_FEATURES)))
    assert v[GATE_EXTRA.index("stage2_second")] == 0.0 and np.isclose(v[GATE_EXTRA.index("stage2_margin")], 0.4)


def test_categorical_columns_are_the_candidate_codes_and_the_answer_type() -> None:
    mask = gate_categorical()
    assert mask.shape == (GATE_WIDTH,) and not mask[: len(GATE_EXTRA)].any()
    assert mask.sum() == RERANK_CATEGORICAL.sum() + 1
    assert mask[len(GATE_EXTRA) + len(RERANK_CATEGORICAL) + NOANSWER_FEATURES.index("atype")]


class _Fixed:
    def __init__(self, p: float) -> None:
        self.p = p

    def predict_proba(self, x: np.ndarray) -> np.ndarray:
        assert x.shape == (1, GATE_WIDTH)
        return np.asarray([[1 - self.p, self.p]])


def test_judge_gives_confidence_and_answerability_apart() -> None:
    j = Gate(_Fixed(0.1), _Fixed(0.8)).judge(np.zeros(GATE_WIDTH, np.float32))
    assert (j.confidence, j.answerability) == (0.1, 0.8)
