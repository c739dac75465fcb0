"""Fit the candidate scorer and the no-answer model; choose the threshold; report held-out figures."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from qa.answerer.parsed import ParsedQuestion, parse_question
from qa.answerer.scorer import (
    NOANSWER_FEATURES,
    LearnedScorer,
    Scorer,
    blank_reader,
    categorical_mask,
    noanswer_columns,
    noanswer_vector,
)
from qa.training.pool import bucket
from qa.training.scorer import Example, candidate_matrix


def fit_scorer(examples: Sequence[Example], seed: int = 0, use_reader: bool = True) -> Any:
    """Gradient-boosted trees predicting each candidate's F1 against the gold answers."""
    from sklearn.ensemble import HistGradientBoostingRegressor

    x, y, _ = candidate_matrix(examples)
    if not use_reader:
        x = blank_reader(x)
    model = HistGradientBoostingRegressor(
        max_iter=300,
        learning_rate=0.08,
        max_leaf_nodes=31,
        min_samples_leaf=40,
        l2_regularization=1.0,
        categorical_features=categorical_mask(use_reader),
        random_state=seed,
    )
    model.fit(x, y)
    return model


@dataclass(frozen=True)
class Outcome:
    """One question's top answer under a scorer: its F1, the no-answer model's input, and truth."""

    f1: float
    answerable: bool
    vector: list[float]
    kind: str  # "span" or "sentence"
    human_unanswerable: bool = False  # a person wrote it unanswerable (not a distractor-only collection)


def outcomes(examples: Sequence[Example], scorer: Scorer) -> list[Outcome]:
    """Each question's top answer under `scorer`, with what the no-answer model reads about it."""
    from qa.answerer.candidates import Kind

    out: list[Outcome] = []
    for ex in examples:
        ranked = scorer.rank(ex.reading)
        if not ranked:
            out.append(Outcome(0.0, ex.answerable, [math.nan] * len(NOANSWER_FEATURES), "span", ex.human_unanswerable))
            continue
        top = ranked[0]
        i = ex.reading.candidates.index(next(c for c in ex.reading.candidates if c.cand == top.cand))
        kind = "sentence" if top.cand.kinds & Kind.SENTENCE else "span"
        out.append(
            Outcome(
                ex.labels[i],
                ex.answerable,
                noanswer_vector(ex.reading, ranked, _parsed(ex), ex.texts),
                kind,
                ex.human_unanswerable,
            )
        )
    return out


def crossfit_outcomes(examples: Sequence[Example], use_reader: bool = True, folds: int = 4) -> list[Outcome]:
    """Each question's top answer under a scorer fitted on the other folds (out-of-fold outcomes).

    Why: the no-answer model must learn from answers ranked by a scorer that never saw their
    question (else the scores look surer than they will be), and folds let every question teach it
    instead of the quarter left over after the scorer's own share.
    """
    which = [bucket(f"fold-{ex.record_id}", folds) for ex in examples]
    out: list[Outcome | None] = [None] * len(examples)
    for k in range(folds):
        train = [ex for ex, f in zip(examples, which) if f != k]
        held = [i for i, f in enumerate(which) if f == k]
        if not held:
            continue
        scorer = LearnedScorer(fit_scorer(train, use_reader=use_reader), use_reader=use_reader)
        for i, o in zip(held, outcomes([examples[i] for i in held], scorer)):
            out[i] = o
    return [o for o in out if o is not None]


def prevalence_weights(outs: Sequence[Outcome], natural: float) -> np.ndarray | None:
    """Sample weights that give the unanswerable questions the share `natural` they have in the data.

    Why: the training sample takes more of the rare human-written unanswerable questions than chance
    would (they are what the no-answer model must learn), and the weights keep `confidence` a
    probability for questions as they come rather than for the enriched sample.
    """
    human = np.asarray([o.human_unanswerable for o in outs], dtype=bool)
    share = float(human.mean()) if len(outs) else 0.0
    if not 0.0 < share < 1.0 or not 0.0 < natural < 1.0:
        return None
    return np.where(human, natural / share, (1.0 - natural) / (1.0 - share))


def _parsed(ex: Example) -> ParsedQuestion | None:
    """The question parsed as `build_examples` parsed it (None for readings cached without it)."""
    return parse_question(ex.question) if ex.question else None


def project(outs: Sequence[Outcome], names: Sequence[str]) -> list[Outcome]:
    """`outs` with their no-answer vectors cut down to the features `names` (in that order)."""
    cols = noanswer_columns(names)
    return [replace(o, vector=[o.vector[i] for i in cols]) for o in outs]


def fit_noanswer(outs: Sequence[Outcome], seed: int = 0, weights: np.ndarray | None = None) -> Any:
    """The probability that the top answer is right (F1 >= 0.5): 0 for unanswerable questions."""
    from sklearn.ensemble import HistGradientBoostingClassifier

    x = np.asarray([o.vector for o in outs], dtype=np.float32)
    y = np.asarray([o.answerable and o.f1 >= 0.5 for o in outs], dtype=int)
    cat = np.zeros(x.shape[1], dtype=bool)
    cat[NOANSWER_FEATURES.index("atype")] = True  # among the first, which every feature set keeps
    model = HistGradientBoostingClassifier(
        max_iter=200,
        learning_rate=0.05,
        max_leaf_nodes=15,
        min_samples_leaf=30,
        categorical_features=cat,
        random_state=seed,
    )
    model.fit(x, y, sample_weight=weights)
    return model


def probabilities(noanswer: Any, outs: Sequence[Outcome]) -> np.ndarray:
    x = np.asarray([o.vector for o in outs], dtype=np.float32)
    return np.asarray(noanswer.predict_proba(x)[:, 1]) if len(outs) else np.zeros(0)


def scores_at(outs: Sequence[Outcome], probs: np.ndarray, t: float) -> dict[str, float]:
    """SQuAD 2.0-style figures at threshold `t`: an abstention on an unanswerable question is right."""
    f1s, em_na, fa = [], [], []
    for o, p in zip(outs, probs):
        answered = p >= t
        if o.answerable:
            f1s.append(o.f1 if answered else 0.0)
            fa.append(0.0 if answered else 1.0)
        else:
            f1s.append(0.0 if answered else 1.0)
            em_na.append(0.0 if answered else 1.0)
    return {
        "f1": float(np.mean(f1s)) if f1s else 0.0,
        "no_answer_accuracy": float(np.mean(em_na)) if em_na else float("nan"),
        "false_abstain": float(np.mean(fa)) if fa else float("nan"),
    }


def choose_threshold(outs: Sequence[Outcome], probs: np.ndarray, max_false_abstain: float = 0.2) -> float:
    """The threshold that weighs both kinds of error alike: the best mean of answerable F1 and
    no-answer accuracy, keeping the false-abstain rate within `max_false_abstain`.

    The mean, not overall F1: the share of unanswerable questions in the validation data says nothing
    about a user's documents, so neither kind of question may win by being the more numerous.
    """
    answerable = [o for o in outs if o.answerable]
    best_t, best = 0.0, -1.0
    for t in np.arange(0.02, 0.9, 0.01):
        s = scores_at(outs, probs, float(t))
        if s["false_abstain"] == s["false_abstain"] and s["false_abstain"] > max_false_abstain:
            continue
        f1_ans = sum(o.f1 for o, p in zip(outs, probs) if o.answerable and p >= t) / max(1, len(answerable))
        na = s["no_answer_accuracy"]
        value = (f1_ans + na) / 2 if na == na else f1_ans
        if value > best:
            best_t, best = float(t), value
    return round(best_t, 2)


def reliability(outs: Sequence[Outcome], probs: np.ndarray, bins: int = 5) -> list[tuple[str, int, float, float]]:
    """(bin, questions, mean confidence, share right) per confidence bin: is `confidence` calibrated?"""
    rows = []
    for b in range(bins):
        lo, hi = b / bins, (b + 1) / bins
        idx = [i for i, p in enumerate(probs) if lo <= p < hi or (b == bins - 1 and p == 1.0)]
        if not idx:
            rows.append((f"{lo:.1f}-{hi:.1f}", 0, float("nan"), float("nan")))
            continue
        right = [outs[i].answerable and outs[i].f1 >= 0.5 for i in idx]
        rows.append((f"{lo:.1f}-{hi:.1f}", len(idx), float(np.mean(probs[idx])), float(np.mean(right))))
    return rows
