"""The local backend's lexical index: bm25s over stemmed terms and name skeletons."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np


def _bm25s() -> Any:
    import bm25s

    logging.getLogger("bm25s").setLevel(logging.WARNING)  # bm25s sets DEBUG on import
    return bm25s


class Bm25LexicalIndex:
    """A bm25s index behind `LexicalIndex`."""

    def __init__(self, retriever: Any) -> None:
        self._bm25 = retriever

    @property
    def vocabulary(self) -> Mapping[str, int]:
        vocab: dict[str, int] = getattr(self._bm25, "vocab_dict", {}) or {}
        return vocab

    def scores(self, terms: Sequence[str]) -> np.ndarray:
        return np.asarray(self._bm25.get_scores(list(terms)), dtype=np.float32)

    def document_frequencies(self) -> dict[str, int]:
        vocab = self.vocabulary
        scores = getattr(self._bm25, "scores", None) or {}
        indptr = scores.get("indptr") if isinstance(scores, dict) else None
        if indptr is None or not vocab:
            return {}
        counts = np.diff(np.asarray(indptr))
        return {t: int(counts[i]) for t, i in vocab.items() if i < len(counts)}

    def save(self, folder: Path) -> None:
        self._bm25.save(str(folder))


def build(term_lists: list[list[str]]) -> Bm25LexicalIndex:
    retriever = _bm25s().BM25()
    if term_lists:
        # bm25s needs at least one term per passage; an empty passage gets a placeholder.
        retriever.index([t if t else ["\x00"] for t in term_lists], show_progress=False)
    return Bm25LexicalIndex(retriever)


def load(folder: Path) -> Bm25LexicalIndex:
    """Load a saved index, its arrays memory-mapped."""
    return Bm25LexicalIndex(_bm25s().BM25.load(str(folder), mmap=True))
