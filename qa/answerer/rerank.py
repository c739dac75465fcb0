"""The second stage: re-rank the scorer's best candidates with what only a real retrieval shows.

The scorer learns from tiny collections (a paragraph or two, no retrieval step), so it never sees
how far down the retrieved list a candidate's passage came, how the passages' scores compare, or
whether other documents give the same answer. This stage does: it is trained on collections read
end to end, the way a user's folder is (`qa/training/stage2.py`: training-split articles ingested
into their own indexes, retrieved, read and scored by the first stage), and it predicts each of
the top candidates' F1 again from the first stage's features plus those.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import numpy as np

from qa.answerer.features import CATEGORICAL, matrix
from qa.answerer.read import Scored
from qa.metrics import normalize_answer

# How many of the first stage's candidates are re-ranked (the answer is grouped from the top 40).
DEPTH = 40
RERANK_EXTRA = (
    "score",  # the first stage's predicted F1
    "score_vs_top",  # minus the first stage's best
    "scorer_rank",  # its rank under the first stage
    "passage_rank",  # retrieval rank of the passage it came from
    "passage_share",  # the passage's fused score over the best passage's
    "dense",
    "lexical",
    "sent_rank",  # its sentence's rank among the sentences read
    "sim",
    "coverage",
    "same_doc_as_top",  # from the first stage's top candidate's document
    "agree",  # how many of the top candidates have the same normalised text
    "agree_score",  # their first-stage scores summed
    "doc_rank",  # best retrieval rank of any passage of its document among the candidates
    # Added with the sentence selector (`select.py`; NaN without one). A re-ranker fitted before
    # them reads the columns up to "doc_rank" (`Reranker(width=...)`).
    "select_p",  # the selector's probability that its sentence holds the answer
    "select_rank",  # its sentence's rank under the selector
)
RERANK_BASE = RERANK_EXTRA[: RERANK_EXTRA.index("doc_rank") + 1]
RERANK_CATEGORICAL = np.asarray(list(CATEGORICAL) + [False] * len(RERANK_EXTRA), dtype=bool)


def rerank_matrix(ranked: Sequence[Scored], texts: Sequence[str]) -> np.ndarray:
    """One row per candidate of `ranked` (best first, at most `DEPTH`): its features, then `RERANK_EXTRA`."""
    top = list(ranked[:DEPTH])
    if not top:
        return np.zeros((0, len(CATEGORICAL) + len(RERANK_EXTRA)), np.float32)
    score = np.asarray([s.score for s in top], np.float64)
    ev = [s.evidence for s in top]
    best_passage = max(max(e.passage_score for e in ev), 1e-9)
    docs = [s.cand.doc for s in top]
    doc_rank: dict[int, int] = {}
    for d, e in zip(docs, ev):
        doc_rank[d] = min(doc_rank.get(d, 1 << 30), e.passage_rank)
    keys = [normalize_answer(texts[s.cand.doc][s.cand.start : s.cand.end]) for s in top]
    count: dict[str, int] = {}
    total: dict[str, float] = {}
    for k, sc in zip(keys, score):
        count[k] = count.get(k, 0) + 1
        total[k] = total.get(k, 0.0) + float(sc)
    extra = np.column_stack(
        [
            score,
            score - score[0],
            np.arange(len(top), dtype=np.float64),
            [e.passage_rank for e in ev],
            [e.passage_score / best_passage for e in ev],
            [e.dense for e in ev],
            [e.lexical for e in ev],
            [e.rank for e in ev],
            [e.sim for e in ev],
            [e.coverage for e in ev],
            [float(d == docs[0]) for d in docs],
            [count[k] for k in keys],
            [total[k] for k in keys],
            [doc_rank[d] for d in docs],
            [e.selected for e in ev],
            [e.select_rank for e in ev],
        ]
    )
    return np.hstack([matrix([s.features for s in top]), extra.astype(np.float32)]).astype(np.float32)


class Reranker:
    """The top `DEPTH` candidates in the second stage's order, each scored with its prediction."""

    def __init__(self, model: Any, width: int | None = None) -> None:
        self._model = model
        self._width = width  # the columns of `rerank_matrix` it was fitted on (None: all)

    @property
    def model(self) -> Any:
        """The fitted trees, which predict F1 from `rerank_matrix` rows."""
        return self._model

    def predict(self, ranked: Sequence[Scored], texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """(`rerank_matrix` of `ranked`, the predicted F1 of each of its rows), in the first stage's order."""
        rows = rerank_matrix(ranked, texts)
        if not len(rows):
            return rows, np.zeros(0, np.float64)
        return rows, np.asarray(self._model.predict(rows[:, : self._width]), dtype=np.float64)

    def rerank(self, ranked: Sequence[Scored], texts: Sequence[str]) -> list[Scored]:
        return reorder(ranked, self.predict(ranked, texts)[1])


def reorder(ranked: Sequence[Scored], pred: np.ndarray) -> list[Scored]:
    """The top `len(pred)` of `ranked` sorted by `pred` (each scored with it), the rest after them."""
    if not ranked:
        return []
    head = [replace(s, score=float(p)) for s, p in zip(ranked[: len(pred)], pred)]
    head.sort(key=lambda s: -s.score)
    return head + list(ranked[len(pred) :])
