"""Stage 3 of ingest: lay the records out as one generation and write it through an `IndexWriter`.

Runs where the index lives (the driver, for a Ray ingest): the records arrive in generation order
and become the arrays of today's folder format, passage and sentence rows numbered as they come.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from qa.annotate import ENT_DTYPE
from qa.errors import IngestError
from qa.index import PASSAGE_DTYPE, SENTENCE_DTYPE, DocInfo, IndexWriter
from qa.ingest.process import DocRecord


@dataclass(frozen=True)
class Written:
    """What a written generation holds, and seconds per stage (faiss, lexical, write)."""

    documents: int
    passages: int
    embedded_passages: int
    embedded_sentences: int
    timings_s: dict[str, float] = field(default_factory=dict)


def write_records(
    index_dir: Path,
    writer: IndexWriter,
    records: Iterable[DocRecord],
    model: str,
    dim: int,
    exact_max: int,
    fingerprint: dict[str, Any],
) -> Written:
    """Write `records`, in order, as a new generation of `index_dir` and make it current.

    Raises:
        IngestError: the generation could not be written; the previous one stays current.
    """
    docs: list[DocInfo] = []
    texts: list[str] = []
    rows: list[tuple[int, int, int]] = []
    terms: list[list[str]] = []
    ents: list[tuple[int, int, int, int]] = []
    vec_parts: list[np.ndarray] = []
    sent_rows: list[tuple[int, int, int]] = []
    sent_parts: list[np.ndarray] = []
    embedded_passages = embedded_sentences = 0
    for r in records:
        d = len(docs)
        docs.append(DocInfo(r.doc_id, r.title, r.sha256, len(r.text), r.root, len(rows), len(r.passages), r.pages))
        texts.append(r.text)
        rows.extend((d, s, e) for s, e in r.passages)
        terms.extend(list(t) for t in r.terms)
        ents.extend((d, s, e, label) for s, e, label in r.entities)
        vec_parts.append(np.asarray(r.passage_vectors, dtype=np.float32))
        sent_rows.extend((d, s, e) for s, e in r.sentences)
        sent_parts.append(np.asarray(r.sentence_vectors, dtype=np.float32))
        embedded_passages += r.embedded_passages
        embedded_sentences += r.embedded_sentences
    ents.sort()
    ent_arr = np.array(ents, dtype=ENT_DTYPE) if ents else np.zeros(0, dtype=ENT_DTYPE)
    sentences = np.array(sent_rows, dtype=SENTENCE_DTYPE) if sent_rows else np.zeros(0, SENTENCE_DTYPE)
    sentence_vectors = np.concatenate(sent_parts) if sent_parts else np.zeros((0, dim), dtype=np.float32)
    passages = np.array(rows, dtype=PASSAGE_DTYPE) if rows else np.zeros(0, dtype=PASSAGE_DTYPE)
    vectors = np.concatenate(vec_parts) if vec_parts else np.zeros((0, dim), dtype=np.float32)
    timings: dict[str, float] = {}
    t4 = time.perf_counter()
    dense = writer.build_vectors(vectors, exact_max)
    t5 = time.perf_counter()
    lexical = writer.build_lexical(terms)
    t6 = time.perf_counter()
    timings["faiss"], timings["lexical"] = t5 - t4, t6 - t5
    try:
        writer.write_generation(
            index_dir,
            docs,
            texts,
            passages,
            ent_arr,
            vectors,
            dense,
            lexical,
            model,
            dim,
            fingerprint,
            sentences,
            sentence_vectors,
        )
    except OSError as e:
        raise IngestError(
            f"Could not write the index to {index_dir}/ ({e.strerror or e}); the previous index is unchanged."
        ) from e
    timings["write"] = time.perf_counter() - t6
    return Written(len(docs), len(rows), embedded_passages, embedded_sentences, timings)
