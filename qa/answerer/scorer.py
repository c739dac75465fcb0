"""Scoring candidates and deciding whether to answer at all.

`Scorer` is the stage's interface: the learned one predicts each candidate's F1 from its features
(gradient-boosted trees); the no-answer model turns the best candidates' evidence into the
probability that the answer is right (F1 >= 0.5), which is what `confidence` reports.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import replace
from typing import Any, Protocol

import numpy as np

from qa.answerer.features import CATEGORICAL, FEATURE_NAMES, content_words, matrix
from qa.answerer.parsed import ParsedQuestion
from qa.answerer.read import Reading, Scored

# Question-level evidence the no-answer model reads, from the two best candidates.
NOANSWER_BASE = (
    "top",
    "second",
    "margin",
    "reader_vs_null",
    "null_best",
    "sent_sim",
    "sent_cov",
    "sent_names",
    "echo",
    "local",
    "type_fit",
    "k_sentence",
    "words",
    "atype",
    "open_question",
    "best_sim",
    "best_cov",
    "n_good",
)
# What the question asks that its context lacks: the signs of a question written to look answerable
# (a figure or a name swapped, a verb turned to its opposite, a negation added or dropped).
NOANSWER_CONTEXT = (
    "ctx_cov",  # weighted share of the key words found anywhere in the top answer's passage
    "ctx_numbers",  # share of the question's numbers found there (NaN: it has none)
    "sent_missing",  # weight of the heaviest key word its sentence lacks, over all the weights
    "neg_mismatch",  # one of question and sentence is negated and the other is not
)
NOANSWER_FEATURES = NOANSWER_BASE + NOANSWER_CONTEXT
_IDX = {name: i for i, name in enumerate(FEATURE_NAMES)}
_NUMBER = re.compile(r"\d(?:[\d,.]*\d)?")
_NEGATION = re.compile(r"\b(?:not|never|no|none|nobody|nothing|neither|nor|without|cannot)\b|n't\b", re.IGNORECASE)


class Scorer(Protocol):
    """Ranks a question's candidates, best first, with a score each."""

    name: str

    def rank(self, reading: Reading) -> list[Scored]: ...


READER_FEATURES = tuple(i for i, n in enumerate(FEATURE_NAMES) if n.startswith("reader") or n in ("null_best",))


def blank_reader(x: np.ndarray) -> np.ndarray:
    """`x` without the reader's feature columns: the feature-only variant never sees them."""
    y: np.ndarray = np.delete(x, list(READER_FEATURES), axis=1)
    return y


def categorical_mask(use_reader: bool) -> np.ndarray:
    """Which columns are categorical, for the matrix with or without the reader's features."""
    mask = np.asarray(CATEGORICAL, dtype=bool)
    return mask if use_reader else np.delete(mask, list(READER_FEATURES))


class LearnedScorer:
    """Candidates ranked by the predicted F1 of the trained trees (with or without the reader's scores)."""

    def __init__(self, model: Any, use_reader: bool = True) -> None:
        self._model = model
        self._use_reader = use_reader
        self.name = "learned" if use_reader else "features"

    def rank(self, reading: Reading) -> list[Scored]:
        if not reading.candidates:
            return []
        x = matrix([c.features for c in reading.candidates])
        if not self._use_reader:
            x = blank_reader(x)
        pred = np.asarray(self._model.predict(x), dtype=np.float64)
        ranked = [replace(c, score=float(p)) for c, p in zip(reading.candidates, pred)]
        ranked.sort(key=lambda c: -c.score)
        return ranked


class ReaderScorer:
    """Baseline without the trees: the reader's own best span (or the best sentence if none)."""

    name = "reader"

    def rank(self, reading: Reading) -> list[Scored]:
        def key(c: Scored) -> float:
            r = c.features.reader
            return r if r == r else -1e9  # NaN (no reader score) sorts last

        ranked = sorted(reading.candidates, key=key, reverse=True)
        return [replace(c, score=key(c)) for c in ranked]


def context_evidence(pq: ParsedQuestion | None, reading: Reading, top: Scored, texts: Sequence[str]) -> list[float]:
    """`NOANSWER_CONTEXT` for the top answer: what of the question its passage and sentence lack."""
    nan = float("nan")
    if pq is None:
        return [nan] * len(NOANSWER_CONTEXT)
    text = texts[top.cand.doc]
    context = [text[e.start : e.end] for e in reading.sentences if e.doc == top.cand.doc]
    ctx_stems = {st for sent in context for _, _, st in content_words(sent)}
    total = sum(pq.keyword_weights) or 1.0
    pairs = list(zip(pq.keyword_stems, pq.keyword_weights))
    ctx_cov = sum(w for st, w in pairs if st in ctx_stems) / total if pairs else nan
    sentence = text[top.cand.sent_start : top.cand.sent_end]
    sent_stems = {st for _, _, st in content_words(sentence)}
    sent_missing = max((w for st, w in pairs if st not in sent_stems), default=0.0) / total
    numbers = {n.replace(",", "") for n in _NUMBER.findall(pq.text)}
    ctx_numbers = {n.replace(",", "") for sent in context for n in _NUMBER.findall(sent)}
    share = sum(1 for n in numbers if n in ctx_numbers) / len(numbers) if numbers else nan
    negated = bool(_NEGATION.search(pq.text)) != bool(_NEGATION.search(sentence))
    return [ctx_cov, share, sent_missing, float(negated)]


def noanswer_vector(
    reading: Reading,
    ranked: Sequence[Scored],
    pq: ParsedQuestion | None = None,
    texts: Sequence[str] = (),
) -> list[float]:
    """What the no-answer model reads about a question, from its ranked candidates (and, given the
    parsed question and the documents' texts, from what the top answer's context lacks)."""
    if not ranked:
        return [float("nan")] * len(NOANSWER_FEATURES)
    top = ranked[0]
    f = top.features.vector()
    second = ranked[1].score if len(ranked) > 1 else 0.0
    best = reading.sentences[0] if reading.sentences else top.evidence
    return [
        top.score,
        second,
        top.score - second,
        f[_IDX["reader_vs_null"]],
        reading.null_best,
        f[_IDX["sent_sim"]],
        f[_IDX["sent_cov"]],
        f[_IDX["sent_names"]],
        f[_IDX["echo"]],
        f[_IDX["local"]],
        f[_IDX["type_fit"]],
        f[_IDX["k_sentence"]],
        f[_IDX["words"]],
        f[_IDX["atype"]],
        f[_IDX["open_question"]],
        best.sim,
        best.coverage,
        float(sum(1 for c in ranked if c.score >= 0.5)),
        *context_evidence(pq if texts else None, reading, top, texts),
    ]


def noanswer_columns(names: Sequence[str]) -> list[int]:
    """Where a model's no-answer features sit in `NOANSWER_FEATURES` (models before the context
    features read the first 18).

    Raises:
        ValueError: a name this code does not compute.
    """
    unknown = [n for n in names if n not in NOANSWER_FEATURES]
    if unknown:
        raise ValueError(f"unknown no-answer features: {', '.join(unknown)}")
    return [NOANSWER_FEATURES.index(n) for n in names]


def confidence(
    noanswer: Any,
    reading: Reading,
    ranked: Sequence[Scored],
    pq: ParsedQuestion | None = None,
    texts: Sequence[str] = (),
    columns: Sequence[int] | None = None,
) -> float:
    """P(the top answer is right), from the no-answer model (reading `columns` of the features)."""
    if not ranked:
        return 0.0
    if not reads_context(columns):
        texts = ()  # the model reads none of the context features: skip working them out
    return probability(noanswer, noanswer_vector(reading, ranked, pq, texts), columns)


def reads_context(columns: Sequence[int] | None) -> bool:
    """Whether a no-answer model reading `columns` (None: all) reads any of `NOANSWER_CONTEXT`."""
    return columns is None or any(c >= len(NOANSWER_BASE) for c in columns)


def probability(noanswer: Any, vector: Sequence[float], columns: Sequence[int] | None = None) -> float:
    """The no-answer model's P(right) for one `noanswer_vector` (reading `columns` of it)."""
    x = np.asarray([vector], dtype=np.float32)
    if columns is not None:
        x = x[:, list(columns)]
    return float(noanswer.predict_proba(x)[0, 1])


SCORERS = ("learned", "features", "reader")


def get_scorer(name: str, model: Any) -> Scorer:
    """The scorer called `name`: "learned" (trees over all features, the reader's included),
    "features" (trees over the parse and evidence features alone) or "reader" (the reader alone).

    Raises:
        ValueError: an unknown name.
    """
    if name == "learned":
        return LearnedScorer(model)
    if name == "features":
        return LearnedScorer(model, use_reader=False)
    if name == "reader":
        return ReaderScorer()
    raise ValueError(f"Unknown scorer {name!r}; use one of {', '.join(SCORERS)}.")
