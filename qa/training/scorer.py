"""Train the candidate scorer and the no-answer model on pool questions the reader never saw.

Each training question becomes a tiny collection, the way a user's would look to the answerer:
its own context, sometimes with another paragraph of the same article beside it (the answerer
must pick the right one), and some questions get only a paragraph that does not answer them
(another paragraph of the article, or one of another article): those teach "not found", as do
the pool's human-written unanswerable questions.
"""

from __future__ import annotations

import logging
import random
import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from qa.answerer.features import matrix
from qa.answerer.parsed import parse_question
from qa.answerer.read import RawSentence, Reading, measure, name_skeletons, read
from qa.answerer.reader import SpanReader
from qa.chunk import sentence_spans
from qa.metrics import f1_score
from qa.training.pool import Record

log = logging.getLogger("qa.training.scorer")


@dataclass(frozen=True)
class Example:
    """One question's reading, with the F1 of each candidate against the gold answers."""

    record_id: str
    source: str
    answerable: bool  # whether the collection it was asked of holds an answer
    reading: Reading
    labels: tuple[float, ...]
    texts: tuple[str, ...]
    human_unanswerable: bool = False  # the pool marks the question itself unanswerable
    question: str = ""


# Bumped when the collections or the reading change, so cached readings (train.py) are not reused.
READING_VERSION = 3


def collections(
    records: Sequence[Record], rng: random.Random, all_records: Sequence[Record]
) -> list[tuple[Record, list[str], bool]]:
    """(record, documents, answerable) per example: the context, distractors, or distractors only."""
    by_group: dict[str, list[str]] = defaultdict(list)
    for r in all_records:
        if r.context not in by_group[r.group]:
            by_group[r.group].append(r.context)
    contexts = [c for cs in by_group.values() for c in cs]
    out: list[tuple[Record, list[str], bool]] = []
    for r in records:
        same = [c for c in by_group[r.group] if c != r.context]
        roll = rng.random()
        if r.answerable and roll < 0.08 and same:
            out.append((r, [rng.choice(same)], False))  # the right article, the wrong paragraph
        elif r.answerable and roll < 0.14:
            out.append((r, [rng.choice(contexts)], False))  # off-topic
        elif roll < 0.55 and same:
            docs = [r.context, rng.choice(same)]
            rng.shuffle(docs)
            out.append((r, docs, r.answerable))
        else:
            out.append((r, [r.context], r.answerable))
    return out


def build_examples(
    items: Sequence[tuple[Record, list[str], bool]], embedder: Any, reader: SpanReader, batch: int = 64
) -> list[Example]:
    """Read every item the way the answerer does at question time, and label its candidates."""
    out: list[Example] = []
    t0 = time.time()
    # A paragraph recurs across questions (shared contexts, distractors): split and embed it once.
    spans: dict[str, list[tuple[int, int]]] = {}
    vectors: dict[str, np.ndarray] = {}
    for i in range(0, len(items), batch):
        chunk = items[i : i + batch]
        qvecs = embedder.encode([r.question for r, _, _ in chunk], batch_size=64)
        fresh = list(dict.fromkeys(t for _, docs, _ in chunk for t in docs if t not in vectors))
        for t in fresh:
            spans[t] = sentence_spans(t)
        flat = [t[a:b] for t in fresh for a, b in spans[t]]
        embedded = embedder.encode(flat, batch_size=64) if flat else np.zeros((0, 384), np.float32)
        pos = 0
        for t in fresh:
            vectors[t] = embedded[pos : pos + len(spans[t])]
            pos += len(spans[t])
        for (rec, docs, answerable), qv in zip(chunk, qvecs):
            raws = [RawSentence(d, a, b) for d, t in enumerate(docs) for a, b in spans[t]]
            vecs = np.vstack([vectors[t] for t in docs]) if raws else np.zeros((0, 384), np.float32)
            pq = parse_question(rec.question)
            ev = measure(pq, qv, raws, vecs, docs, name_skeletons(pq, rec.question))
            doc_sents = {d: spans[t] for d, t in enumerate(docs)}
            reading = read(pq, ev, docs, doc_sents.__getitem__, reader)
            golds = [a.text for a in rec.answers] if answerable else []
            labels = tuple(
                f1_score(docs[s.cand.doc][s.cand.start : s.cand.end], golds) if golds else 0.0
                for s in reading.candidates
            )
            out.append(
                Example(rec.id, rec.source, answerable, reading, labels, tuple(docs), not rec.answerable, rec.question)
            )
        if (i // batch) % 10 == 0:
            log.info("read %d/%d questions (%.1f min)", i + len(chunk), len(items), (time.time() - t0) / 60)
    return out


def candidate_matrix(examples: Sequence[Example]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(features, F1 labels, question index) over all candidates of `examples`."""
    xs, ys, qs = [], [], []
    for qi, ex in enumerate(examples):
        if not ex.reading.candidates:
            continue
        xs.append(matrix([c.features for c in ex.reading.candidates]))
        ys.append(np.asarray(ex.labels, dtype=np.float32))
        qs.append(np.full(len(ex.labels), qi))
    if not xs:
        return np.zeros((0, 0), np.float32), np.zeros(0, np.float32), np.zeros(0, int)
    return np.vstack(xs), np.concatenate(ys), np.concatenate(qs)
