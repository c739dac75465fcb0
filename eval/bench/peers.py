"""Peers: rank_bm25 against our lexical search, Haystack's in-memory retrievers against ours.

Both sides get the same passages, terms, local model and questions, one question at a time, so the
ratios compare the libraries, not their inputs; recall@5 on the gold set says whether the faster one
also finds the answers. (FAISS exact against our approximate index is scale.py's recall measure.)
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np

from qa import store
from qa.embed import MiniLMEmbedder, model_path
from qa.retrieve import Retriever, _top
from qa.text import lexical_terms

from .common import pct


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
    return round(float(table[a]["latency_ms"]["p50"]) / max(1e-6, float(table[b]["latency_ms"]["p50"])), 1)


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
