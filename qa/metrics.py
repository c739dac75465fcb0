"""Evaluation metrics (SQuAD-style answer scores, retrieval ranks), importable by tests and scripts."""

from __future__ import annotations

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


def first_relevant_rank(ranked_docs: Sequence[str], relevant: Sequence[str]) -> int | None:
    """1-based rank of the first relevant document in a ranking (duplicates kept), or None."""
    rel = set(relevant)
    for i, d in enumerate(ranked_docs, 1):
        if d in rel:
            return i
    return None


def recall_at(rank: int | None, k: int) -> float:
    return float(rank is not None and rank <= k)


def reciprocal_rank(rank: int | None) -> float:
    return 1.0 / rank if rank else 0.0


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100); 0.0 for no values."""
    if not values:
        return 0.0
    s = sorted(values)
    idx = max(0, min(len(s) - 1, int(round(q / 100 * len(s) + 0.5)) - 1))
    return float(s[idx])
