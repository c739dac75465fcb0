"""Synthetic corpora for the ingest and scale sections, recombined from the bundled articles' sentences.

Documents are four-sentence windows sharing one sentence, as `qa ingest` cuts prose, so entities and
BM25 terms are exactly those of real text. Vectors are real embeddings for a base set and, beyond it,
each passage's sentence vectors summed plus a little noise (the package docstring says why); isotropic
copies of base vectors are the stress case. All generation: only embed_cached and write_files touch disk.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from qa import annotate, store
from qa.annotate import ENT_DTYPE
from qa.chunk import split_sentences
from qa.embed import MiniLMEmbedder
from qa.ingest import first_line_title
from qa.text import lexical_terms

SEED = 7
NOISE = 0.15  # norm of the noise added to a sentence-sum vector (cos ~0.99 to the sum)
STRESS_NOISE = 0.5  # isotropic copies of base vectors: cos(copy, base) ~ 1/sqrt(1 + 0.5^2) ~ 0.9
# Bump when the synthetic generation changes, so --reuse rebuilds (3: sentences and their vectors stored).
BENCH_FORMAT = 3


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
        k = min(int(rng.integers(4, 17)), n_passages - total)
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
    stressed: np.ndarray = v.astype(np.float32)
    return stressed


def write_files(syn: Synthetic, folder: Path, first: int) -> None:
    """Write documents `first`.. of `syn` as .txt files (their doc ids are their relative paths)."""
    for info, text in zip(syn.docs[first:], syn.texts[first:]):
        p = folder / info.doc_id
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(text.encode("utf-8"))
