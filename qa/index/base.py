"""The storage interfaces: what retrieval, answering and ingest need from an index, nothing more.

A backend (see `qa.index.open_index`) implements them; no module outside the backend touches the
vector or lexical library underneath.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

if TYPE_CHECKING:
    from qa.index.local import DocInfo, IndexData
    from qa.models import Citation, Document, Passage


@dataclass(frozen=True)
class Results:
    """Nearest rows per query, best first: `rows[i]` and `scores[i]` for query i; row -1 pads a miss."""

    rows: np.ndarray  # int64, (queries, k)
    scores: np.ndarray  # float32, (queries, k)

    def first(self) -> tuple[np.ndarray, np.ndarray]:
        """Rows and scores of the first query, misses dropped."""
        if len(self.rows) == 0:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
        keep = self.rows[0] >= 0
        return self.rows[0][keep].astype(np.int64), self.scores[0][keep]


class VectorIndex(Protocol):
    """Inner-product search over one vector per passage row."""

    @property
    def ntotal(self) -> int: ...

    @property
    def dim(self) -> int: ...

    @property
    def kind(self) -> str:
        """A name for the manifest and reports (e.g. "IndexFlatIP")."""
        ...

    def search(self, vectors: np.ndarray, k: int, allowed: np.ndarray | None = None) -> Results:
        """The `k` nearest rows to each query vector (a (queries, dim) array); with `allowed`, only
        those rows are searched, so a restricted search still returns its k best."""
        ...

    def vectors(self, rows: np.ndarray) -> np.ndarray:
        """The stored vectors of `rows`, float32, (len(rows), dim)."""
        ...


class LexicalIndex(Protocol):
    """BM25 over the passages' lexical terms (stems, and "~skeleton" keys for names)."""

    @property
    def vocabulary(self) -> Mapping[str, int]:
        """Indexed term -> term id; empty for an index without passages."""
        ...

    def scores(self, terms: Sequence[str]) -> np.ndarray:
        """The BM25 score of every passage for `terms` (all in the vocabulary), float32."""
        ...

    def document_frequencies(self) -> dict[str, int]:
        """Passages per indexed term."""
        ...


class DocStore(Protocol):
    """Documents, passages, sentences and entities of a loaded generation."""

    path: Path
    manifest: dict[str, Any]
    docs: list[DocInfo]
    texts: Sequence[str]
    passages: np.ndarray
    entities: np.ndarray | None
    sentences: np.ndarray | None
    sentence_vectors: np.ndarray | None

    @property
    def n_passages(self) -> int: ...

    def passage(self, row: int) -> Passage: ...

    def document(self, doc_id: str) -> Document: ...

    def rows_of(self, docs: Iterable[int]) -> np.ndarray: ...

    def page_of(self, doc: int, offset: int) -> int | None: ...

    def entities_of(self, doc: int) -> np.ndarray: ...

    def sentence_rows(self, doc: int) -> tuple[int, int] | None: ...

    def sentence_spans(self, doc: int) -> list[tuple[int, int]] | None: ...

    def stored_sentence_vector(self, doc: int, start: int, end: int) -> np.ndarray | None: ...

    def citation(self, doc: int, start: int, end: int, sent_start: int, sent_end: int, score: float) -> Citation: ...

    def text_of(self, doc_id: str) -> str: ...

    def title_of(self, doc_id: str) -> str: ...


class IndexWriter(Protocol):
    """What ingest calls to build the two indexes and write a complete generation."""

    def build_vectors(self, vectors: np.ndarray, exact_max: int) -> VectorIndex: ...

    def build_lexical(self, term_lists: list[list[str]]) -> LexicalIndex: ...

    def write_generation(
        self,
        index_dir: Path,
        docs: list[DocInfo],
        texts: Sequence[str],
        passages: np.ndarray,
        entities: np.ndarray,
        vectors: np.ndarray,
        dense: VectorIndex,
        lexical: LexicalIndex,
        model: str,
        dim: int,
        settings_fingerprint: dict[str, Any],
        sentences: np.ndarray | None = None,
        sentence_vectors: np.ndarray | None = None,
    ) -> Path: ...


class Backend(Protocol):
    """A storage backend: opens the live generation and writes new ones."""

    def open(self, index_dir: Path, expect_model: str, expect_dim: int, with_vectors: bool = False) -> IndexData: ...

    def writer(self) -> IndexWriter: ...

    def current(self, index_dir: Path) -> str:
        """The name of the live generation, read cheaply (servers call it before every request).

        Raises:
            IndexNotFoundError: there is no index at `index_dir` (the message says how to build one).
        """
        ...
