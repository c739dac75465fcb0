"""The second stage: what it adds to each candidate, and that it re-orders the answer by its own scores."""

from __future__ import annotations

import numpy as np

from qa.answerer.candidates import Candidate, Kind
from qa.answerer.features import FEATURE_NAMES, CandidateFeatures, SentenceEvidence
from qa.answerer.read import Scored
from qa.answerer.rerank import DEPTH, RERANK_CATEGORICAL, RERANK_EXTRA, Reranker, rerank_matrix

DOCS = ["Paris is the capital of France.", "The capital of France is Paris, a city on the Seine.", "Lyon is big."]


def _scored(doc: int, word: str, score: float, passage_rank: int, passage_score: float) -> Scored:
    text = DOCS[doc]
    a = text.index(word)
    cand = Candidate(doc, a, a + len(word), 0, len(text), int(Kind.ENTITY))
    ev = SentenceEvidence(doc, 0, len(text), 0.6, 0.8, 1.0, passage_score, passage_rank, 0.5, 3.0)
    return Scored(cand, CandidateFeatures(*[0.5] * len(FEATURE_NAMES)), ev, score)


def _ranked() -> list[Scored]:
    return [
        _scored(2, "Lyon", 0.7, passage_rank=2, passage_score=0.01),
        _scored(0, "Paris", 0.6, passage_rank=0, passage_score=0.04),
        _scored(1, "Paris", 0.5, passage_rank=1, passage_score=0.02),
    ]


def _extra(x: np.ndarray, name: str) -> list[float]:
    return [float(v) for v in x[:, len(FEATURE_NAMES) + RERANK_EXTRA.index(name)]]


def test_each_candidate_gets_its_retrieval_and_agreement_evidence() -> None:
    x = rerank_matrix(_ranked(), DOCS)
    assert x.shape == (3, len(FEATURE_NAMES) + len(RERANK_EXTRA)) == (3, len(RERANK_CATEGORICAL))
    assert _extra(x, "scorer_rank") == [0.0, 1.0, 2.0]
    assert _extra(x, "passage_rank") == [2.0, 0.0, 1.0]
    assert _extra(x, "passage_share") == [0.25, 1.0, 0.5]  # over the best passage's score
    assert _extra(x, "agree") == [1.0, 2.0, 2.0]  # two documents give "Paris"
    assert np.allclose(_extra(x, "agree_score"), [0.7, 1.1, 1.1])
    assert np.allclose(_extra(x, "score_vs_top"), [0.0, -0.1, -0.2])
    assert _extra(x, "same_doc_as_top") == [1.0, 0.0, 0.0]


class _ByPassageRank:
    """A fake second stage that prefers the best-retrieved passage."""

    def predict(self, x: np.ndarray) -> np.ndarray:
        return -x[:, len(FEATURE_NAMES) + RERANK_EXTRA.index("passage_rank")]


def test_the_answer_follows_the_second_stage_and_the_tail_is_kept() -> None:
    ranked = _ranked() + [_scored(2, "big", 0.1, 3, 0.005) for _ in range(DEPTH)]
    out = Reranker(_ByPassageRank()).rerank(ranked, DOCS)
    assert len(out) == len(ranked)
    assert (out[0].cand.doc, out[0].score) == (0, 0.0)  # Paris from the top passage now leads
    assert [s.cand.doc for s in out[:2]] == [0, 1]
    assert out[-1] is ranked[-1]  # beyond DEPTH: the first stage's order, untouched
    assert Reranker(_ByPassageRank()).rerank([], DOCS) == []
