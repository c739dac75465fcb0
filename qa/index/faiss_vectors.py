"""The local backend's vector index: FAISS, exact (flat inner product) or HNSW past a size threshold."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np

from qa.index.base import Results

# A search within rows holding at most this many passages is scored exactly against their stored
# vectors; past it FAISS searches with an ID selector. Either way the filter is applied inside the
# search, so a restricted question still gets its k best passages from those rows.
EXACT_FILTER_MAX = 50_000


def _require_faiss() -> Any:
    try:
        import faiss
    except ImportError as e:
        raise ImportError("FAISS is not available - install faiss-cpu") from e
    return faiss


class FaissVectorIndex:
    """A FAISS index behind `VectorIndex`; `index` is the FAISS object, for benchmarks only."""

    def __init__(self, index: Any) -> None:
        self.index = index

    @property
    def ntotal(self) -> int:
        return int(self.index.ntotal)

    @property
    def dim(self) -> int:
        return int(self.index.d)

    @property
    def kind(self) -> str:
        return type(self.index).__name__

    def search(self, vectors: np.ndarray, k: int, allowed: np.ndarray | None = None) -> Results:
        faiss = _require_faiss()
        # One question searches on one thread; concurrent questions use the other cores. With
        # FAISS's default OpenMP team, a flat search of 10k passages took 15 ms p50 inside the
        # pipeline on a busy two-core machine, against 0.6 ms on one thread (eval/bench), the
        # team's threads spinning against torch's. The setting belongs to the calling thread, so an
        # ingest building HNSW in another thread keeps every core.
        faiss.omp_set_num_threads(1)
        queries = np.asarray(vectors, dtype=np.float32)
        if allowed is None:
            scores, ids = self.index.search(queries, min(k, self.ntotal))
            return Results(ids.astype(np.int64), scores)
        depth = min(k, len(allowed))
        if len(allowed) <= EXACT_FILTER_MAX:
            vecs = self.vectors(allowed)
            rows_out, scores_out = [], []
            for q in queries:
                sims = vecs @ q
                order = np.argsort(-sims, kind="stable")[:depth]
                rows_out.append(allowed[order])
                scores_out.append(sims[order])
            return Results(
                np.asarray(rows_out, dtype=np.int64).reshape(len(queries), depth),
                np.asarray(scores_out, dtype=np.float32).reshape(len(queries), depth),
            )
        params = faiss.SearchParameters(sel=faiss.IDSelectorBatch(allowed))
        scores, ids = self.index.search(queries, depth, params=params)
        return Results(ids.astype(np.int64), scores)

    def vectors(self, rows: np.ndarray) -> np.ndarray:
        return np.asarray(self.index.reconstruct_batch(np.asarray(rows, dtype=np.int64)), dtype=np.float32)

    def write(self, f: BinaryIO) -> None:
        faiss = _require_faiss()
        faiss.write_index(self.index, faiss.PyCallbackIOWriter(f.write))


def build(vectors: np.ndarray, exact_max: int) -> FaissVectorIndex:
    """Exact inner-product search for small corpora; HNSW beyond `exact_max` passages."""
    faiss = _require_faiss()
    # Searches set their own thread to one OpenMP thread; building uses every core.
    faiss.omp_set_num_threads(os.cpu_count() or 1)
    dim = vectors.shape[1] if vectors.ndim == 2 and vectors.shape[0] else 384
    if len(vectors) <= exact_max:
        index = faiss.IndexFlatIP(dim)
    else:
        # Inner product equals cosine similarity on normalised vectors.
        index = faiss.IndexHNSWFlat(dim, 32, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = 80
        index.hnsw.efSearch = 96
    if len(vectors):
        index.add(np.ascontiguousarray(vectors, dtype=np.float32))
    return FaissVectorIndex(index)


def read(path: Path, mmap: bool) -> FaissVectorIndex:
    """Read a written index; with `mmap` its vectors are memory-mapped (pages load as they are searched)."""
    faiss = _require_faiss()
    if mmap:
        return FaissVectorIndex(faiss.read_index(str(path), faiss.IO_FLAG_MMAP_IFC | faiss.IO_FLAG_READ_ONLY))
    return FaissVectorIndex(faiss.read_index(str(path)))
