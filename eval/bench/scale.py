"""Scale: synthetic 10k / 100k / 1M-passage indexes: build time, disk, latency, recall and memory.

Each index is generated (synthetic.py) and written through qa.store as ingest writes one, then met as
a user meets it: cold start, new and repeated questions, recall@10 of the approximate vector index
against FAISS exact search on the same vectors, and `qa serve` memory. stress_recall repeats the
recall measure on isotropic copies of real vectors, the adversarial case for a graph index.
"""

from __future__ import annotations

import gc
import json
import os
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from qa import store
from qa.config import Settings
from qa.embed import MiniLMEmbedder
from qa.errors import DocQAError
from qa.indexer import settings_fingerprint
from qa.pipeline import Pipeline

from .cold import cold_start
from .common import CORPUS, STAGES, log, pct
from .latency import ask_all
from .server import serve_probe
from .synthetic import (
    BENCH_FORMAT,
    NOISE,
    SEED,
    STRESS_NOISE,
    Pool,
    emb_cache_path,
    embed_cached,
    passage_text,
    stress_vectors,
    synthesize,
    synthetic_sentences,
    synthetic_vectors,
    write_files,
)


def du(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


@dataclass
class Vectors:
    """What synthetic vectors are made from: the embedder, real sentence vectors, the base size."""

    embedder: MiniLMEmbedder
    sentence_vecs: np.ndarray
    n_real: int
    cache: Path


def build_scale(
    size: int, pool: Pool, head: tuple[Any, ...], vec: Vectors, work: Path, reuse: bool, files: bool
) -> tuple[Path, dict[str, Any], Path | None, np.ndarray | None]:
    """Generate and write a synthetic index of `size` passages through qa.store.

    Returns its folder, the build figures, the folder of its files (if written) and the real
    vectors of its base set (None when an earlier build is reused).
    """
    index_dir = work / f"scale-{size}"
    folder = work / f"scale-{size}-files" if files else None
    marker = index_dir / "bench-params.json"
    params = {
        "bench_format": BENCH_FORMAT,
        "size": size,
        "seed": SEED,
        "noise": NOISE,
        "real_vectors": vec.n_real,
        "store_format": store.FORMAT_VERSION,
        "files": files,
    }
    if reuse and marker.exists():
        saved = json.loads(marker.read_text())
        if saved.get("params") == params:
            try:
                store.current_generation(index_dir)
            except DocQAError as e:
                log(f"scale {size}: not reusing the earlier build ({e})")
            else:
                log(f"scale {size}: reusing the index built {saved['build'].get('built')}")
                return index_dir, {**saved["build"], "reused": True}, folder, None
    shutil.rmtree(index_dir, ignore_errors=True)
    root = str(folder.resolve()) if folder else "synthetic:"
    t = time.perf_counter()
    syn = synthesize(pool, size, SEED, head, root)
    if folder is not None:
        shutil.rmtree(folder, ignore_errors=True)
        write_files(syn, folder, len(head[0]))
        # The bundled documents keep their own root: give them the synthetic folder's, with files.
        for i, info in enumerate(syn.docs[: len(head[0])]):
            (folder / info.doc_id).write_bytes((CORPUS / info.doc_id).read_bytes())
            syn.docs[i] = store.DocInfo(info.doc_id, info.title, info.sha256, info.chars, root, info.first, info.count)
    n_head = len(head[2])
    base_texts = [passage_text(syn, r) for r in range(n_head, min(len(syn.passages), n_head + vec.n_real))]
    gen_s = time.perf_counter() - t
    log(f"scale {size}: real embeddings of {len(base_texts)} passages (cached in {vec.cache})")
    base, embed_s = embed_cached(vec.embedder, base_texts, vec.cache)
    t = time.perf_counter()
    real = np.concatenate([head[5], base]).astype(np.float32)
    vectors = synthetic_vectors(real, vec.sentence_vecs, syn.sentences, SEED)
    gen_s += time.perf_counter() - t
    t = time.perf_counter()
    sentences, sentence_vectors = synthetic_sentences(syn, pool, vec.sentence_vecs, vec.embedder)
    gen_s += time.perf_counter() - t
    log(
        f"scale {size}: generated {len(syn.docs)} documents, {len(syn.passages)} passages, "
        f"{len(sentences)} sentences in {gen_s:.1f} s"
    )
    t = time.perf_counter()
    findex = store.build_faiss(vectors, Settings().exact_index_max)
    faiss_s = time.perf_counter() - t
    log(f"scale {size}: {findex.kind} built in {faiss_s:.1f} s")
    t = time.perf_counter()
    lexical = store.build_lexical(syn.terms)
    lexical_s = time.perf_counter() - t
    t = time.perf_counter()
    gen = store.write_generation(
        index_dir,
        syn.docs,
        syn.texts,
        syn.passages,
        syn.entities,
        vectors,
        findex,
        lexical,
        MiniLMEmbedder.name,
        MiniLMEmbedder.dim,
        settings_fingerprint(Settings()),
        sentences,
        sentence_vectors,
    )
    write_s = time.perf_counter() - t
    files_mb = {
        p.relative_to(gen).as_posix(): round(p.stat().st_size / 1e6, 1)
        for p in sorted(gen.rglob("*"))
        if p.is_file() and p.stat().st_size > 1e6
    }
    build = {
        "built": time.strftime("%Y-%m-%dT%H:%M:%S"),
        "documents": len(syn.docs),
        "passages": len(syn.passages),
        "entities": len(syn.entities),
        "index_kind": findex.kind,
        "generate_s": round(gen_s, 1),
        "real_embeddings": len(real),
        "real_embed_s": None if embed_s is None else round(embed_s, 1),
        "real_cache": str(emb_cache_path(vec.embedder, base_texts, vec.cache)),
        "faiss_build_s": round(faiss_s, 1),
        "lexical_build_s": round(lexical_s, 1),
        "write_s": round(write_s, 1),
        "build_s": round(faiss_s + lexical_s + write_s, 1),
        "disk_mb": round(du(gen) / 1e6, 1),
        "files_mb": files_mb,
        "reused": False,
    }
    marker.write_text(json.dumps({"params": params, "build": build}, indent=1))
    del syn, vectors, findex, lexical, sentences, sentence_vectors
    gc.collect()
    return index_dir, build, folder, real


def recall_and_speed(data: store.IndexData, qvecs: np.ndarray, k: int = 10) -> dict[str, Any]:
    """Recall@k of the loaded index against exact inner-product search on the same vectors."""
    import faiss

    vectors = np.load(data.path / "vectors.npy", mmap_mode="r")
    exact = faiss.IndexFlatIP(vectors.shape[1])
    for lo in range(0, len(vectors), 200_000):
        exact.add(np.ascontiguousarray(vectors[lo : lo + 200_000], dtype=np.float32))
    q = np.ascontiguousarray(qvecs, dtype=np.float32)
    faiss.omp_set_num_threads(1)  # one query at a time on one thread, as the server searches
    try:

        def timed(index: Any, n: int) -> tuple[np.ndarray, list[float]]:
            ids = np.zeros((len(q), k), dtype=np.int64)
            ms = []
            for i in range(len(q)):
                t = time.perf_counter()
                _, ids[i] = index.search(q[i : i + 1], k)
                ms.append((time.perf_counter() - t) * 1000)
            return ids, ms[:n]

        e_ids, e_ms = timed(exact, len(q))
        approx = data.dense.index  # type: ignore[attr-defined]  # the local backend's FAISS object
        out: dict[str, Any] = {"queries": len(q), "index_kind": type(approx).__name__, "exact_search_ms": pct(e_ms)}
        hnsw = getattr(approx, "hnsw", None)
        if hnsw is None:
            out["recall_at_10"] = 1.0
            return out
        shipped = hnsw.efSearch
        sweep = []
        for ef in sorted({16, 32, 64, 128, 256, shipped}):
            hnsw.efSearch = ef
            a_ids, a_ms = timed(approx, len(q))
            rec = float(np.mean([len(set(a_ids[i]) & set(e_ids[i])) / k for i in range(len(q))]))
            sweep.append({"efSearch": ef, "recall_at_10": round(rec, 4), "search_ms": pct(a_ms)})
        hnsw.efSearch = shipped
        cur = next(s for s in sweep if s["efSearch"] == shipped)
        out.update(
            {
                "efSearch": shipped,
                "recall_at_10": cur["recall_at_10"],
                "approx_search_ms": cur["search_ms"],
                "exact_over_approx_p50": round(out["exact_search_ms"]["p50"] / max(1e-6, cur["search_ms"]["p50"]), 1),
                "efSearch_sweep": sweep,
            }
        )
        return out
    finally:
        faiss.omp_set_num_threads(os.cpu_count() or 1)
        del exact


def warm_page_cache(folder: Path, chunk: int = 16 << 20) -> dict[str, float]:
    """Read every file under `folder` once (the page cache keeps it); its bytes and seconds."""
    t = time.perf_counter()
    total = 0
    for f in sorted(p for p in folder.rglob("*") if p.is_file()):
        with f.open("rb") as fh:
            while block := fh.read(chunk):
                total += len(block)
    return {"bytes": total, "seconds": round(time.perf_counter() - t, 2)}


def section_scale(
    size: int,
    index_dir: Path,
    build: dict[str, Any],
    gold: list[str],
    qvecs: np.ndarray,
    passes: int,
    embedder: MiniLMEmbedder,
    probe_questions: int,
) -> dict[str, Any]:
    out: dict[str, Any] = {"size": size, "build": build}
    out["cold_start"] = cold_start(index_dir, gold[0], 1)
    # "New question" means new to the process, not to the disk: a running server's index is in the
    # page cache, while what an earlier run left there is chance (a 1M index read from disk made the
    # first questions 5x slower). Read the generation once so every run starts from the same place.
    out["page_cache"] = warm_page_cache(store.current_generation(index_dir))
    t = time.perf_counter()
    pipe = Pipeline(Settings(index_dir=index_dir), embedder=embedder).load()
    out["load_in_process_s"] = round(time.perf_counter() - t, 2)
    pipe.ask(gold[0])
    first, answers = ask_all(pipe, gold)
    steady: dict[str, list[float]] = {s: [] for s in STAGES}
    for _ in range(passes - 1):
        t_, _ = ask_all(pipe, gold)
        for s in STAGES:
            steady[s].extend(t_[s])
    out["first_pass_ms"] = {s: pct(first[s]) for s in STAGES}
    out["steady_ms"] = {s: pct(steady[s]) for s in STAGES} if passes > 1 else out["first_pass_ms"]
    out["answers"] = answers
    out["query_backend"] = getattr(embedder, "query_backend", "torch")
    out["vectors"] = recall_and_speed(pipe.live.data, qvecs)
    del pipe
    gc.collect()
    if probe_questions:
        out["serve"] = serve_probe(index_dir, gold[:probe_questions])
    return out


def stress_recall(real: np.ndarray, n: int, qvecs: np.ndarray) -> dict[str, Any]:
    """HNSW recall@10 (as store.build_faiss builds it) on isotropic copies, against exact search."""
    import faiss

    vecs = stress_vectors(real, n, SEED)
    exact = faiss.IndexFlatIP(vecs.shape[1])
    exact.add(vecs)
    _, e_ids = exact.search(qvecs, 10)
    t = time.perf_counter()
    approx = store.build_faiss(vecs, exact_max=0).index  # the FAISS object: its efSearch is swept
    build = time.perf_counter() - t
    sweep = []
    for ef in (96, 256, 512):
        approx.hnsw.efSearch = ef
        _, a_ids = approx.search(qvecs, 10)
        sweep.append(
            {
                "efSearch": ef,
                "recall_at_10": round(
                    float(np.mean([len(set(a_ids[i]) & set(e_ids[i])) / 10 for i in range(len(qvecs))])), 4
                ),
            }
        )
    return {"vectors": n, "noise": STRESS_NOISE, "build_s": round(build, 1), "sweep": sweep}
