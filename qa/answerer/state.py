"""The answerer's shared state for one index generation: document frequencies, sentence spans and
vectors, read by every stage and owned by one object (no stage reaches into another)."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any

import numpy as np

from qa.chunk import sentence_spans
from qa.index import IndexData


class AnswerState:
    """Caches derived from one generation; thread-safe, bounded."""

    def __init__(self, data: IndexData, embedder: Any) -> None:
        self.data = data
        self.embedder = embedder
        self.df = data.document_frequencies()
        self.n_passages = max(1, data.n_passages)
        self._sent_vecs: dict[tuple[str, int, int], np.ndarray] = {}
        self._doc_sents: dict[int, tuple[tuple[int, int], ...]] = {}
        self._lock = threading.Lock()

    def doc_sentences(self, d: int) -> tuple[tuple[int, int], ...]:
        """Sentence spans of document number `d` (cached, bounded)."""
        with self._lock:
            hit = self._doc_sents.get(d)
        if hit is None:
            # Ingest stored the spans (the same split_sentences); older generations split here.
            stored = self.data.sentence_spans(d)
            hit = tuple(stored) if stored is not None else tuple(sentence_spans(self.data.texts[d]))
            with self._lock:
                if len(self._doc_sents) > 4096:
                    self._doc_sents.clear()
                self._doc_sents[d] = hit
        return hit

    def sentence_vectors(self, spans: Sequence[tuple[int, int, int]]) -> np.ndarray:
        """Vectors of sentences (doc, start, end), embedded once per process and cached."""
        if not spans:
            return np.zeros((0, 384), dtype=np.float32)
        if self.data.sentences is not None:
            stored = [self.data.stored_sentence_vector(d, s, e) for d, s, e in spans]
            if all(v is not None for v in stored):  # ingest stored them: nothing to embed
                return np.stack([v for v in stored if v is not None]).astype(np.float32, copy=False)
        keys = [(self.data.docs[d].sha256, s, e) for d, s, e in spans]
        with self._lock:
            missing = [(k, sp) for k, sp in zip(keys, spans) if k not in self._sent_vecs]
        if missing:
            texts = [self.data.texts[d][s:e] for _, (d, s, e) in missing]
            vecs = self.embedder.encode(texts, batch_size=32)
            with self._lock:
                if len(self._sent_vecs) > 200_000:
                    self._sent_vecs.clear()
                self._sent_vecs.update(zip([k for k, _ in missing], vecs))
        with self._lock:
            return np.stack([self._sent_vecs[k] for k in keys]).astype(np.float32, copy=False)

    def warm_up(self, max_sentences: int = 20_000) -> int:
        """Embed a small collection's sentences ahead of the questions; returns how many.

        Nothing to do when ingest stored every sentence's vector.
        """
        if self.data.sentences is not None:
            return 0
        spans = [(d, s, e) for d in range(len(self.data.docs)) for s, e in self.doc_sentences(d)]
        if len(spans) > max_sentences:
            return 0
        for i in range(0, len(spans), 256):
            self.sentence_vectors(spans[i : i + 256])
        return len(spans)
