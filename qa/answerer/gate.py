"""After the second stage: how likely the answer shown is right, and whether the documents answer at all.

The first stage's no-answer model judges the first stage's top candidate, with the paragraph given
and no retrieval; the second stage and `tighten`/`prefer_count` may then show another span, so its
probability can describe an answer the user never sees. The gate reads the span actually shown,
with what the second stage knows (retrieval, agreement between documents), and gives two numbers:

- `confidence`: the calibrated probability that the shown answer is right (F1 >= 0.5 against gold);
- `answerability`: the probability that the documents answer the question at all.

They are different questions. A policy clause or a long "how" answer is often on the right
sentence but rarely matches the gold span (low confidence) while being plainly answerable; an
off-topic question can still get a confident-looking span. Abstaining on answerability keeps the
off-topic and unanswerable questions out without turning away the hard answerable ones
(`qa/training/stage2.py::fit_gate`; the development figures are in the README).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from qa.answerer.rerank import RERANK_CATEGORICAL
from qa.answerer.scorer import NOANSWER_FEATURES

# Read about the shown candidate, before its second-stage row and the first stage's no-answer vector.
GATE_EXTRA = (
    "stage2_score",  # the second stage's predicted F1 for the shown candidate
    "stage2_second",  # the best predicted F1 of any other candidate
    "stage2_margin",  # the difference
    "first_top",  # 1 when the shown candidate is also the first stage's top one
    "stage2_good",  # how many candidates the second stage predicts F1 >= 0.5 for
    "first_confidence",  # the first stage's no-answer probability
)
GATE_WIDTH = len(GATE_EXTRA) + len(RERANK_CATEGORICAL) + len(NOANSWER_FEATURES)


def gate_categorical() -> np.ndarray:
    """Which columns of `gate_vector` are categorical (the candidate's and the question's codes)."""
    mask = np.zeros(GATE_WIDTH, dtype=bool)
    mask[len(GATE_EXTRA) : len(GATE_EXTRA) + len(RERANK_CATEGORICAL)] = RERANK_CATEGORICAL
    mask[len(GATE_EXTRA) + len(RERANK_CATEGORICAL) + NOANSWER_FEATURES.index("atype")] = True
    return mask


def gate_vector(
    rows: np.ndarray, pred: np.ndarray, pick: int, first_confidence: float, noanswer: Sequence[float] | np.ndarray
) -> np.ndarray:
    """What the gate reads: the second stage's `rows` and predictions `pred` (first-stage order), the
    shown candidate's index `pick` among them, the first stage's confidence and no-answer vector."""
    others = np.delete(pred, pick)
    second = float(others.max()) if len(others) else 0.0
    head = [float(pred[pick]), second, float(pred[pick]) - second, float(pick == 0), float((pred >= 0.5).sum())]
    return np.concatenate(
        [np.asarray(head + [first_confidence], np.float64), rows[pick], np.asarray(noanswer, np.float64)]
    ).astype(np.float32)


@dataclass(frozen=True)
class Judgement:
    confidence: float  # P(the shown answer is right)
    answerability: float  # P(the documents answer the question); the abstain threshold applies to it


@dataclass(frozen=True)
class Gate:
    """Two binary classifiers over `gate_vector`: right (F1 >= 0.5) and answerable."""

    right: Any
    answerable: Any

    def judge(self, vector: np.ndarray) -> Judgement:
        x = vector.reshape(1, -1)
        return Judgement(
            float(self.right.predict_proba(x)[0, 1]),
            float(self.answerable.predict_proba(x)[0, 1]),
        )
