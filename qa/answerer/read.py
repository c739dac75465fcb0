"""The reading stage, shared by training and question time: sentences → windows → candidates → features.

Given the question's vector and the sentences of the retrieved passages (with their vectors), it
ranks the sentences, reads short windows around the best few with the span reader, takes the
reader's spans and the parse's candidates from those windows, and describes each with features.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

import numpy as np

from qa.answerer.candidates import PARSES, Candidate, Kind, sentence_candidates, trim_span
from qa.answerer.features import CandidateFeatures, SentenceEvidence, featurize
from qa.answerer.parsed import ParsedQuestion
from qa.answerer.reader import SpanReader, Window, WindowScores
from qa.text import STOPWORDS, skeleton, stem, words

# Sentences read closely per question, and the longest window (characters) around each.
READ_SENTENCES = 4
WINDOW_CHARS = 520
READER_SPANS = 6


@dataclass(frozen=True)
class RawSentence:
    """A sentence of a retrieved passage, before its evidence is measured."""

    doc: int
    start: int
    end: int
    passage_score: float = 1.0
    passage_rank: int = 0
    dense: float = 0.0
    lexical: float = 0.0


@dataclass(frozen=True)
class Scored:
    """A candidate with its features and, once scored, its predicted quality."""

    cand: Candidate
    features: CandidateFeatures
    evidence: SentenceEvidence
    score: float = 0.0


@dataclass(frozen=True)
class Reading:
    """Everything read for one question: the ranked sentences and the candidates with features."""

    sentences: tuple[SentenceEvidence, ...]
    candidates: tuple[Scored, ...]
    null_best: float


def _word_keys(text: str) -> tuple[set[str], set[str]]:
    stems: set[str] = set()
    sks: set[str] = set()
    for _, _, w in words(text):
        if w.lower() in STOPWORDS:
            continue
        stems.add(stem(w))
        if w[:1].isupper() and len(w) >= 4:
            sk = skeleton(w)
            if sk:
                sks.add(sk)
    return stems, sks


def measure(
    pq: ParsedQuestion,
    qvec: np.ndarray,
    raw: Sequence[RawSentence],
    vectors: np.ndarray,
    texts: Sequence[str],
    name_skeletons: Sequence[str],
) -> list[SentenceEvidence]:
    """Evidence for each sentence (similarity, key-word and name coverage), ranked best first."""
    total = sum(pq.keyword_weights) or 1.0
    sims = vectors @ qvec if len(raw) else np.zeros(0, dtype=np.float32)
    out: list[SentenceEvidence] = []
    for i, r in enumerate(raw):
        text = texts[r.doc]
        stems, sks = _word_keys(text[r.start : r.end])
        cov = sum(w for s, w in zip(pq.keyword_stems, pq.keyword_weights) if s in stems) / total
        before = text[max(0, r.start - 300) : r.start]
        b_stems, b_sks = _word_keys(before)
        if pq.names:
            found = 0
            for nm, sk in zip(pq.names, name_skeletons):
                if nm in stems or nm in b_stems or (sk and (sk in sks or sk in b_sks)):
                    found += 1
            names = found / len(pq.names)
        else:
            names = 1.0
        out.append(
            SentenceEvidence(
                r.doc, r.start, r.end, float(sims[i]), cov, names, r.passage_score, r.passage_rank, r.dense, r.lexical
            )
        )
    order = sorted(range(len(out)), key=lambda i: -(0.6 * out[i].sim + 0.4 * out[i].coverage + 0.1 * out[i].names))
    ranked = [out[i] for i in order]
    return [replace(e, rank=n) for n, e in enumerate(ranked)]


def windows_for(
    top: Sequence[SentenceEvidence],
    doc_sentences: Callable[[int], Sequence[tuple[int, int]]],
    texts: Sequence[str],
) -> list[Window]:
    """A short window around each top sentence (with a neighbour either side when they fit), merged."""
    spans: list[tuple[int, int, int]] = []
    for ev in top:
        sents = doc_sentences(ev.doc)
        idx = next((i for i, (s, e) in enumerate(sents) if s == ev.start), None)
        a, b = ev.start, ev.end
        if idx is not None:
            if idx > 0 and b - sents[idx - 1][0] <= WINDOW_CHARS:
                a = sents[idx - 1][0]
            if idx + 1 < len(sents) and sents[idx + 1][1] - a <= WINDOW_CHARS:
                b = sents[idx + 1][1]
        if b - a > WINDOW_CHARS:
            a, b = ev.start, min(ev.end, ev.start + 2 * WINDOW_CHARS)
        for j, (d, x, y) in enumerate(spans):
            if d == ev.doc and a < y and x < b and max(y, b) - min(x, a) <= WINDOW_CHARS + 200:
                spans[j] = (d, min(x, a), max(y, b))
                break
        else:
            spans.append((ev.doc, a, b))
    return [Window(d, a, b, texts[d][a:b]) for d, a, b in spans]


def read(
    pq: ParsedQuestion,
    evidence: Sequence[SentenceEvidence],
    texts: Sequence[str],
    doc_sentences: Callable[[int], Sequence[tuple[int, int]]],
    reader: SpanReader,
    read_sentences: int = READ_SENTENCES,
    chosen: Sequence[SentenceEvidence] | None = None,
) -> Reading:
    """Candidates with features from the best `read_sentences` sentences and their windows.

    `chosen`: the sentences to read, best first (a selector's pick; None: the first of `evidence`).
    """
    if not evidence:
        return Reading((), (), 0.0)
    top = list((evidence if chosen is None else chosen)[:read_sentences])
    windows = windows_for(top, doc_sentences, texts)
    scores = reader.read(pq.text, windows)
    by_span = {(e.doc, e.start): e for e in evidence}
    # Sentences inside a window that we have evidence for: the candidates may come from any of them.
    inside: list[tuple[SentenceEvidence, WindowScores]] = []
    for ws in scores:
        for s, e in doc_sentences(ws.window.doc):
            if s >= ws.window.start and e <= ws.window.end and (ws.window.doc, s) in by_span:
                inside.append((by_span[(ws.window.doc, s)], ws))
    null_best = max((_best_margin(ws) for ws in scores), default=0.0)
    parsed = PARSES.parse_many([texts[ev.doc][ev.start : ev.end] for ev, _ in inside])
    cands: dict[tuple[int, int, int], tuple[Candidate, SentenceEvidence, WindowScores]] = {}
    for (ev, ws), p in zip(inside, parsed):
        for c in sentence_candidates(ev.doc, texts[ev.doc], ev.start, ev.end, p):
            cands[(c.doc, c.start, c.end)] = (c, ev, ws)
    for ws in scores:
        bounds = [(ev.start, ev.end) for ev, w in inside if w is ws]
        for sp in ws.best_spans(READER_SPANS, bounds):
            a, b = trim_span(texts[sp.doc], sp.start, sp.end)
            if b <= a:
                continue
            key = (sp.doc, a, b)
            if key in cands:
                c, ev, w = cands[key]
                cands[key] = (
                    Candidate(c.doc, c.start, c.end, c.sent_start, c.sent_end, c.kinds | Kind.READER, c.label),
                    ev,
                    w,
                )
                continue
            ev = next(e for e, w in inside if w is ws and e.start <= a and b <= e.end)
            cands[key] = (Candidate(sp.doc, a, b, ev.start, ev.end, int(Kind.READER)), ev, ws)
    reader_scores = {key: ws.span_score(key[1], key[2]) for key, (_, _, ws) in cands.items()}
    known = sorted((v for v in reader_scores.values() if v is not None), reverse=True)
    best = known[0] if known else 0.0
    rank_of = {v: i for i, v in reversed(list(enumerate(known)))}
    out: list[Scored] = []
    for key, (c, ev, ws) in cands.items():
        r = reader_scores[key]
        f = featurize(pq, c, ev, texts[c.doc], r, ws.null, best, rank_of.get(r) if r is not None else None, null_best)
        out.append(Scored(c, f, ev))
    return Reading(tuple(evidence), tuple(out), null_best)


def _best_margin(ws: WindowScores) -> float:
    spans = ws.best_spans(1, [(ws.window.start, ws.window.end)])
    return (spans[0].score - ws.null) if spans else -20.0


def name_skeletons(pq: ParsedQuestion, question: str) -> list[str]:
    """Skeleton keys of the question's names, aligned with `pq.names`."""
    by_stem = {stem(w): skeleton(w) if len(w) >= 4 else "" for _, _, w in words(question) if w[:1].isupper()}
    return [by_stem.get(n, "") for n in pq.names]
