"""Hybrid retrieval: dense (MiniLM + a `VectorIndex`) and lexical (BM25 with name skeletons), fused by rank."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from qa.embed import Embedder
from qa.index import IndexData
from qa.models import Hit
from qa.text import edit_distance_limit, query_terms


@dataclass
class RetrievalResult:
    hits: list[Hit]
    timings_ms: dict[str, float] = field(default_factory=dict)


def _top(scores: np.ndarray, depth: int) -> np.ndarray:
    """Row ids of the `depth` best positive scores, best first."""
    if scores.size == 0:
        return np.zeros(0, dtype=np.int64)
    depth = min(depth, scores.size)
    idx = np.argpartition(-scores, depth - 1)[:depth]
    idx = idx[np.argsort(-scores[idx], kind="stable")]
    return idx[scores[idx] > 0]


class Retriever:
    """Search one loaded index generation. Cheap to build; rebuild when the index changes."""

    def __init__(
        self, data: IndexData, embedder: Embedder, depth: int = 30, rrf_k: int = 60, mode: str = "hybrid"
    ) -> None:
        if mode not in ("hybrid", "dense", "lexical"):
            raise ValueError(f"Unknown retrieval mode {mode!r}; use hybrid, dense or lexical.")
        self.data = data
        self.embedder = embedder
        self.depth = depth
        self.rrf_k = rrf_k
        self.mode = mode
        vocab = data.lexical.vocabulary
        self._vocab = vocab
        self._words = [t for t in vocab if t and not t.startswith("~") and t.isalpha()]

    def expand(self, terms: list[str]) -> list[str]:
        """Add indexed spellings within a small edit distance of query words the index lacks."""
        out = list(terms)
        missing = [t for t in terms if not t.startswith("~") and t not in self._vocab and edit_distance_limit(t)]
        if not missing or not self._words:
            return out
        from rapidfuzz import process
        from rapidfuzz.distance import Levenshtein

        for t in missing:
            for match, _dist, _ in process.extract(
                t, self._words, scorer=Levenshtein.distance, score_cutoff=edit_distance_limit(t), limit=3
            ):
                if match not in out:
                    out.append(match)
        return out

    def lexical_scores(self, question: str, rows: np.ndarray | None = None) -> np.ndarray:
        """BM25 score of every passage; with `rows`, every other passage scores 0."""
        terms = [t for t in self.expand(query_terms(question)) if t in self._vocab]
        n = self.data.n_passages
        if not terms or n == 0:
            return np.zeros(n, dtype=np.float32)
        scores = self.data.lexical.scores(terms)
        if rows is not None:
            kept = np.zeros(n, dtype=np.float32)
            kept[rows] = scores[rows]
            scores = kept
        return scores

    def dense_search(
        self, question: str, depth: int, qv: np.ndarray | None = None, rows: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Rows and scores of the `depth` nearest passages (among `rows` when given); pass `qv` when
        the question is already embedded."""
        if self.data.n_passages == 0 or (rows is not None and len(rows) == 0):
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
        if qv is None:
            qv = self.embedder.encode_query(question)
        # `rows` restricts the search inside the index, so it still fills `depth` from them.
        return self.data.dense.search(qv[None, :], depth, rows).first()

    def search(self, question: str, k: int = 5, docs: frozenset[int] | None = None) -> RetrievalResult:
        """Dense and lexical search fused by reciprocal rank.

        Args:
            question: the (resolved) question.
            k: hits to return; each retriever is read to `max(depth, k)` before fusion.
            docs: document numbers to search within (None: all); applied inside each search.

        Returns:
            The top-k hits, best first, and the time each part took.
        """
        timings: dict[str, float] = {}
        depth = max(self.depth, k)
        rows = self.data.rows_of(docs) if docs is not None else None
        t0 = time.perf_counter()
        dense_ids, dense_scores = (np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32))
        qv: np.ndarray | None = None
        if self.mode in ("hybrid", "dense"):
            if self.data.n_passages:
                qv = self.embedder.encode_query(question)
            t_embed = time.perf_counter()
            timings["embed"] = (t_embed - t0) * 1000
            dense_ids, dense_scores = self.dense_search(question, depth, qv, rows)
            timings["dense"] = (time.perf_counter() - t_embed) * 1000
        t1 = time.perf_counter()
        lex_ids = np.zeros(0, dtype=np.int64)
        lex = np.zeros(0, dtype=np.float32)
        if self.mode in ("hybrid", "lexical"):
            lex = self.lexical_scores(question, rows)
            lex_ids = _top(lex, depth)
        t2 = time.perf_counter()
        timings["lexical"] = (t2 - t1) * 1000
        hits = self._fuse(dense_ids, dense_scores, lex_ids, lex, k, qv)
        timings["fusion"] = (time.perf_counter() - t2) * 1000
        return RetrievalResult(hits, timings)

    def _fuse(
        self,
        dense_ids: np.ndarray,
        dense_scores: np.ndarray,
        lex_ids: np.ndarray,
        lex: np.ndarray,
        k: int,
        qv: np.ndarray | None,
    ) -> list[Hit]:
        """Reciprocal rank fusion, scaled so a passage ranked first by both retrievers scores 1."""
        fused: dict[int, float] = {}
        dense_of: dict[int, float] = {}
        for rank, (row, sc) in enumerate(zip(dense_ids.tolist(), dense_scores.tolist())):
            fused[row] = fused.get(row, 0.0) + 1.0 / (self.rrf_k + rank + 1)
            dense_of[row] = float(sc)
        for rank, row in enumerate(lex_ids.tolist()):
            fused[row] = fused.get(row, 0.0) + 1.0 / (self.rrf_k + rank + 1)
        n_lists = (1 if len(dense_ids) else 0) + (1 if len(lex_ids) else 0)
        best = n_lists / (self.rrf_k + 1) if n_lists else 1.0
        order = sorted(fused.items(), key=lambda kv: -kv[1])[:k]
        lex_max = float(lex.max()) if lex.size else 0.0
        hits = []
        for rank, (row, sc) in enumerate(order):
            dense = dense_of.get(row)
            if dense is None and qv is not None:
                dense = float(self.data.dense.vectors(np.array([row], dtype=np.int64))[0] @ qv)
            hits.append(
                Hit(
                    self.data.passage(row),
                    sc / best,
                    dense or 0.0,
                    float(lex[row]) / lex_max if lex_max > 0 else 0.0,
                    rank,
                )
            )
        return hits
