"""Scoring candidates and deciding whether to answer at all.

`Scorer` is the stage's interface: the learned one predicts each candidate's F1 from its features
(gradient-boosted trees); the no-answer model turns the best candidates' evidence into the
probability that the answer is right (F1 >= 0.5), which is what `confidence` reports.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any, Protocol

import numpy as np

from qa.answerer.features import CATEGORICAL, FEATURE_NAMES, matrix
from qa.answerer.read import Reading, Scored

# Question-level evidence the no-answer model reads, from the two best candidates.
NOANSWER_FEATURES = (
    "top",
    "second",
    "margin",
    "reader_vs_null",
    "null_best",
    "sent_sim",
    "sent_cov",
    "sent_names",
    "echo",
    "local",
    "type_fit",
    "k_sentence",
    "words",
    "atype",
    "open_question",
    "best_sim",
    "best_cov",
    "n_good",
)
_IDX = {name: i for i, name in enumerate(FEATURE_NAMES)}


class Scorer(Protocol):
    """Ranks a question's candidates, best first, with a score each."""

    name: str

    def rank(self, reading: Reading) -> list[Scored]: ...


READER_FEATURES = tuple(i for i, n in enumerate(FEATURE_NAMES) if n.startswith("reader") or n in ("null_best",))


def blank_reader(x: np.ndarray) -> np.ndarray:
    """`x` without the reader's feature columns: the feature-only variant never sees them."""
    y: np.ndarray = np.delete(x, list(READER_FEATURES), axis=1)
    return y


def categorical_mask(use_reader: bool) -> np.ndarray:
    """Which columns are categorical, for the matrix with or without the reader's features."""
    mask = np.asarray(CATEGORICAL, dtype=bool)
    return mask if use_reader else np.delete(mask, list(READER_FEATURES))


class LearnedScorer:
    """Candidates ranked by the predicted F1 of the trained trees (with or without the reader's scores)."""

    def __init__(self, model: Any, use_reader: bool = True) -> None:
        self._model = model
        self._use_reader = use_reader
        self.name = "learned" if use_reader else "features"

    def rank(self, reading: Reading) -> list[Scored]:
        if not reading.candidates:
            return []
        x = matrix([c.features for c in reading.candidates])
        if not self._use_reader:
            x = blank_reader(x)
        pred = np.asarray(self._model.predict(x), dtype=np.float64)
        ranked = [replace(c, score=float(p)) for c, p in zip(reading.candidates, pred)]
        ranked.sort(key=lambda c: -c.score)
        return ranked


class ReaderScorer:
    """Baseline without the trees: the reader's own best span (or the best sentence if none)."""

    name = "reader"

    def rank(self, reading: Reading) -> list[Scored]:
        def key(c: Scored) -> float:
            r = c.features.reader
            return r if r == r else -1e9  # NaN (no reader score) sorts last

        ranked = sorted(reading.candidates, key=key, reverse=True)
        return [replace(c, score=key(c)) for c in ranked]


def noanswer_vector(reading: Reading, ranked: Sequence[Scored]) -> list[float]:
    """What the no-answer model reads about a question, from its ranked candidates."""
    if not ranked:
        return [float("nan")] * len(NOANSWER_FEATURES)
    top = ranked[0]
    f = top.features.vector()
    second = ranked[1].score if len(ranked) > 1 else 0.0
    best = reading.sentences[0] if reading.sentences else top.evidence
    return [
        top.score,
        second,
        top.score - second,
        f[_IDX["reader_vs_null"]],
        reading.null_best,
        f[_IDX["sent_sim"]],
        f[_IDX["sent_cov"]],
        f[_IDX["sent_names"]],
        f[_IDX["echo"]],
        f[_IDX["local"]],
        f[_IDX["type_fit"]],
        f[_IDX["k_sentence"]],
        f[_IDX["words"]],
        f[_IDX["atype"]],
        f[_IDX["open_question"]],
        best.sim,
        best.coverage,
        float(sum(1 for c in ranked if c.score >= 0.5)),
    ]


def confidence(noanswer: Any, reading: Reading, ranked: Sequence[Scored]) -> float:
    """P(the top answer is right), from the no-answer model."""
    if not ranked:
        return 0.0
    x = np.asarray([noanswer_vector(reading, ranked)], dtype=np.float32)
    return float(noanswer.predict_proba(x)[0, 1])


SCORERS = ("learned", "features", "reader")


def get_scorer(name: str, model: Any) -> Scorer:
    """The scorer called `name`: "learned" (trees over all features, the reader's included),
    "features" (trees over the parse and evidence features alone) or "reader" (the reader alone).

    Raises:
        ValueError: an unknown name.
    """
    if name == "learned":
        return LearnedScorer(model)
    if name == "features":
        return LearnedScorer(model, use_reader=False)
    if name == "reader":
        return ReaderScorer()
    raise ValueError(f"Unknown scorer {name!r}; use one of {', '.join(SCORERS)}.")
