"""Evaluation metrics (SQuAD-style answer scores, retrieval ranks), importable by tests and scripts."""

from __future__ import annotations

import math
import re
import string
from collections import Counter
from collections.abc import Sequence

_PUNCT = set(string.punctuation) | set("“”‘’«»–—…")


def normalize_answer(text: str) -> str:
    """SQuAD normalisation: lower-case, strip punctuation and articles, fold white space."""
    text = text.lower()
    text = "".join(ch for ch in text if ch not in _PUNCT)
    text = re.sub(r"\b(a|an|the)\b", " ", text)
    return " ".join(text.split())


def exact_match(prediction: str | None, golds: Sequence[str]) -> float:
    """1.0 when the normalised prediction equals any normalised gold answer; an abstention (None) scores 0."""
    if prediction is None or not golds:
        return 0.0
    p = normalize_answer(prediction)
    return float(any(p == normalize_answer(g) for g in golds))


def _f1(prediction: str, gold: str) -> float:
    p, g = normalize_answer(prediction).split(), normalize_answer(gold).split()
    common = Counter(p) & Counter(g)
    same = sum(common.values())
    if not p or not g:
        return float(p == g)
    if same == 0:
        return 0.0
    precision, recall = same / len(p), same / len(g)
    return 2 * precision * recall / (precision + recall)


def f1_score(prediction: str | None, golds: Sequence[str]) -> float:
    """Token F1, best over the gold answers; an abstention scores 0."""
    if prediction is None or not golds:
        return 0.0
    return max(_f1(prediction, g) for g in golds)


def sentence_contains_answer(sentence: str | None, golds: Sequence[str]) -> bool:
    """True when a gold answer's normalised text is a substring of the normalised sentence.

    This credits a citation that points at the right sentence even when the span inside it is off. A gold
    answer that normalises to nothing (say "The") never matches: the empty string is in every sentence.
    """
    if sentence is None:
        return False
    s = normalize_answer(sentence)
    return any(g and g in s for g in (normalize_answer(x) for x in golds))


def first_relevant_rank(ranked_docs: Sequence[str], relevant: Sequence[str]) -> int | None:
    """1-based rank of the first relevant document in a ranking (duplicates kept), or None."""
    rel = set(relevant)
    for i, d in enumerate(ranked_docs, 1):
        if d in rel:
            return i
    return None


def recall_at(rank: int | None, k: int) -> float:
    """1.0 when the first relevant item sits in the top `k` (rank from `first_relevant_rank`)."""
    return float(rank is not None and rank <= k)


def reciprocal_rank(rank: int | None) -> float:
    """1/rank, or 0.0 when nothing relevant was ranked; its mean over questions is MRR."""
    return 1.0 / rank if rank else 0.0


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100): the smallest value with at least q% of values at or below it.

    0.0 for no values. (p50 of 1..10 is 5, p95 of 1..100 is 95.)
    """
    if not values:
        return 0.0
    s = sorted(values)
    # ceil(q·n/100) is the 1-based nearest rank; q·n is computed first so 95·20/100 is exactly 19.
    idx = max(0, min(len(s) - 1, math.ceil(q * len(s) / 100) - 1))
    return float(s[idx])


def mean_or_none(values: Sequence[float]) -> float | None:
    """Arithmetic mean, or None when there is nothing to average (a metric without a denominator)."""
    return sum(values) / len(values) if values else None


def citation_is_exact(doc_text: str, start: int, end: int, cited: str) -> bool:
    """True when a citation's text is exactly the document slice its offsets point at."""
    return 0 <= start <= end <= len(doc_text) and doc_text[start:end] == cited


def is_correct(answerable: bool, abstained: bool, f1: float, min_f1: float = 0.5) -> bool:
    """Lenient correctness: F1 ≥ `min_f1` on an answerable question, an abstention on an unanswerable one."""
    return (not abstained and f1 >= min_f1) if answerable else abstained


def threshold_grid(step: float = 0.05) -> list[float]:
    """Thresholds 0, step, 2·step, …, 1 (rounded, so 0.35 is 0.35 and not 0.35000000000000003)."""
    n = round(1 / step)
    return [round(i * step, 6) for i in range(n + 1)]


def bucket_edges(width: float = 0.2) -> list[tuple[float, float]]:
    """Half-open confidence buckets [0, w), [w, 2w), …; the last one also holds 1.0."""
    n = round(1 / width)
    return [(round(i * width, 6), round((i + 1) * width, 6)) for i in range(n)]


def bucket_of(value: float, edges: Sequence[tuple[float, float]]) -> int:
    """Index of the bucket holding `value`; values past the ends go to the first or last bucket."""
    for i, (_lo, hi) in enumerate(edges):
        if value < hi:
            return i
    return len(edges) - 1
