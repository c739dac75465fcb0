"""ANN choice for 10M passages: HNSW as shipped against IVF-PQ (with and without exact re-ranking) and IVF-Flat.

Why: at 10M passages the shipped HNSW graph holds every float vector in memory (about 17 GB with its
links), more than one node of this size has. Each option is built on the same N synthetic vectors as
the scale section makes (real embeddings for a base set, sentence sums beyond it), then measured:
build seconds, bytes per vector, recall@10 against exact inner-product search over real question
embeddings, and p50 / p95 search time one query at a time on one thread (as the server searches).
`extrapolate` turns those into memory and disk at a target size, and `recommend` picks from them by
a rule (the smallest memory that meets the recall target), so the conclusion follows the numbers.
"""

from __future__ import annotations

import gc
import math
import os
import shutil
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from qa.embed import MiniLMEmbedder

from .common import log, pct
from .synthetic import SEED, Pool, embed_cached, synthetic_vectors

DIM = 384
HNSW_M, HNSW_EF_CONSTRUCTION, HNSW_EF_SEARCH = 32, 80, 96  # as qa/index/faiss_vectors.build makes it
PQ_M, PQ_BITS = 48, 8
TRAIN_MAX = 100_000
RERANK_DEPTH = 100  # IVF-PQ candidates re-scored exactly from the stored float vectors
TARGET_RECALL = 0.95
EF_SWEEP = (32, 64, 96, 128, 256)
NPROBE_SWEEP = (1, 4, 8, 16, 32, 64, 128)
ID_BYTES = 8  # an IVF list stores an int64 id next to each code


def nlist_for(n: int) -> int:
    """IVF lists: about 4·sqrt(N), the usual rule of thumb."""
    return max(1, int(round(4 * math.sqrt(n))))


@dataclass(frozen=True)
class Point:
    """One option at one search setting, as measured at `n` vectors."""

    option: str  # hnsw | ivfpq | ivfpq_rerank | ivfflat
    setting: str  # e.g. "efSearch 96", "nprobe 16"
    recall_at_10: float
    p50_ms: float
    p95_ms: float


@dataclass(frozen=True)
class Footprint:
    """Bytes of one option: per vector and fixed, in memory and on disk (beyond the product's vectors.npy)."""

    option: str
    memory_per_vector: float
    memory_fixed: float
    disk_per_vector: float
    disk_fixed: float
    needs_stored_vectors: bool  # the float vectors must be kept (on disk, memory-mapped) for it to work


@dataclass(frozen=True)
class AtSize:
    """An option's footprint at `n` passages (bytes), with the stored vectors the product keeps anyway."""

    option: str
    n: int
    memory_bytes: float
    memory_bytes_lists_on_disk: float  # IVF: with OnDiskInvertedLists memory-mapped, only the centroids resident
    index_disk_bytes: float
    vectors_npy_bytes: float
    sentence_vectors_bytes: float


def footprints(n: int, nlist: int, sizes: dict[str, int], dim: int = DIM) -> list[Footprint]:
    """Per-vector and fixed bytes of each option from its serialized size at `n` (the measured figure).

    The fixed part (IVF centroids, PQ codebooks) is computed and subtracted, so the per-vector part
    can be scaled to another N with the centroids that N would have.
    """
    out = []
    for option, size in sizes.items():
        fixed = 0.0
        if option.startswith("ivf"):
            fixed = nlist * dim * 4.0
            if option.startswith("ivfpq"):
                fixed += PQ_M * (1 << PQ_BITS) * (dim // PQ_M) * 4.0
        per = max(0.0, (size - fixed) / n)
        out.append(Footprint(option, per, fixed, per, fixed, option == "ivfpq_rerank"))
    return out


def extrapolate(fp: Footprint, n: int, n_measured: int, sentences_per_passage: float, dim: int = DIM) -> AtSize:
    """`fp` at `n` passages: per-vector bytes times n, IVF centroids re-sized to nlist_for(n)."""
    fixed_mem = fp.memory_fixed
    if fp.option.startswith("ivf") and n_measured:
        fixed_mem += (nlist_for(n) - nlist_for(n_measured)) * dim * 4.0
    mem = fp.memory_per_vector * n + fixed_mem
    on_disk = mem
    if fp.option.startswith("ivf"):
        on_disk = fixed_mem  # the lists memory-mapped; pages load as probes touch them
    return AtSize(
        option=fp.option,
        n=n,
        memory_bytes=mem,
        memory_bytes_lists_on_disk=on_disk,
        index_disk_bytes=fp.disk_per_vector * n + fixed_mem,
        vectors_npy_bytes=float(n) * dim * 4,
        sentence_vectors_bytes=float(n) * sentences_per_passage * dim * 4,
    )


@dataclass(frozen=True)
class Choice:
    """The recommended option and the line that says why."""

    option: str
    setting: str
    recall_at_10: float
    p50_ms: float
    memory_bytes: float
    met_target: bool
    line: str


def recommend(points: Sequence[Point], at: dict[str, AtSize], target: float = TARGET_RECALL) -> Choice:
    """The option with the least memory at the target size among those that reach `target` recall@10.

    Within an option the cheapest setting that reaches it (lowest p50) is the one named; when nothing
    reaches the target, the highest recall is named and the line says the target was missed.
    """
    ok = [p for p in points if p.recall_at_10 >= target and p.option in at]
    met = bool(ok)
    if met:
        best = min(ok, key=lambda p: (at[p.option].memory_bytes, p.p50_ms))
    else:
        best = max((p for p in points if p.option in at), key=lambda p: (p.recall_at_10, -p.p50_ms))
    size = at[best.option]
    gb = size.memory_bytes / 1e9
    line = (
        f"At {size.n / 1e6:g}M passages: {best.option} ({best.setting}), recall@10 {best.recall_at_10:.3f}, "
        f"p50 {best.p50_ms:.2f} ms, {gb:.2f} GB in memory"
    )
    if "hnsw" in at and best.option != "hnsw":
        line += f" against HNSW's {at['hnsw'].memory_bytes / 1e9:.2f} GB"
    if best.option.startswith("ivf"):
        line += (
            f"; its lists can be memory-mapped (faiss OnDiskInvertedLists), leaving "
            f"{size.memory_bytes_lists_on_disk / 1e6:.0f} MB of centroids resident"
        )
    if best.option == "ivfpq_rerank":
        line += f", re-ranking from vectors.npy ({size.vectors_npy_bytes / 1e9:.1f} GB, memory-mapped)"
    line += "." if met else f". No option reached recall@10 {target}: this is the closest."
    return Choice(best.option, best.setting, best.recall_at_10, best.p50_ms, size.memory_bytes, met, line)


def sentence_ids(n_pool: int, n_passages: int, n_head: int, seed: int = SEED) -> tuple[np.ndarray, int]:
    """Each synthetic passage's four pool-sentence ids, drawn exactly as synthetic.synthesize draws them.

    Only the ids (no text, entities or BM25 terms), so 1M passages cost seconds; -1 rows for the
    `n_head` bundled passages. Also returns the number of sentences the synthetic documents hold.
    """
    rng = np.random.default_rng(seed)
    parts = [np.full((n_head, 4), -1, dtype=np.int32)]
    total, sentences = n_head, 0
    while total < n_passages:
        k = min(int(rng.integers(4, 17)), n_passages - total)
        sids = rng.integers(0, n_pool, size=3 * k + 1)
        w = np.arange(k) * 3
        parts.append(np.stack([sids[w + i] for i in range(4)], axis=1).astype(np.int32))
        total += k
        sentences += 3 * k + 1
    return np.concatenate(parts), sentences


def make_vectors(
    n: int,
    pool: Pool,
    head: tuple[Any, ...],
    embedder: MiniLMEmbedder,
    sentence_vecs: np.ndarray,
    n_real: int,
    cache: Path,
) -> tuple[np.ndarray, float]:
    """N synthetic vectors as the scale section makes them, and sentences per synthetic passage."""
    n_head = len(head[2])
    sids, sentences = sentence_ids(len(pool.sentences), n, n_head)
    base_texts = [" ".join(pool.sentences[i] for i in row) for row in sids[n_head : n_head + n_real]]
    base, _ = embed_cached(embedder, base_texts, cache)
    real = np.concatenate([head[5], base]).astype(np.float32)
    per = sentences / max(1, n - n_head)
    return synthetic_vectors(real, sentence_vecs, sids, SEED), per


def _timed(search: Any, q: np.ndarray, k: int) -> tuple[np.ndarray, list[float]]:
    ids = np.zeros((len(q), k), dtype=np.int64)
    ms = []
    for i in range(len(q)):
        t = time.perf_counter()
        found = search(q[i : i + 1], k)
        ids[i] = -1
        ids[i, : len(found)] = found  # a probe may find fewer than k
        ms.append((time.perf_counter() - t) * 1000)
    return ids, ms


def _recall(ids: np.ndarray, truth: np.ndarray, k: int = 10) -> float:
    return float(np.mean([len(set(ids[i][:k]) & set(truth[i][:k])) / k for i in range(len(truth))]))


def _point(option: str, setting: str, ids: np.ndarray, ms: list[float], truth: np.ndarray) -> Point:
    p = pct(ms)
    return Point(option, setting, round(_recall(ids, truth), 4), p["p50"], p["p95"])


def _file_size(index: Any, path: Path) -> int:
    import faiss

    faiss.write_index(index, str(path))
    size = path.stat().st_size
    path.unlink()
    return size


def measure(vectors: np.ndarray, qvecs: np.ndarray, work: Path, k: int = 10, hnsw: bool = True) -> dict[str, Any]:
    """Build each option on `vectors`, then recall@k and one-thread search time over `qvecs`
    (`hnsw` False skips the graph, the slowest build: the scale section measures it at 1M)."""

    n, dim = vectors.shape
    q = np.ascontiguousarray(qvecs, dtype=np.float32)
    work.mkdir(parents=True, exist_ok=True)
    truth, exact_ms = _exact(vectors, q, k)
    points: list[Point] = []
    build_s: dict[str, float] = {}
    sizes: dict[str, int] = {}
    if hnsw:
        _hnsw(vectors, q, truth, work, points, build_s, sizes)
        gc.collect()
    _ivf(vectors, q, truth, work, points, build_s, sizes)
    gc.collect()
    return {
        "n": n,
        "queries": len(q),
        "nlist": nlist_for(n),
        "train_vectors": min(n, TRAIN_MAX),
        "rerank_depth": RERANK_DEPTH,
        "exact_search_ms": pct(exact_ms),
        "build_s": {k_: round(v, 1) for k_, v in build_s.items()},
        "serialized_bytes": sizes,
        "points": [asdict(p) for p in points],
    }


def _exact(vectors: np.ndarray, q: np.ndarray, k: int) -> tuple[np.ndarray, list[float]]:
    """The true top k of each query (FAISS exact inner product), and its one-thread search times."""
    import faiss

    exact = faiss.IndexFlatIP(vectors.shape[1])
    exact.add(vectors)
    _, truth = exact.search(q, k)
    with _one_thread():
        _, ms = _timed(lambda x, kk: exact.search(x, kk)[1][0], q, k)
    return truth, ms


@contextmanager
def _one_thread() -> Iterator[None]:
    """One query at a time on one thread, as the server searches; building uses every core."""
    import faiss

    faiss.omp_set_num_threads(1)
    try:
        yield
    finally:
        faiss.omp_set_num_threads(os.cpu_count() or 1)


def _hnsw(
    vectors: np.ndarray,
    q: np.ndarray,
    truth: np.ndarray,
    work: Path,
    points: list[Point],
    build_s: dict[str, float],
    sizes: dict[str, int],
) -> None:
    """HNSW as the product builds it, with an efSearch sweep around the shipped value."""
    import faiss

    n, dim = vectors.shape
    log(f"ann {n}: HNSW M={HNSW_M}, efConstruction {HNSW_EF_CONSTRUCTION}")
    t = time.perf_counter()
    hnsw = faiss.IndexHNSWFlat(dim, HNSW_M, faiss.METRIC_INNER_PRODUCT)
    hnsw.hnsw.efConstruction = HNSW_EF_CONSTRUCTION
    hnsw.add(vectors)
    build_s["hnsw"] = time.perf_counter() - t
    sizes["hnsw"] = _file_size(hnsw, work / "hnsw.index")
    with _one_thread():
        for ef in sorted({*EF_SWEEP, HNSW_EF_SEARCH}):
            hnsw.hnsw.efSearch = ef
            ids, ms = _timed(lambda x, kk: hnsw.search(x, kk)[1][0], q, len(truth[0]))
            points.append(_point("hnsw", f"efSearch {ef}", ids, ms, truth))


def _ivf(
    vectors: np.ndarray,
    q: np.ndarray,
    truth: np.ndarray,
    work: Path,
    points: list[Point],
    build_s: dict[str, float],
    sizes: dict[str, int],
) -> None:
    """IVF-Flat and IVF-PQ on one coarse quantizer (trained once), and IVF-PQ re-ranked exactly, per nprobe."""
    import faiss

    n, dim = vectors.shape
    k = len(truth[0])
    nlist = nlist_for(n)
    rng = np.random.default_rng(SEED + 3)
    sample = vectors[np.sort(rng.choice(n, size=min(n, TRAIN_MAX), replace=False))]
    log(f"ann {n}: IVF coarse quantizer, nlist {nlist}, trained on {len(sample)}")
    t = time.perf_counter()
    quantizer = faiss.IndexFlatIP(dim)
    flat = faiss.IndexIVFFlat(quantizer, dim, nlist, faiss.METRIC_INNER_PRODUCT)
    flat.train(sample)
    coarse_s = time.perf_counter() - t
    t = time.perf_counter()
    flat.add(vectors)
    build_s["add_ivfflat"] = time.perf_counter() - t
    build_s["ivfflat"] = coarse_s + build_s["add_ivfflat"]
    sizes["ivfflat"] = _file_size(flat, work / "ivfflat.index")
    log(f"ann {n}: IVF-PQ m={PQ_M}x{PQ_BITS} bits on the same centroids")
    t = time.perf_counter()
    pq_quantizer = faiss.clone_index(quantizer)  # already trained: IVF-PQ trains only its codebooks
    ivfpq = faiss.IndexIVFPQ(pq_quantizer, dim, nlist, PQ_M, PQ_BITS, faiss.METRIC_INNER_PRODUCT)
    ivfpq.train(sample)
    t_add = time.perf_counter()
    ivfpq.add(vectors)
    build_s["add_ivfpq"] = build_s["add_ivfpq_rerank"] = time.perf_counter() - t_add
    build_s["ivfpq"] = build_s["ivfpq_rerank"] = coarse_s + time.perf_counter() - t
    sizes["ivfpq"] = sizes["ivfpq_rerank"] = _file_size(ivfpq, work / "ivfpq.index")
    # Re-ranking reads the float vectors from a memory-mapped vectors.npy, as the product stores them.
    npy = work / "vectors.npy"
    np.save(npy, vectors)
    stored = np.load(npy, mmap_mode="r")

    def reranked(x: np.ndarray, kk: int) -> np.ndarray:
        cand = ivfpq.search(x, RERANK_DEPTH)[1][0]
        order = np.sort(cand[cand >= 0])  # ascending rows: sequential reads from the mapped file
        sims = np.asarray(stored[order], dtype=np.float32) @ x[0]
        return np.asarray(order[np.argsort(-sims)[:kk]], dtype=np.int64)

    log(f"ann {n}: nprobe sweep")
    with _one_thread():
        for nprobe in [p for p in NPROBE_SWEEP if p <= nlist]:
            flat.nprobe = ivfpq.nprobe = nprobe
            for option, search in (
                ("ivfflat", lambda x, kk: flat.search(x, kk)[1][0]),
                ("ivfpq", lambda x, kk: ivfpq.search(x, kk)[1][0]),
                ("ivfpq_rerank", reranked),
            ):
                ids, ms = _timed(search, q, k)
                points.append(_point(option, f"nprobe {nprobe}", ids, ms, truth))


def summarise(measured: dict[str, Any], targets: Sequence[int], sentences_per_passage: float) -> dict[str, Any]:
    """Footprints, their extrapolation to each of `targets` and the recommendation at the first target."""
    n = measured["n"]
    fps = footprints(n, measured["nlist"], measured["serialized_bytes"])
    points = [Point(**p) for p in measured["points"]]
    out: dict[str, Any] = {
        "sentences_per_passage": round(sentences_per_passage, 3),
        "bytes_per_vector": {f.option: round(f.memory_per_vector, 1) for f in fps},
        "at": {},
    }
    for target in targets:
        at = {f.option: extrapolate(f, target, n, sentences_per_passage) for f in fps}
        out["at"][str(target)] = {o: asdict(a) for o, a in at.items()}
        if target == targets[0]:
            out["recommendation"] = asdict(recommend(points, at))
    return out


def section_ann(
    n: int,
    pool: Pool,
    head: tuple[Any, ...],
    embedder: MiniLMEmbedder,
    sentence_vecs: np.ndarray,
    n_real: int,
    qvecs: np.ndarray,
    work: Path,
    targets: Sequence[int] = (10_000_000, 100_000_000),
    hnsw: bool = True,
) -> dict[str, Any]:
    """Measure every option at `n` synthetic vectors and extrapolate to `targets` passages."""
    t = time.perf_counter()
    vectors, per = make_vectors(n, pool, head, embedder, sentence_vecs, n_real, work / "cache")
    gen_s = time.perf_counter() - t
    folder = work / f"ann-{n}"
    try:
        measured = measure(vectors, qvecs, folder, hnsw=hnsw)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    measured["generate_s"] = round(gen_s, 1)
    measured.update(summarise(measured, targets, per))
    return measured
