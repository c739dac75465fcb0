"""Stage 2 of ingest: a document in, everything the index stores about it out; a pure map.

`process_batch` chunks, annotates (spaCy NER) and embeds a batch of documents with the model it is
given and nothing else shared, so an engine may run it in this process over the whole plan (as
ingest always has: one embedding pass, longest texts first, across all documents) or on many
workers over slices of it (`qa.ingest.ray_engine`).
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np

from qa import annotate
from qa.chunk import make_passages, sentence_spans, split_sentences
from qa.config import Settings
from qa.embed import Embedder
from qa.ingest.plan import Span, Work
from qa.text import lexical_terms

# (start, end, label id) of one named entity, offsets into the document text.
Entity = tuple[int, int, int]


@dataclass(frozen=True)
class DocRecord:
    """One document as the index stores it: text, spans, terms, entities and vectors."""

    doc_id: str
    title: str
    sha256: str
    root: str
    text: str
    pages: tuple[int, ...]
    passages: tuple[Span, ...]
    sentences: tuple[Span, ...]
    terms: tuple[tuple[str, ...], ...]  # BM25 terms of each passage
    entities: tuple[Entity, ...]
    passage_vectors: np.ndarray  # float32, (len(passages), dim)
    sentence_vectors: np.ndarray  # float32, (len(sentences), dim)
    embedded_passages: int = 0  # of them embedded now (the rest were the old generation's)
    embedded_sentences: int = 0


def chunk_settings(settings: Settings, embedder: Embedder) -> dict[str, Any]:
    """`make_passages` keyword arguments: the passage settings and the model's token counter."""
    kwargs: dict[str, Any] = dict(
        max_tokens=settings.passage_max_tokens,
        max_sentences=settings.passage_max_sentences,
        overlap=settings.passage_overlap_sentences,
    )
    count_tokens = getattr(embedder, "count_tokens", None)
    if count_tokens is not None:
        kwargs["count_tokens"] = count_tokens
    return kwargs


def chunk(doc_id: str, text: str, chunk_kwargs: dict[str, Any]) -> tuple[list[Span], list[Span]]:
    """(passage spans, sentence spans) of a text, split into sentences once for both."""
    split = split_sentences(text)
    passages = make_passages(doc_id, text, split, **chunk_kwargs)
    return [(p.start, p.end) for p in passages], [(x.start, x.end) for x in split]


def process(work: Work, settings: Settings, embedder: Embedder) -> DocRecord:
    """One document's record (`process_batch` of one)."""
    return process_batch([work], settings, embedder)[0][0]


def process_batch(
    works: Sequence[Work], settings: Settings, embedder: Embedder
) -> tuple[list[DocRecord], dict[str, float]]:
    """The records of `works`, in order, and seconds per stage (chunk, ner, ner_wait, embed,
    embed_sentences).

    All passages of the batch are embedded in one pass, then all sentences: the texts of many
    documents sorted together by length pad little, and the same batch always gives the same vectors.
    """
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    chunk_kwargs = chunk_settings(settings, embedder)
    spans: list[list[Span]] = []
    sents: list[list[Span]] = []
    for w in works:
        doc = w.document
        if w.passages is not None and w.passage_vectors is not None:
            p = list(w.passages)
            s = list(w.sentences) if w.sentences is not None else sentence_spans(doc.text)
        else:
            p, s = chunk(doc.doc_id, doc.text, chunk_kwargs)
        spans.append(p)
        sents.append(s)
    terms = [tuple(tuple(lexical_terms(w.document.text[a:b])) for a, b in p) for w, p in zip(works, spans)]
    new_passages = [i for i, w in enumerate(works) if w.passages is None or w.passage_vectors is None]
    # The same text split the same way keeps its sentence vectors (the model is the same).
    new_sentences = [
        i
        for i, w in enumerate(works)
        if w.sentences is None or w.sentence_vectors is None or list(w.sentences) != sents[i]
    ]
    to_annotate = [i for i, w in enumerate(works) if w.entities is None]
    t1 = time.perf_counter()
    timings["chunk"] = t1 - t0

    # NER runs in a thread while the model embeds (torch's matrix products release the GIL). It
    # hides spaCy's time where torch leaves a core idle (a busy machine, or more cores than torch
    # uses well); on an idle two-core machine torch fills both and NER still adds most of its time.
    found: list[list[Entity]] = []
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="ner") as pool:
        texts = [works[i].document.text for i in to_annotate]
        ner = pool.submit(_timed, annotate.entities, texts) if to_annotate else None
        passage_texts = [works[i].document.text[a:b] for i in new_passages for a, b in spans[i]]
        passage_vecs = embed_all(embedder, passage_texts, settings.embed_batch_size)
        t_sent = time.perf_counter()
        timings["embed"] = t_sent - t1
        sentence_texts = [works[i].document.text[a:b] for i in new_sentences for a, b in sents[i]]
        sentence_vecs = embed_all(embedder, sentence_texts, settings.embed_batch_size)
        t2 = time.perf_counter()
        timings["embed_sentences"] = t2 - t_sent
        if ner is not None:
            found, timings["ner"] = ner.result()
    timings["ner_wait"] = time.perf_counter() - t2

    new_pv = _split(passage_vecs, [len(spans[i]) for i in new_passages], new_passages)
    new_sv = _split(sentence_vecs, [len(sents[i]) for i in new_sentences], new_sentences)
    new_ents = dict(zip(to_annotate, found))
    records: list[DocRecord] = []
    for i, w in enumerate(works):
        doc = w.document
        if i in new_ents:
            ents = tuple(new_ents[i])
        else:
            assert w.entities is not None
            ents = tuple((int(r["start"]), int(r["end"]), int(r["label"])) for r in w.entities)
        pv = new_pv[i] if i in new_pv else np.asarray(w.passage_vectors, dtype=np.float32)
        sv = new_sv[i] if i in new_sv else np.asarray(w.sentence_vectors, dtype=np.float32)
        records.append(
            DocRecord(
                doc.doc_id, doc.title, doc.sha256, doc.source, doc.text, doc.pages, tuple(spans[i]), tuple(sents[i]),
                terms[i], ents, pv, sv,
                embedded_passages=len(spans[i]) if i in new_pv else 0,
                embedded_sentences=len(sents[i]) if i in new_sv else 0,
            )
        )  # fmt: skip
    return records, timings


def _split(vectors: np.ndarray, counts: list[int], owners: list[int]) -> dict[int, np.ndarray]:
    """Consecutive rows of `vectors`, `counts[j]` of them for document `owners[j]`."""
    out: dict[int, np.ndarray] = {}
    pos = 0
    for owner, n in zip(owners, counts):
        out[owner] = vectors[pos : pos + n]
        pos += n
    return out


def _timed(fn: Callable[..., Any], *args: Any) -> tuple[Any, float]:
    t = time.perf_counter()
    return fn(*args), time.perf_counter() - t


def _progress(total: int, desc: str) -> Any:
    if total < 64 or not sys.stderr.isatty():
        return None
    from tqdm import tqdm

    return tqdm(total=total, desc=desc, unit="passage", file=sys.stderr)


def embed_all(embedder: Embedder, texts: list[str], batch_size: int, progress: bool = True) -> np.ndarray:
    """Embed `texts` in a few large calls, longest first, with a progress bar on a terminal.

    sentence-transformers sorts each call's texts by length so that a batch pads little; sorting
    all of them first gives every call's batches the same little padding as one single call.
    """
    dim = embedder.dim
    out = np.zeros((len(texts), dim), dtype=np.float32)
    if not texts:
        return out
    order = sorted(range(len(texts)), key=lambda i: -len(texts[i]))
    bar = _progress(len(texts), "embedding") if progress else None
    step = max(batch_size * 32, 1)
    for i in range(0, len(order), step):
        rows = order[i : i + step]
        out[rows] = embedder.encode([texts[j] for j in rows], batch_size=batch_size)
        if bar is not None:
            bar.update(len(rows))
    if bar is not None:
        bar.close()
    return out
