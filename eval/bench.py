"""Performance and scale figures for docqa: `python eval/bench.py --quick` (a few minutes).

One command measures, on this machine and in one run, so that every ratio compares like with like:

  cold     seconds from process start to the first answer (model and index load), per index
  latency  warm in-process question latency over eval/gold.jsonl, split by stage
  ingest   end-to-end ingestion rate next to raw SentenceTransformer.encode on the same passages,
           and re-ingesting an unchanged 10k-passage folder
  server   `qa serve` on loopback under 1, 4 and 16 concurrent clients (httpx, bounded requests)
  scale    synthetic 10k / 100k (quick) and 1M passages: build time, disk, serving memory, latency,
           recall@10 of the approximate vector index against exact search on the same vectors
  peers    rank_bm25 against our lexical search, FAISS exact against the approximate index,
           Haystack (in-memory BM25 and embedding retrievers, same local model) against ours

Synthetic corpora recombine the bundled articles' sentences (four-sentence windows, one shared, as
`qa ingest` cuts them). Entities and BM25 terms are exactly those of the sentences. Embedding a
million passages would take hours on two cores, so a base set of recombined passages (1k quick,
5k full) gets real embeddings, and every passage beyond it the normalised sum of its sentences'
real embeddings plus a little noise: a vector that agrees with the passage's text (cos 0.88 to
the real embedding, on average), so retrieval and answering behave as on real text. Perturbed
copies of base vectors with isotropic noise are an adversarial case for any graph index (no
structure to exploit); recall on those is reported too, as a stress figure, at 100k.

The table is printed and written, with every raw figure, to eval/bench_results/latest.json and
latest.md. Big indexes live in --work (default /tmp/docqa-bench); --reuse keeps a scale index that
was built with the same parameters, since building the 1M HNSW graph takes a long time.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import hashlib
import json
import os
import platform
import shutil
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("HAYSTACK_TELEMETRY_ENABLED", "False")
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import numpy as np

from qa import annotate, store
from qa.annotate import ENT_DTYPE
from qa.chunk import split_sentences
from qa.config import Settings
from qa.embed import MiniLMEmbedder, model_path
from qa.errors import DocQAError
from qa.indexer import settings_fingerprint, update_index
from qa.ingest import first_line_title
from qa.pipeline import Pipeline
from qa.retrieve import Retriever, _top
from qa.text import lexical_terms

CORPUS = ROOT / "corpus"
GOLD = ROOT / "eval" / "gold.jsonl"
WARM_GOLD = ROOT / "eval" / "generalization" / "gold.jsonl"
RESULTS = ROOT / "eval" / "bench_results"
STAGES = ("retrieve_embed", "retrieve_dense", "retrieve_lexical", "retrieve_fusion", "retrieve", "answer", "total")
PARTS = ("retrieve_embed", "retrieve_dense", "retrieve_lexical", "retrieve_fusion", "answer")
SIZES = {"10k": 10_000, "100k": 100_000, "1m": 1_000_000}
SEED = 7
NOISE = 0.15  # norm of the noise added to a sentence-sum vector (cos ~0.99 to the sum)
STRESS_NOISE = 0.5  # isotropic copies of base vectors: cos(copy, base) ~ 1/sqrt(1 + 0.5^2) ~ 0.9
# Bump when the synthetic generation changes, so --reuse rebuilds (3: sentences and their vectors stored).
BENCH_FORMAT = 3


# ---------------------------------------------------------------------------------------- helpers


def log(msg: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def pct(values: Sequence[float]) -> dict[str, float]:
    """p50 / p95 / p99 and the mean of `values`, rounded for the report."""
    if not values:
        return {"n": 0}
    a = np.asarray(values, dtype=np.float64)
    p50, p95, p99 = np.percentile(a, [50, 95, 99])
    return {
        "n": int(a.size),
        "p50": round(float(p50), 2),
        "p95": round(float(p95), 2),
        "p99": round(float(p99), 2),
        "mean": round(float(a.mean()), 2),
    }


def load_gold(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def du(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def child_env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    return env


def spaced(question: str, variant: int) -> str:
    """The question with `variant` extra spaces after its first word.

    The model's tokenizer and the answerer split on white space, so every variant gets the same
    embedding and the same answer (the bench checks), but a different query-cache key: a load test
    over variants measures query embedding every time, as for questions never asked before.
    """
    head, _, tail = question.partition(" ")
    return head + " " * (variant + 1) + tail if tail else question


def machine() -> dict[str, Any]:
    import faiss
    import torch

    return {
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "torch": torch.__version__,
        "torch_threads_bulk": os.cpu_count(),
        "faiss": faiss.__version__,
        "load_average_start": [round(x, 2) for x in os.getloadavg()],
        "started": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "commit": _git_commit(),
    }


def _git_commit() -> str:
    try:
        out = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=False
        )
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=False,
        ).stdout.strip()
        return out.stdout.strip() + ("+changes" if dirty else "")
    except OSError:
        return "unknown"


def rss_of(pid: int) -> dict[str, float]:
    """Resident memory of a process in MB: all of it, and the anonymous (non file-backed) part.

    Memory-mapped index files count in RSS once touched, but they are page cache that the kernel
    can drop and that processes share; RssAnon is what the process itself holds.
    """
    out: dict[str, float] = {}
    with open(f"/proc/{pid}/status", encoding="ascii") as f:
        for line in f:
            key, _, val = line.partition(":")
            if key in ("VmRSS", "RssAnon", "RssFile", "VmHWM"):
                out[key] = round(int(val.split()[0]) / 1024, 1)
    return out


# ------------------------------------------------------------------------------ synthetic corpus


@dataclass
class Pool:
    """The bundled corpus cut into sentences, with each sentence's BM25 terms and entities."""

    sentences: list[str]
    terms: list[list[str]]
    ents: list[list[tuple[int, int, int]]]

    @classmethod
    def from_corpus(cls, corpus: Path) -> Pool:
        sents: list[str] = []
        for p in sorted(corpus.glob("*.txt")):
            text = p.read_text(encoding="utf-8")
            for s in split_sentences(text):
                piece = " ".join(text[s.start : s.end].split())
                if 20 <= len(piece) <= 600:
                    sents.append(piece)
        return cls(sents, [lexical_terms(s) for s in sents], annotate.entities(sents))


@dataclass
class Synthetic:
    """A generated corpus: documents, their texts, passage windows, entities and BM25 terms."""

    docs: list[store.DocInfo]
    texts: list[str]
    passages: np.ndarray  # store.PASSAGE_DTYPE
    entities: np.ndarray  # ENT_DTYPE
    terms: list[list[str]]
    sentences: np.ndarray  # (passages, 4) pool sentence ids of each passage; -1 for real documents


def synthetic_sentences(
    syn: Synthetic, pool: Pool, sentence_vecs: np.ndarray, embedder: MiniLMEmbedder
) -> tuple[np.ndarray, np.ndarray]:
    """Every sentence of the synthetic corpus and its vector, as `qa ingest` stores them.

    A sentence that is a pool sentence gets that sentence's real embedding (the same text, so the
    same vector ingest would compute); any other (the bundled documents' own splits) is embedded.
    """
    by_text = {t: i for i, t in enumerate(pool.sentences)}
    rows: list[tuple[int, int, int]] = []
    ids: list[int] = []
    for d, text in enumerate(syn.texts):
        for x in split_sentences(text):
            rows.append((d, x.start, x.end))
            ids.append(by_text.get(text[x.start : x.end], -1))
    idx = np.asarray(ids, dtype=np.int64)
    vecs = np.zeros((len(rows), embedder.dim), dtype=np.float32)
    known = idx >= 0
    vecs[known] = sentence_vecs[idx[known]]
    todo = np.flatnonzero(~known)
    if len(todo):
        texts = [syn.texts[rows[i][0]][rows[i][1] : rows[i][2]] for i in todo]
        vecs[todo] = embedder.encode(texts, batch_size=64)
    return np.array(rows, dtype=store.SENTENCE_DTYPE), vecs


def bundled_docs(
    index: store.IndexData,
) -> tuple[list[store.DocInfo], list[str], np.ndarray, np.ndarray, list[list[str]], np.ndarray]:
    """The real bundled documents as ingested, to put at the head of every synthetic corpus."""
    docs = [store.DocInfo(d.doc_id, d.title, d.sha256, d.chars, d.root, d.first, d.count) for d in index.docs]
    texts = [index.texts[i] for i in range(len(index.docs))]
    passages = np.array(index.passages, dtype=store.PASSAGE_DTYPE)
    terms = [lexical_terms(texts[int(r["doc"])][int(r["start"]) : int(r["end"])]) for r in passages]
    vectors = np.asarray(np.load(index.path / "vectors.npy"), dtype=np.float32)
    ents = np.array(index.entities, dtype=ENT_DTYPE)
    return docs, texts, passages, ents, terms, vectors


def synthesize(pool: Pool, n_passages: int, seed: int, head: tuple[Any, ...], root: str) -> Synthetic:
    """`n_passages` passages: the bundled documents, then documents of recombined sentences.

    Each synthetic document has 3k+1 sentences and so exactly k four-sentence windows sharing one
    sentence, k drawn from 4..16, which is how `qa ingest` cuts prose of this sentence length.
    """
    rng = np.random.default_rng(seed)
    h_docs, h_texts, h_pass, h_ents, h_terms, _ = head
    docs = list(h_docs)
    texts = list(h_texts)
    terms = list(h_terms)
    pass_parts = [h_pass]
    ent_parts = [h_ents]
    sid_parts = [np.full((len(h_pass), 4), -1, dtype=np.int32)]
    n_pool = len(pool.sentences)
    lens = np.array([len(s) for s in pool.sentences], dtype=np.int64)
    # Entities of the pool, flattened: sentence i owns rows ent_first[i] .. ent_first[i+1].
    ent_first = np.zeros(n_pool + 1, dtype=np.int64)
    np.cumsum([len(e) for e in pool.ents], out=ent_first[1:])
    flat = np.array([e for es in pool.ents for e in es], dtype=np.int64).reshape(-1, 3)
    total = len(h_pass)
    d = len(docs)
    while total < n_passages:
        k = int(min(rng.integers(4, 17), n_passages - total))
        sids = rng.integers(0, n_pool, size=3 * k + 1)
        starts = np.zeros(len(sids), dtype=np.int64)
        np.cumsum(lens[sids][:-1] + 1, out=starts[1:])  # sentences joined by one space
        ends = starts + lens[sids]
        text = " ".join(pool.sentences[i] for i in sids)
        doc_id = f"synthetic/{d:07d}.txt"
        sha = hashlib.sha256(text.encode("utf-8")).hexdigest()
        docs.append(store.DocInfo(doc_id, first_line_title(text, doc_id), sha, len(text), root, total, k))
        texts.append(text)
        w = np.arange(k) * 3
        rec = np.zeros(k, dtype=store.PASSAGE_DTYPE)
        rec["doc"], rec["start"], rec["end"] = d, starts[w], ends[w + 3]
        pass_parts.append(rec)
        sid_parts.append(np.stack([sids[w + i] for i in range(4)], axis=1).astype(np.int32))
        for j in w:
            terms.append([t for s in sids[j : j + 4] for t in pool.terms[s]])
        counts = ent_first[sids + 1] - ent_first[sids]
        if counts.sum():
            rows = np.concatenate([np.arange(ent_first[s], ent_first[s + 1]) for s in sids[counts > 0]])
            shift = np.repeat(starts[counts > 0], counts[counts > 0])
            er = np.zeros(len(rows), dtype=ENT_DTYPE)
            er["doc"], er["start"], er["end"], er["label"] = (
                d,
                flat[rows, 0] + shift,
                flat[rows, 1] + shift,
                flat[rows, 2],
            )
            ent_parts.append(er)
        total += k
        d += 1
    entities = np.concatenate(ent_parts)
    entities.sort(order=["doc", "start", "end"])
    return Synthetic(docs, texts, np.concatenate(pass_parts), entities, terms, np.concatenate(sid_parts))


def passage_text(syn: Synthetic, row: int) -> str:
    r = syn.passages[row]
    return syn.texts[int(r["doc"])][int(r["start"]) : int(r["end"])]


def embed_cached(embedder: MiniLMEmbedder, texts: list[str], cache_dir: Path) -> tuple[np.ndarray, float | None]:
    """Real embeddings of `texts`, kept on disk by content so a second run needn't redo them."""
    path = emb_cache_path(embedder, texts, cache_dir)
    if path.exists():
        return np.load(path), None
    t = time.perf_counter()
    vecs = embedder.encode(texts, batch_size=64)
    took = time.perf_counter() - t
    cache_dir.mkdir(parents=True, exist_ok=True)
    np.save(path, vecs)
    return vecs, took


def emb_cache_path(embedder: MiniLMEmbedder, texts: list[str], cache_dir: Path) -> Path:
    key = hashlib.sha256(("\x00".join(texts) + embedder.name).encode()).hexdigest()[:20]
    return cache_dir / f"emb-{len(texts)}-{key}.npy"


def synthetic_vectors(real: np.ndarray, sentence_vecs: np.ndarray, sids: np.ndarray, seed: int) -> np.ndarray:
    """`real` rows first; then, per passage, its sentences' vectors summed, plus noise, normalised."""
    rng = np.random.default_rng(seed + 1)
    n, dim = len(sids), real.shape[1]
    out = np.empty((n, dim), dtype=np.float32)
    out[: len(real)] = real
    step = 100_000
    for lo in range(len(real), n, step):
        hi = min(n, lo + step)
        v = sentence_vecs[sids[lo:hi]].sum(axis=1)
        v /= np.linalg.norm(v, axis=1, keepdims=True)
        v += rng.standard_normal(size=v.shape, dtype=np.float32) * (NOISE / np.sqrt(dim))
        v /= np.linalg.norm(v, axis=1, keepdims=True)
        out[lo:hi] = v
    return out


def stress_vectors(real: np.ndarray, n: int, seed: int) -> np.ndarray:
    """`n` isotropically perturbed copies of random `real` rows: the adversarial case for ANN."""
    rng = np.random.default_rng(seed + 2)
    base = real[rng.integers(0, len(real), size=n)]
    v = base + rng.standard_normal(size=base.shape, dtype=np.float32) * (STRESS_NOISE / np.sqrt(real.shape[1]))
    v /= np.linalg.norm(v, axis=1, keepdims=True)
    return v.astype(np.float32)


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


def write_files(syn: Synthetic, folder: Path, first: int) -> None:
    """Write documents `first`.. of `syn` as .txt files (their doc ids are their relative paths)."""
    for info, text in zip(syn.docs[first:], syn.texts[first:]):
        p = folder / info.doc_id
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(text.encode("utf-8"))


# --------------------------------------------------------------------------------------- sections


def ask_all(pipe: Pipeline, questions: Sequence[str]) -> tuple[dict[str, list[float]], list[str | None]]:
    """Ask each question as if for the first time: the query-vector cache is emptied before each.

    (Within one question the cache still saves re-embedding it, as in production: retrieval and
    the answerer both need the question's vector.)
    """
    timings: dict[str, list[float]] = {s: [] for s in STAGES}
    answers: list[str | None] = []
    clear = getattr(pipe.embedder, "clear_cache", lambda: None)
    for q in questions:
        clear()
        ans = pipe.ask(q)
        answers.append(ans.answer)
        for s in STAGES:
            timings[s].append(ans.timings_ms.get(s, 0.0))
    return timings, answers


def section_latency(index_dir: Path, questions: list[str], passes: int) -> dict[str, Any]:
    """Warm latency in process; every question is embedded (see ask_all).

    The default query encoder (ONNX Runtime when installed) and torch's are timed question by
    question in turn, on the same index, so that their ratio is fair on a busy machine, and the
    answers of the two are compared.
    """
    emb = MiniLMEmbedder()
    pipes = {emb.query_backend: Pipeline(Settings(index_dir=index_dir), embedder=emb).load()}
    if emb.query_backend != "torch":
        pipes["torch"] = Pipeline(Settings(index_dir=index_dir), embedder=MiniLMEmbedder(query_backend="torch")).load()
    for pipe in pipes.values():
        pipe.ask("warm-up: who spoke?")
    first: dict[str, dict[str, list[float]]] = {b: {s: [] for s in STAGES} for b in pipes}
    steady: dict[str, dict[str, list[float]]] = {b: {s: [] for s in STAGES} for b in pipes}
    answers: dict[str, list[str | None]] = {b: [] for b in pipes}
    for n in range(passes):
        for q in questions:
            for b, pipe in pipes.items():
                t, a = ask_all(pipe, [q])
                for s in STAGES:
                    (first if n == 0 else steady)[b][s].extend(t[s])
                if n == 0:
                    answers[b].extend(a)
    main = emb.query_backend
    out: dict[str, Any] = {"questions": len(questions), "passes": passes, "query_backend": main}
    for b in pipes:
        share = statistics.median(steady[b]["retrieve_embed"]) / max(1e-9, statistics.median(steady[b]["total"]))
        out[b] = {
            "first_pass_ms": {s: pct(first[b][s]) for s in STAGES},
            "steady_ms": {s: pct(steady[b][s]) for s in STAGES},
            "embed_share_of_p50": round(share, 3),
        }
    out["steady_ms"], out["first_pass_ms"] = out[main]["steady_ms"], out[main]["first_pass_ms"]
    out["embed_share_of_p50"] = out[main]["embed_share_of_p50"]
    if "torch" in pipes and main != "torch":
        out["answers_differing_from_torch"] = sum(1 for a, b in zip(answers[main], answers["torch"]) if a != b)
        out["torch_over_onnx_embed_p50"] = round(
            out["torch"]["steady_ms"]["retrieve_embed"]["p50"]
            / max(1e-6, out[main]["steady_ms"]["retrieve_embed"]["p50"]),
            2,
        )
        out["torch_over_onnx_total_p50"] = round(
            out["torch"]["steady_ms"]["total"]["p50"] / max(1e-6, out[main]["steady_ms"]["total"]["p50"]), 2
        )
    return out


COLD_CHILD = r"""
import json, sys, time
t0 = time.time()
from qa.config import Settings
from qa.pipeline import Pipeline
from pathlib import Path
t1 = time.time()
pipe = Pipeline(Settings(index_dir=Path(sys.argv[1]))).load()
t2 = time.time()
ans = pipe.ask(sys.argv[2])
t3 = time.time()
print(json.dumps({"t_start": t0, "t_imported": t1, "t_loaded": t2, "t_answered": t3, "answer": ans.answer}))
"""


def cold_start(index_dir: Path, question: str, runs: int) -> dict[str, Any]:
    """Process start to first answer, in a fresh interpreter (page cache warm: files were just used)."""
    walls: list[float] = []
    parts: list[dict[str, float]] = []
    for _ in range(runs):
        t0 = time.time()
        out = subprocess.run(
            [sys.executable, "-c", COLD_CHILD, str(index_dir), question],
            capture_output=True,
            text=True,
            env=child_env(),
            cwd=ROOT,
            timeout=600,
            check=False,
        )
        if out.returncode != 0:
            raise RuntimeError(f"cold-start child failed: {out.stderr[-2000:]}")
        rec = json.loads(out.stdout.strip().splitlines()[-1])
        walls.append(rec["t_answered"] - t0)
        parts.append(
            {
                "interpreter_and_imports": rec["t_imported"] - t0,
                "index_load": rec["t_loaded"] - rec["t_imported"],
                "first_answer_incl_model_load": rec["t_answered"] - rec["t_loaded"],
            }
        )
    mid = int(np.argsort(walls)[len(walls) // 2])
    return {
        "runs": runs,
        "median_s": round(statistics.median(walls), 2),
        "all_s": [round(w, 2) for w in walls],
        "median_run_parts_s": {k: round(v, 2) for k, v in parts[mid].items()},
    }


def section_ingest(embedder: MiniLMEmbedder, pool: Pool, head: tuple[Any, ...], n: int, work: Path) -> dict[str, Any]:
    """End-to-end `update_index` on a fresh folder, then raw encode of the very same passages."""
    folder = work / "ingest-corpus"
    index_dir = work / "ingest-index"
    for p in (folder, index_dir):
        shutil.rmtree(p, ignore_errors=True)
    syn = synthesize(pool, n + len(head[2]), SEED + 100, head, str(folder.resolve()))
    n_head = len(head[0])
    write_files(syn, folder, n_head)  # synthetic documents only: new text throughout
    settings = Settings(index_dir=index_dir)
    embedder.encode(["warm-up"] * 20)  # the model is loaded and bulk threads warmed before timing
    # The very passages ingest will embed, as `qa ingest` cuts them (the chunking is not timed here).
    texts = [p.text for doc in syn.docs[n_head:] for p in _chunks(doc.doc_id, folder, embedder)]
    model, torch = embedder.model, embedder._torch

    def raw_encode(part: list[str]) -> float:
        """sentence-transformers' own encode, one call, all cores (as ingest uses)."""
        torch.set_num_threads(embedder.bulk_threads)
        try:
            t = time.perf_counter()
            model.encode(part, batch_size=64, normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False)
            return time.perf_counter() - t
        finally:
            torch.set_num_threads(embedder.query_threads)

    # Raw encode of every other passage before ingest and of the rest after it, so that a change
    # in the machine's load during the run weighs on both sides alike.
    raw = raw_encode(texts[0::2])
    gc.collect()
    t = time.perf_counter()
    report = update_index(settings, embedder, roots=[folder])
    took = time.perf_counter() - t
    raw += raw_encode(texts[1::2])
    data = store.load(index_dir, embedder.name, embedder.dim)
    if len(texts) != data.n_passages:
        raise RuntimeError(f"raw encode saw {len(texts)} passages but ingest made {data.n_passages}")
    docs = [data.texts[i] for i in range(len(data.docs))]
    t = time.perf_counter()
    annotate.entities(docs)
    ner_alone = time.perf_counter() - t
    t = time.perf_counter()
    again = update_index(settings, embedder, roots=[folder])
    reingest = time.perf_counter() - t
    return {
        "passages": report.total_passages,
        "documents": report.total_documents,
        "ingest_s": round(took, 2),
        "ingest_passages_per_s": round(report.total_passages / took, 1),
        "raw_encode_s": round(raw, 2),
        "raw_encode_passages_per_s": round(len(texts) / raw, 1),
        "ratio_ingest_to_raw": round(took / raw, 3),
        "stages_s": {k: round(v, 2) for k, v in report.timings_s.items()},
        "ner_alone_s": round(ner_alone, 2),
        "reingest_unchanged_s": round(reingest, 3),
        "reingest_changed": again.changed,
    }


def _chunks(doc_id: str, folder: Path, embedder: MiniLMEmbedder) -> list[Any]:
    """Passages of one written file exactly as ingest cuts them (same settings, same token counter)."""
    from qa.chunk import make_passages
    from qa.ingest import parse_document

    doc = parse_document(doc_id, (folder / doc_id).read_bytes())
    s = Settings()
    return make_passages(
        doc.doc_id,
        doc.text,
        split_sentences(doc.text),
        max_tokens=s.passage_max_tokens,
        max_sentences=s.passage_max_sentences,
        overlap=s.passage_overlap_sentences,
        count_tokens=embedder.count_tokens,
    )


def section_reingest_10k(folder: Path, index_dir: Path, embedder: MiniLMEmbedder) -> dict[str, Any]:
    """Re-ingest of an unchanged 10k-passage folder: in process, and as a `qa ingest` command."""
    settings = Settings(index_dir=index_dir)
    t = time.perf_counter()
    report = update_index(settings, embedder, roots=[folder])
    in_process = time.perf_counter() - t
    qa = Path(sys.executable).with_name("qa")
    cmd = [str(qa)] if qa.exists() else [sys.executable, "-m", "qa.cli"]
    t = time.perf_counter()
    out = subprocess.run(
        [*cmd, "ingest", str(folder), "--index", str(index_dir)],
        capture_output=True,
        text=True,
        env=child_env(),
        cwd=ROOT,
        timeout=600,
        check=False,
    )
    command = time.perf_counter() - t
    return {
        "passages": report.total_passages,
        "documents": report.total_documents,
        "changed": report.changed,
        "in_process_s": round(in_process, 3),
        "command_s": round(command, 2),
        "command_output": out.stdout.strip()[-300:],
        "stages_s": {k: round(v, 3) for k, v in report.timings_s.items()},
    }


# ------------------------------------------------------------------------------------------ server


class Server:
    """`qa serve` on a free loopback port, as a child process."""

    def __init__(self, index_dir: Path) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        qa = Path(sys.executable).with_name("qa")
        cmd = [str(qa)] if qa.exists() else [sys.executable, "-m", "qa.cli"]
        self.started = time.time()
        self.proc = subprocess.Popen(
            [*cmd, "serve", "--host", "127.0.0.1", "--port", str(self.port), "--index", str(index_dir)],
            cwd=ROOT,
            env=child_env(),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )

    def wait_ready(self, timeout: float = 300) -> float:
        import httpx

        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                err = self.proc.stderr.read().decode(errors="replace") if self.proc.stderr else ""
                raise RuntimeError(f"qa serve exited with {self.proc.returncode}: {err[-2000:]}")
            try:
                if httpx.get(self.base + "/healthz", timeout=5).status_code == 200:
                    return time.time() - self.started
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"qa serve did not answer /healthz within {timeout:.0f} s")

    def ask(self, question: str) -> dict[str, Any]:
        import httpx

        r = httpx.post(self.base + "/api/ask", json={"question": question}, timeout=120)
        r.raise_for_status()
        return dict(r.json())

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


async def _load(base: str, questions: list[str], clients: int) -> dict[str, Any]:
    import httpx

    latencies: list[float] = []
    answers: dict[int, str | None] = {}
    errors: list[str] = []
    queue: asyncio.Queue[int] = asyncio.Queue()
    for i in range(len(questions)):
        queue.put_nowait(i)
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(base_url=base, timeout=120, limits=limits) as client:

        async def worker() -> None:
            while True:
                try:
                    i = queue.get_nowait()
                except asyncio.QueueEmpty:
                    return
                t = time.perf_counter()
                try:
                    r = await client.post("/api/ask", json={"question": questions[i]})
                    latencies.append((time.perf_counter() - t) * 1000)
                    if r.status_code != 200:
                        errors.append(f"{r.status_code}: {r.text[:200]}")
                    else:
                        answers[i] = r.json().get("answer")
                except httpx.HTTPError as e:
                    errors.append(f"{type(e).__name__}: {e}")

        t0 = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(clients)))
        wall = time.perf_counter() - t0
    return {
        "clients": clients,
        "requests": len(questions),
        "wall_s": round(wall, 2),
        "req_per_s": round(len(questions) / wall, 1),
        "latency_ms": pct(latencies),
        "errors": len(errors),
        "error_samples": errors[:3],
        "answers": answers,
    }


def section_server(
    index_dir: Path, gold: list[str], warm: list[str], levels: Sequence[int], rounds: int
) -> dict[str, Any]:
    """Throughput and latency of POST /api/ask; every level asks never-seen (re-spaced) questions."""
    import psutil

    server = Server(index_dir)
    try:
        ready = server.wait_ready()
        t = time.time()
        server.ask(gold[0])
        first = time.time() - server.started
        # Warm the answerer's per-process caches on these documents (as a server that has been
        # answering questions has them), with texts that no measured request repeats.
        for q in warm + [spaced(g, 50) for g in gold]:
            server.ask(q)
        warm_s = time.time() - t
        out: dict[str, Any] = {
            "ready_s": round(ready, 2),
            "first_answer_s": round(first, 2),
            "warmup_requests": len(warm) + len(gold),
            "warmup_s": round(warm_s, 1),
            "levels": [],
        }
        reference: dict[int, str | None] | None = None
        proc = psutil.Process(server.proc.pid)
        for n, c in enumerate(levels):
            qs = [spaced(g, 1 + n * rounds + r) for r in range(rounds) for g in gold]
            cpu0 = sum(proc.cpu_times()[:2])
            res = asyncio.run(_load(server.base, qs, c))
            # CPU seconds the server spent per request: unlike req/s, this barely depends on what
            # else the machine is running, and cores / cpu_per_request bounds the throughput.
            cpu_ms = (sum(proc.cpu_times()[:2]) - cpu0) * 1000 / len(qs)
            res["server_cpu_ms_per_request"] = round(cpu_ms, 1)
            res["bound_req_per_s_all_cores"] = round((os.cpu_count() or 1) * 1000 / max(cpu_ms, 1e-6), 1)
            got = res.pop("answers")
            by_q = {i % len(gold): a for i, a in got.items()}
            if reference is None:
                reference = by_q
            res["answers_differing_from_first_level"] = sum(1 for i, a in by_q.items() if reference.get(i) != a)
            out["levels"].append(res)
            log(
                f"server: {c} clients {res['req_per_s']} req/s p50 {res['latency_ms'].get('p50')} ms "
                f"errors {res['errors']}"
            )
        out["memory_mb"] = rss_of(server.proc.pid)
        return out
    finally:
        server.stop()


def serve_probe(index_dir: Path, questions: list[str]) -> dict[str, Any]:
    """Cold start of `qa serve` to its first answer, then memory after answering `questions`."""
    server = Server(index_dir)
    try:
        ready = server.wait_ready()
        server.ask(questions[0])
        first = time.time() - server.started
        lat = []
        for q in questions:
            t = time.perf_counter()
            server.ask(spaced(q, 3))
            lat.append((time.perf_counter() - t) * 1000)
        return {
            "ready_s": round(ready, 2),
            "first_answer_s": round(first, 2),
            "http_latency_ms": pct(lat),
            "memory_mb": rss_of(server.proc.pid),
        }
    finally:
        server.stop()


# ------------------------------------------------------------------------------------------- scale


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


# ------------------------------------------------------------------------------------------- peers


def peer_rank_bm25(index_dir: Path, embedder: MiniLMEmbedder, questions: list[str]) -> dict[str, Any]:
    """rank_bm25 (BM25Okapi) against our bm25s search, same passages, same terms, same queries."""
    from rank_bm25 import BM25Okapi

    data = store.load(index_dir, embedder.name, embedder.dim)
    ret = Retriever(data, embedder, mode="lexical")
    t = time.perf_counter()
    corpus = [lexical_terms(data.passage(r).text) or ["\x00"] for r in range(data.n_passages)]
    terms_s = time.perf_counter() - t
    t = time.perf_counter()
    peer = BM25Okapi(corpus)
    peer_build = time.perf_counter() - t
    t = time.perf_counter()
    store.build_lexical(corpus)
    ours_build = time.perf_counter() - t
    ours_ms, peer_ms, overlap = [], [], []
    from qa.text import query_terms

    for q in questions:
        t = time.perf_counter()
        mine = _top(ret.lexical_scores(q), 10)
        ours_ms.append((time.perf_counter() - t) * 1000)
        t = time.perf_counter()
        terms = [x for x in ret.expand(query_terms(q)) if x in ret._vocab]
        theirs = np.argsort(-peer.get_scores(terms), kind="stable")[:10] if terms else np.zeros(0, dtype=np.int64)
        peer_ms.append((time.perf_counter() - t) * 1000)
        if len(mine):
            overlap.append(len(set(mine.tolist()) & set(theirs.tolist())) / min(10, len(mine)))
    return {
        "passages": data.n_passages,
        "term_lists_s": round(terms_s, 2),
        "build_s": {"ours_bm25s": round(ours_build, 2), "rank_bm25": round(peer_build, 2)},
        "query_ms": {"ours": pct(ours_ms), "rank_bm25": pct(peer_ms)},
        "rank_bm25_over_ours_p50": round(pct(peer_ms)["p50"] / max(1e-6, pct(ours_ms)["p50"]), 1),
        "top10_overlap": round(float(np.mean(overlap)), 3) if overlap else None,
    }


def answer_in(texts: list[str], answers: list[str]) -> bool:
    low = [t.lower() for t in texts]
    return any(a.lower() in t for a in answers for t in low)


def peer_haystack(
    index_dir: Path, gold: list[dict[str, Any]], embedder: MiniLMEmbedder, scale_dir: Path | None, scale_questions: int
) -> dict[str, Any]:
    """Haystack's in-memory BM25 and embedding retrievers against ours, on our passages and model.

    Recall@5: the share of answerable gold questions with an answer string inside one of the top 5
    passages (all retrievers see the same passages). Latency: one question at a time.
    """
    from haystack import Document
    from haystack.components.retrievers.in_memory import (
        InMemoryBM25Retriever,
        InMemoryEmbeddingRetriever,
    )
    from haystack.document_stores.in_memory import InMemoryDocumentStore
    from haystack_integrations.components.embedders.sentence_transformers import (
        SentenceTransformersDocumentEmbedder,
        SentenceTransformersTextEmbedder,
    )

    data = store.load(index_dir, embedder.name, embedder.dim)
    passages = [data.passage(r) for r in range(data.n_passages)]
    items = [g for g in gold if g.get("answerable", True)]
    mp = str(model_path())
    doc_emb = SentenceTransformersDocumentEmbedder(
        model=mp, normalize_embeddings=True, progress_bar=False, local_files_only=True
    )
    txt_emb = SentenceTransformersTextEmbedder(
        model=mp, normalize_embeddings=True, progress_bar=False, local_files_only=True
    )
    doc_emb.warm_up()
    txt_emb.warm_up()
    hdocs = [Document(id=str(i), content=p.text, meta={"doc_id": p.doc_id}) for i, p in enumerate(passages)]
    t = time.perf_counter()
    hdocs = doc_emb.run(documents=hdocs)["documents"]
    h_embed_s = time.perf_counter() - t
    ds = InMemoryDocumentStore(embedding_similarity_function="dot_product")
    ds.write_documents(hdocs)
    bm25 = InMemoryBM25Retriever(document_store=ds, top_k=5)
    dense = InMemoryEmbeddingRetriever(document_store=ds, top_k=5)
    ours = {m: Retriever(data, embedder, mode=m) for m in ("hybrid", "dense", "lexical")}

    res: dict[str, dict[str, list[float]]] = {}

    def record(name: str, ms: float, texts: list[str], answers: list[str]) -> None:
        r = res.setdefault(name, {"ms": [], "hit": []})
        r["ms"].append(ms)
        r["hit"].append(1.0 if answer_in(texts, answers) else 0.0)

    for g in items:
        q, ans = g["question"], g["answers"]
        for m, ret in ours.items():
            embedder.clear_cache()
            t = time.perf_counter()
            hits = ret.search(q, k=5).hits
            record(f"ours_{m}", (time.perf_counter() - t) * 1000, [h.passage.text for h in hits], ans)
        t = time.perf_counter()
        docs = bm25.run(query=q)["documents"]
        record("haystack_bm25", (time.perf_counter() - t) * 1000, [d.content or "" for d in docs], ans)
        t = time.perf_counter()
        qv = txt_emb.run(text=q)["embedding"]
        docs = dense.run(query_embedding=qv)["documents"]
        record("haystack_embedding", (time.perf_counter() - t) * 1000, [d.content or "" for d in docs], ans)
    table = {
        name: {"recall_at_5": round(float(np.mean(r["hit"])), 3), "latency_ms": pct(r["ms"])} for name, r in res.items()
    }
    out: dict[str, Any] = {
        "passages": len(passages),
        "questions": len(items),
        "retrievers": table,
        "haystack_document_embedding_s": round(h_embed_s, 2),
        "ratios_p50": {
            "haystack_bm25_over_ours_lexical": _ratio(table, "haystack_bm25", "ours_lexical"),
            "haystack_embedding_over_ours_dense": _ratio(table, "haystack_embedding", "ours_dense"),
            "haystack_embedding_over_ours_hybrid": _ratio(table, "haystack_embedding", "ours_hybrid"),
        },
    }
    if scale_dir is not None:
        out["at_scale"] = _haystack_at_scale(
            scale_dir, embedder, [g["question"] for g in items][:scale_questions], txt_emb
        )
    return out


def _ratio(table: dict[str, Any], a: str, b: str) -> float:
    return round(table[a]["latency_ms"]["p50"] / max(1e-6, table[b]["latency_ms"]["p50"]), 1)


def _haystack_at_scale(index_dir: Path, embedder: MiniLMEmbedder, questions: list[str], txt_emb: Any) -> dict[str, Any]:
    """Latency only: Haystack's retrievers holding our passages and our vectors (same model)."""
    from haystack import Document
    from haystack.components.retrievers.in_memory import (
        InMemoryBM25Retriever,
        InMemoryEmbeddingRetriever,
    )
    from haystack.document_stores.in_memory import InMemoryDocumentStore

    data = store.load(index_dir, embedder.name, embedder.dim, with_vectors=True)
    assert data.vectors is not None
    vecs = np.asarray(data.vectors)
    t = time.perf_counter()
    ds = InMemoryDocumentStore(embedding_similarity_function="dot_product")
    ds.write_documents(
        [Document(id=str(r), content=data.passage(r).text, embedding=vecs[r].tolist()) for r in range(data.n_passages)]
    )
    load_s = time.perf_counter() - t
    bm25 = InMemoryBM25Retriever(document_store=ds, top_k=5)
    dense = InMemoryEmbeddingRetriever(document_store=ds, top_k=5)
    ours = {m: Retriever(data, embedder, mode=m) for m in ("hybrid", "dense", "lexical")}
    ms: dict[str, list[float]] = {}
    for q in questions:
        for m, ret in ours.items():
            embedder.clear_cache()
            t = time.perf_counter()
            ret.search(q, k=5)
            ms.setdefault(f"ours_{m}", []).append((time.perf_counter() - t) * 1000)
        t = time.perf_counter()
        bm25.run(query=q)
        ms.setdefault("haystack_bm25", []).append((time.perf_counter() - t) * 1000)
        t = time.perf_counter()
        dense.run(query_embedding=txt_emb.run(text=q)["embedding"])
        ms.setdefault("haystack_embedding", []).append((time.perf_counter() - t) * 1000)
    table = {k: {"latency_ms": pct(v)} for k, v in ms.items()}
    return {
        "passages": data.n_passages,
        "questions": len(questions),
        "haystack_store_load_s": round(load_s, 1),
        "retrievers": table,
        "ratios_p50": {
            "haystack_bm25_over_ours_lexical": _ratio(table, "haystack_bm25", "ours_lexical"),
            "haystack_embedding_over_ours_dense": _ratio(table, "haystack_embedding", "ours_dense"),
        },
    }


# ------------------------------------------------------------------------------------------ report


TARGETS: list[tuple[str, str, Callable[[dict[str, Any]], float | None], str, float]] = [
    ("bundled warm p50 (in process)", "ms", lambda r: r["latency"]["steady_ms"]["total"]["p50"], "<=", 20),
    ("bundled warm p95 (in process)", "ms", lambda r: r["latency"]["steady_ms"]["total"]["p95"], "<=", 40),
    ("server req/s at 4 clients", "req/s", lambda r: _level(r, 4, "req_per_s"), ">=", 50),
    ("server errors (all levels)", "", lambda r: sum(lv["errors"] for lv in r["server"]["levels"]), "<=", 0),
    ("ingestion time / raw encode", "x", lambda r: r["ingest"]["ratio_ingest_to_raw"], "<=", 1.3),
    ("re-ingest unchanged 10k (qa ingest)", "s", lambda r: r["reingest_10k"]["command_s"], "<", 5),
    (
        "1M query p50, new question (in process)",
        "ms",
        lambda r: _scale(r, "1m", lambda s: s["first_pass_ms"]["total"]["p50"]),
        "<=",
        50,
    ),
    (
        "1M query p50, repeated question",
        "ms",
        lambda r: _scale(r, "1m", lambda s: s["steady_ms"]["total"]["p50"]),
        "<=",
        50,
    ),
    (
        "1M retrieval p50, new question",
        "ms",
        lambda r: _scale(r, "1m", lambda s: s["first_pass_ms"]["retrieve"]["p50"]),
        "<=",
        50,
    ),
    ("1M recall@10 vs exact", "", lambda r: _scale(r, "1m", lambda s: s["vectors"]["recall_at_10"]), ">=", 0.95),
    (
        "1M serving memory (RSS)",
        "MB",
        lambda r: _scale(r, "1m", lambda s: s["serve"]["memory_mb"]["VmRSS"]),
        "<=",
        3072,
    ),
    ("1M cold start", "s", lambda r: _scale(r, "1m", lambda s: s["cold_start"]["median_s"]), "<=", 15),
]


def _level(r: dict[str, Any], clients: int, key: str) -> float | None:
    for lv in r.get("server", {}).get("levels", []):
        if lv["clients"] == clients:
            return float(lv[key])
    return None


def _scale(r: dict[str, Any], name: str, get: Callable[[dict[str, Any]], float]) -> float | None:
    s = r.get("scale", {}).get(name)
    try:
        return float(get(s)) if s else None
    except (KeyError, TypeError):
        return None


def check_targets(results: dict[str, Any]) -> list[dict[str, Any]]:
    out = []
    for name, unit, get, op, goal in TARGETS:
        try:
            value = get(results)
        except (KeyError, TypeError, StopIteration):
            value = None
        met = (
            None if value is None else (value <= goal if op == "<=" else value >= goal if op == ">=" else value < goal)
        )
        out.append({"target": name, "goal": f"{op} {goal:g} {unit}".strip(), "value": value, "met": met})
    return out


def render(r: dict[str, Any]) -> str:  # noqa: C901 - one flat section per benchmark part
    """The markdown report (also printed)."""
    L: list[str] = []
    m = r["machine"]
    L.append(
        f"docqa benchmark, {m['started']} on {m['cpus']} CPUs (load average {m['load_average_start']} at start, "
        f"{m.get('load_average_end')} at end), commit {m['commit']}, mode {r['mode']}, took {r.get('took_min')} min."
    )
    L.append("")
    L.append("| Figure | docqa | peer / target |")
    L.append("|---|---|---|")

    def row(a: str, b: Any, c: Any = "") -> None:
        L.append(f"| {a} | {b} | {c} |")

    if "cold_bundled" in r:
        c = r["cold_bundled"]
        p = c["median_run_parts_s"]
        row(
            "Cold start to first answer, bundled corpus",
            f"{c['median_s']} s (median of {c['runs']}; imports "
            f"{p['interpreter_and_imports']:.1f} + index {p['index_load']:.2f} + model and first answer "
            f"{p['first_answer_incl_model_load']:.1f})",
            "",
        )
    if "latency" in r:
        s = r["latency"]["steady_ms"]
        f = r["latency"]["first_pass_ms"]["total"]
        row(
            "Warm latency, bundled, in process (p50 / p95 / p99)",
            f"{s['total']['p50']} / {s['total']['p95']} / {s['total']['p99']} ms",
            "≤ 20 / ≤ 40 ms",
        )
        row(
            "… query embedding / dense / lexical / fusion / answer (p50)",
            " / ".join(f"{s[k]['p50']}" for k in PARTS) + " ms",
            f"embedding = {r['latency']['embed_share_of_p50']:.0%} of p50",
        )
        row(
            "… first time each question is asked (p50 / p95 / p99)",
            f"{f['p50']} / {f['p95']} / {f['p99']} ms",
            "answerer caches cold",
        )
        lt = r["latency"]
        if "torch" in lt and lt["query_backend"] != "torch":
            ts = lt["torch"]["steady_ms"]
            row(
                f"… query encoder {lt['query_backend']} vs torch, same run (p50 embed / total)",
                f"{s['retrieve_embed']['p50']} / {s['total']['p50']} ms",
                f"torch {ts['retrieve_embed']['p50']} / {ts['total']['p50']} ms "
                f"(**{lt['torch_over_onnx_embed_p50']}×** "
                f"embed); answers differing: {lt['answers_differing_from_torch']} of {lt['questions']}",
            )
    if "ingest" in r:
        g = r["ingest"]
        st = g["stages_s"]
        row(
            f"Ingestion, {g['passages']} new passages, end to end",
            f"{g['ingest_passages_per_s']} passages/s ({g['ingest_s']} s)",
            f"raw encode {g['raw_encode_passages_per_s']} passages/s; ratio "
            f"**{g['ratio_ingest_to_raw']}×** (target ≤ 1.3×)",
        )
        row(
            "… stages (s)",
            ", ".join(f"{k} {v}" for k, v in st.items()),
            f"NER alone {g['ner_alone_s']} s (overlapped with embedding)",
        )
    if "reingest_10k" in r:
        g = r["reingest_10k"]
        row(
            f"Re-ingest unchanged, {g['passages']} passages",
            f"`qa ingest` {g['command_s']} s; in process {g['in_process_s']} s",
            "< 5 s",
        )
    if "server" in r:
        sv = r["server"]
        for lv in sv["levels"]:
            la = lv["latency_ms"]
            row(
                f"Server, {lv['clients']} concurrent client(s), {lv['requests']} requests",
                f"{lv['req_per_s']} req/s, p50 {la['p50']} / p95 {la['p95']} ms, {lv['errors']} errors; "
                f"{lv['server_cpu_ms_per_request']} CPU-ms/request, answers differing "
                f"{lv['answers_differing_from_first_level']}",
                "≥ 50 req/s at 4 clients, 0 errors" if lv["clients"] == 4 else "",
            )
        row("Server memory (bundled)", f"{sv['memory_mb'].get('VmRSS')} MB RSS", "")
    for name, s in r.get("scale", {}).items():
        b = s["build"]
        v = s["vectors"]
        st = s["steady_ms"]
        reused = " (reused build)" if b.get("reused") else ""
        row(
            f"**{name}** passages: build{reused}",
            f"{b['build_s']} s (vectors {b['index_kind']} {b['faiss_build_s']} s, "
            f"BM25 {b['lexical_build_s']} s, write {b['write_s']} s); {b['disk_mb'] / 1000:.2f} GB on disk",
            "",
        )
        fp = s["first_pass_ms"]
        row(
            f"{name}: new question p50 / p95 (in process)",
            f"{fp['total']['p50']} / {fp['total']['p95']} ms "
            f"(retrieval {fp['retrieve']['p50']}, answer {fp['answer']['p50']})",
            "≤ 50 ms p50 at 1M" if name == "1m" else "",
        )
        row(
            f"{name}: repeated question p50 / p95",
            f"{st['total']['p50']} / {st['total']['p95']} ms (embed "
            f"{st['retrieve_embed']['p50']}, dense {st['retrieve_dense']['p50']}, "
            f"lexical {st['retrieve_lexical']['p50']}, "
            f"fusion {st['retrieve_fusion']['p50']}, answer {st['answer']['p50']})",
            "answerer's sentence vectors cached",
        )
        rec = v.get("recall_at_10")
        exact = v["exact_search_ms"]["p50"]
        if "approx_search_ms" in v:
            row(
                f"{name}: vector search, {v['index_kind']} efSearch {v['efSearch']}",
                f"{v['approx_search_ms']['p50']} ms p50, recall@10 {rec}",
                f"FAISS exact {exact} ms p50: **{v['exact_over_approx_p50']}×** slower",
            )
        else:
            row(f"{name}: vector search, {v['index_kind']} (exact)", f"{exact} ms p50, recall@10 1.0", "")
        cs = s["cold_start"]
        sv = s.get("serve")
        mem = f"; `qa serve` RSS {sv['memory_mb']['VmRSS']} MB (anon {sv['memory_mb']['RssAnon']} MB)" if sv else ""
        row(
            f"{name}: cold start to first answer",
            f"{cs['median_s']} s{mem}",
            "≤ 15 s, ≤ 3 GB at 1M" if name == "1m" else "",
        )
    if "stress_recall_100k" in r:
        sr = r["stress_recall_100k"]
        row(
            "Stress: HNSW recall@10 on isotropic copies, 100k",
            ", ".join(f"efSearch {x['efSearch']}: {x['recall_at_10']}" for x in sr["sweep"]),
            "adversarial vectors, not the index above",
        )
    if "rank_bm25" in r.get("peers", {}):
        p = r["peers"]["rank_bm25"]
        row(
            f"Lexical vs rank_bm25 ({p['passages']} passages)",
            f"bm25s {p['query_ms']['ours']['p50']} ms p50, build {p['build_s']['ours_bm25s']} s",
            f"rank_bm25 {p['query_ms']['rank_bm25']['p50']} ms "
            f"(**{p['rank_bm25_over_ours_p50']}×**), build {p['build_s']['rank_bm25']} s; "
            f"top-10 overlap {p['top10_overlap']}",
        )
    if "haystack" in r.get("peers", {}):
        h = r["peers"]["haystack"]
        t = h["retrievers"]
        row(
            f"Haystack, bundled ({h['passages']} passages, {h['questions']} questions): recall@5",
            f"hybrid {t['ours_hybrid']['recall_at_5']}, dense {t['ours_dense']['recall_at_5']}, "
            f"lexical {t['ours_lexical']['recall_at_5']}",
            f"embedding {t['haystack_embedding']['recall_at_5']}, BM25 {t['haystack_bm25']['recall_at_5']}",
        )
        row(
            "… retrieval latency p50",
            f"hybrid {t['ours_hybrid']['latency_ms']['p50']}, dense {t['ours_dense']['latency_ms']['p50']}, "
            f"lexical {t['ours_lexical']['latency_ms']['p50']} ms",
            f"embedding {t['haystack_embedding']['latency_ms']['p50']} ms "
            f"(**{h['ratios_p50']['haystack_embedding_over_ours_dense']}×** ours dense), BM25 "
            f"{t['haystack_bm25']['latency_ms']['p50']} ms "
            f"(**{h['ratios_p50']['haystack_bm25_over_ours_lexical']}×** ours lexical)",
        )
        if "at_scale" in h:
            a = h["at_scale"]
            at = a["retrievers"]
            row(
                f"… at {a['passages']} passages (latency p50)",
                f"dense {at['ours_dense']['latency_ms']['p50']}, lexical {at['ours_lexical']['latency_ms']['p50']}, "
                f"hybrid {at['ours_hybrid']['latency_ms']['p50']} ms",
                f"embedding {at['haystack_embedding']['latency_ms']['p50']} ms "
                f"(**{a['ratios_p50']['haystack_embedding_over_ours_dense']}×**), "
                f"BM25 {at['haystack_bm25']['latency_ms']['p50']} ms "
                f"(**{a['ratios_p50']['haystack_bm25_over_ours_lexical']}×**)",
            )
    L.append("")
    L.append("| Target | Goal | Measured | Met |")
    L.append("|---|---|---|---|")
    for t_ in r.get("targets", []):
        met = "—" if t_["met"] is None else ("yes" if t_["met"] else "**no**")
        val = "not run" if t_["value"] is None else t_["value"]
        L.append(f"| {t_['target']} | {t_['goal']} | {val} | {met} |")
    return "\n".join(L)


# -------------------------------------------------------------------------------------------- main


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        description=__doc__.splitlines()[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--quick", action="store_true", help="sizes 10k and 100k, fewer repeats (a few minutes)")
    ap.add_argument(
        "--sizes", help="comma-separated scale sizes among 10k,100k,1m (default: 10k,100k,1m; quick: 10k,100k)"
    )
    ap.add_argument(
        "--sections", default="cold,latency,ingest,server,scale,peers", help="which sections to run (default: all)"
    )
    ap.add_argument("--work", type=Path, default=Path("/tmp/docqa-bench"), help="folder for corpora and indexes")
    ap.add_argument("--reuse", action="store_true", help="reuse scale indexes built earlier with the same parameters")
    ap.add_argument("--out", type=Path, default=RESULTS / "latest.json")
    args = ap.parse_args(argv)
    quick = args.quick
    sizes = [
        s.strip().lower() for s in (args.sizes or ("10k,100k" if quick else "10k,100k,1m")).split(",") if s.strip()
    ]
    unknown = [s for s in sizes if s not in SIZES]
    if unknown:
        ap.error(f"unknown size(s) {unknown}; choose among {', '.join(SIZES)}")
    sections = {s.strip() for s in args.sections.split(",")}
    work: Path = args.work
    work.mkdir(parents=True, exist_ok=True)
    t_start = time.time()
    results: dict[str, Any] = {"mode": "quick" if quick else "full", "sizes": sizes, "machine": machine()}
    gold_items = load_gold(GOLD)
    gold = [g["question"] for g in gold_items]
    warm = [g["question"] for g in load_gold(WARM_GOLD)]

    embedder = MiniLMEmbedder()
    # The bundled corpus, ingested fresh (so the index is in the current format).
    bundled = work / "bundled-index"
    shutil.rmtree(bundled, ignore_errors=True)
    log("ingesting the bundled corpus")
    t = time.perf_counter()
    rep = update_index(Settings(index_dir=bundled), embedder, roots=[CORPUS])
    results["bundled"] = {
        "documents": rep.total_documents,
        "passages": rep.total_passages,
        "ingest_s_incl_model_load": round(time.perf_counter() - t, 1),
    }

    if "cold" in sections:
        log("cold start, bundled")
        results["cold_bundled"] = cold_start(bundled, gold[0], 3)
    if "latency" in sections:
        log("warm latency, bundled")
        results["latency"] = section_latency(bundled, gold, passes=3 if quick else 5)
    pool = Pool.from_corpus(CORPUS)
    head = bundled_docs(store.load(bundled, embedder.name, embedder.dim))
    if "ingest" in sections:
        n = 600 if quick else 5000
        log(f"ingestion of {n} passages, and raw encode of the same")
        results["ingest"] = section_ingest(embedder, pool, head, n, work)
    if "server" in sections:
        log("server under load")
        results["server"] = section_server(bundled, gold, warm, (1, 4, 16), rounds=1 if quick else 2)

    need_scale = "scale" in sections or "peers" in sections or "ingest" in sections
    if need_scale:
        sentence_vecs, _ = embed_cached(embedder, pool.sentences, work / "cache")
        vec = Vectors(embedder, sentence_vecs, 1000 if quick else 5000, work / "cache")
        qvecs = np.stack([embedder.encode([q], batch_size=1)[0] for q in gold])
        scale_qs = gold[::3] if quick else gold
        results["scale"] = {}
        dirs: dict[str, Path] = {}
        for name in sizes:
            size = SIZES[name]
            index_dir, build, folder, real = build_scale(size, pool, head, vec, work, args.reuse, files=(name == "10k"))
            dirs[name] = index_dir
            if name == "100k" and "scale" in sections:
                if real is None:
                    real = np.concatenate([head[5], np.load(build["real_cache"])]).astype(np.float32)
                log("stress recall: HNSW over isotropic copies of real vectors, 100k")
                results["stress_recall_100k"] = stress_recall(real, size, qvecs)
            if name == "10k" and folder is not None and "ingest" in sections:
                log("re-ingest of the unchanged 10k folder")
                results["reingest_10k"] = section_reingest_10k(folder, index_dir, embedder)
            if "scale" in sections:
                log(f"scale {name}: latency, recall, cold start, serving memory")
                results["scale"][name] = section_scale(
                    size,
                    index_dir,
                    build,
                    scale_qs,
                    qvecs,
                    passes=2 if size >= 1_000_000 or quick else 3,
                    embedder=embedder,
                    probe_questions=10 if quick else 40,
                )
                s = results["scale"][name]
                log(
                    f"scale {name}: p50 {s['steady_ms']['total']['p50']} ms, recall@10 "
                    f"{s['vectors'].get('recall_at_10')}, cold {s['cold_start']['median_s']} s"
                )
        if "peers" in sections:
            results["peers"] = {}
            peer_dir = dirs.get("100k" if not quick and "100k" in dirs else "10k")
            if peer_dir is not None:
                log("peer: rank_bm25")
                results["peers"]["rank_bm25"] = peer_rank_bm25(peer_dir, embedder, gold)
            log("peer: Haystack")
            results["peers"]["haystack"] = peer_haystack(
                bundled, gold_items, embedder, dirs.get("10k"), scale_questions=30 if quick else 119
            )

    results["targets"] = check_targets(results)
    results["machine"]["load_average_end"] = [round(x, 2) for x in os.getloadavg()]
    results["took_min"] = round((time.time() - t_start) / 60, 1)
    text = render(results)
    print(text)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=1, default=str) + "\n", encoding="utf-8")
    args.out.with_suffix(".md").write_text(text + "\n", encoding="utf-8")
    log(f"wrote {args.out} and {args.out.with_suffix('.md')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
