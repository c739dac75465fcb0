"""A deterministic stand-in for the sentence model, for tests that exercise storage, not meaning."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import numpy as np


class FakeEmbedder:
    """Bag-of-words hashing into 384 dimensions, normalised: similar word sets give similar vectors."""

    name = "fake-hash-embedder"
    dim = 384

    def __init__(self) -> None:
        self.calls: list[int] = []  # number of texts per encode call

    def _vec(self, text: str) -> np.ndarray:
        v = np.zeros(self.dim, dtype=np.float32)
        for w in text.lower().split():
            h = int(hashlib.md5(w.strip(".,;:!?“”\"'").encode()).hexdigest(), 16)
            v[h % self.dim] += 1.0
        n = float(np.linalg.norm(v))
        return v / n if n else v

    def encode(self, texts: Sequence[str], batch_size: int = 64) -> np.ndarray:
        self.calls.append(len(texts))
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return np.stack([self._vec(t) for t in texts])

    def encode_query(self, text: str) -> np.ndarray:
        return self._vec(text)
