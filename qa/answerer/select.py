"""Choose the sentences read closely: a learned selector over the measured evidence.

`read.measure` ranks a question's retrieved sentences by a fixed blend of similarity and key-word
coverage, and only the best few are read by the span reader. Read end to end, that blend leaves the
sentence holding the answer out of the four read on about a fifth of Natural Questions and a sixth
of TyDi QA questions (while it is among the retrieved ones on nine in ten). The selector learns, from
collections read end to end (`qa/training/stage2.py`), the probability that each sentence holds the
answer from its evidence, its neighbours' evidence, how it compares with the question's best
sentence and what it states (figures, names), and the answerer reads the most probable ones.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import numpy as np

from qa.answerer.features import SentenceEvidence
from qa.answerer.parsed import ATYPE_CODE, ParsedQuestion
from qa.text import figures, stem, words

SELECT_FEATURES = (
    "sim",
    "coverage",
    "names",
    "passage_share",  # the passage's fused score over the best passage's
    "passage_rank",
    "dense",
    "lexical",
    "blend_rank",  # rank under `read.measure`'s blend
    "sim_vs_best",
    "coverage_vs_best",
    "sim_rank",
    "coverage_rank",
    "words",
    "position",  # where it starts in its document, as a share of the document's length
    "prev_sim",  # the sentence before it (NaN when it was not retrieved)
    "prev_coverage",
    "next_sim",
    "next_coverage",
    "figures",  # how many numbers it states
    "year",  # whether it states a four-digit year
    "new_names",  # capitalised words (not starting it) the question does not have
    "atype",
    "wh",
    "keywords",
    "sentences",  # how many sentences were retrieved
)
SELECT_CATEGORICAL = np.asarray([f in ("atype", "wh") for f in SELECT_FEATURES], dtype=bool)
_YEAR = re.compile(r"\b(1[0-9]|20)\d\d\b")


def _ranks(values: np.ndarray) -> np.ndarray:
    order = np.argsort(-values, kind="stable")
    out = np.empty(len(values), np.float32)
    out[order] = np.arange(len(values), dtype=np.float32)
    return out


def select_matrix(pq: ParsedQuestion, evidence: Sequence[SentenceEvidence], texts: Sequence[str]) -> np.ndarray:
    """One row of `SELECT_FEATURES` per sentence of `evidence` (in its order)."""
    n = len(evidence)
    if not n:
        return np.zeros((0, len(SELECT_FEATURES)), np.float32)
    sim = np.asarray([e.sim for e in evidence], np.float32)
    cov = np.asarray([e.coverage for e in evidence], np.float32)
    best_passage = max(max(e.passage_score for e in evidence), 1e-9)
    at: dict[tuple[int, int], SentenceEvidence] = {(e.doc, e.start): e for e in evidence}
    by_end: dict[tuple[int, int], SentenceEvidence] = {(e.doc, e.end): e for e in evidence}
    rows = []
    for e in evidence:
        text = texts[e.doc]
        sentence = text[e.start : e.end]
        toks = [w for _, _, w in words(sentence)]
        prev = _neighbour_before(by_end, e, text)
        nxt = _neighbour_after(at, e, text)
        new_names = sum(1 for w in toks[1:] if w[:1].isupper() and stem(w) not in pq.stems)
        rows.append(
            [
                e.sim,
                e.coverage,
                e.names,
                e.passage_score / best_passage,
                e.passage_rank,
                e.dense,
                e.lexical,
                e.rank,
                0.0,
                0.0,
                0.0,
                0.0,
                len(toks),
                e.start / max(1, len(text)),
                prev.sim if prev else np.nan,
                prev.coverage if prev else np.nan,
                nxt.sim if nxt else np.nan,
                nxt.coverage if nxt else np.nan,
                len(figures(sentence)),
                float(bool(_YEAR.search(sentence))),
                new_names,
                ATYPE_CODE[pq.atype],
                pq.wh,
                len(pq.keyword_stems),
                n,
            ]
        )
    x = np.asarray(rows, np.float32)
    x[:, SELECT_FEATURES.index("sim_vs_best")] = sim - sim.max()
    x[:, SELECT_FEATURES.index("coverage_vs_best")] = cov - cov.max()
    x[:, SELECT_FEATURES.index("sim_rank")] = _ranks(sim)
    x[:, SELECT_FEATURES.index("coverage_rank")] = _ranks(cov)
    return x


def _neighbour_before(
    by_end: dict[tuple[int, int], SentenceEvidence], e: SentenceEvidence, text: str
) -> SentenceEvidence | None:
    k = e.start
    while k > 0 and text[k - 1].isspace():
        k -= 1
    return by_end.get((e.doc, k))


def _neighbour_after(
    at: dict[tuple[int, int], SentenceEvidence], e: SentenceEvidence, text: str
) -> SentenceEvidence | None:
    k = e.end
    while k < len(text) and text[k].isspace():
        k += 1
    return at.get((e.doc, k))


class SentenceSelector:
    """Orders a question's sentences by the learned probability that they hold its answer."""

    def __init__(self, model: Any) -> None:
        self._model = model

    @property
    def model(self) -> Any:
        return self._model

    def probabilities(
        self, pq: ParsedQuestion, evidence: Sequence[SentenceEvidence], texts: Sequence[str]
    ) -> np.ndarray:
        x = select_matrix(pq, evidence, texts)
        if not len(x):
            return np.zeros(0, np.float64)
        return np.asarray(self._model.predict_proba(x)[:, 1], np.float64)

    def annotate(
        self, pq: ParsedQuestion, evidence: Sequence[SentenceEvidence], texts: Sequence[str]
    ) -> list[SentenceEvidence]:
        """`evidence` in its order, each with its probability (`selected`) and rank (`select_rank`)
        under the selector; its blend `rank`, which the first stage was trained on, stays."""
        p = self.probabilities(pq, evidence, texts)
        rank = _ranks(p)
        return [replace(e, selected=float(p[i]), select_rank=float(rank[i])) for i, e in enumerate(evidence)]


def by_selection(evidence: Sequence[SentenceEvidence]) -> list[SentenceEvidence]:
    """Annotated `evidence` (`SentenceSelector.annotate`), most probable first."""
    return sorted(evidence, key=lambda e: e.select_rank)
