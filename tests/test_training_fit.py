"""Fitting the no-answer model: the enriched sample of unanswerable questions, weighted back to their
natural share, and out-of-fold answers."""

from __future__ import annotations

import random

import numpy as np

from qa.training.fit import Outcome, fit_noanswer, prevalence_weights
from qa.training.pool import Answer, Record
from qa.training.train import scorer_sample


def _pool(n_ans: int, n_un: int) -> list[Record]:
    out = [
        Record(f"a{i}", f"Context {i} says 19{i % 100:02d}.", f"When {i}?", (Answer("19", 10),), "squad", f"T{i}")
        for i in range(n_ans)
    ]
    out += [Record(f"u{i}", f"Context u{i}.", f"Who {i}?", (), "squad2", f"U{i}") for i in range(n_un)]
    return out


def test_the_sample_takes_the_rare_unanswerable_questions_first_and_reports_their_natural_share() -> None:
    pool = _pool(900, 100)
    chosen, natural = scorer_sample(pool, 300, random.Random(1), unanswerable_share=0.3)
    assert natural == 0.1
    assert len(chosen) == 300 and len({r.id for r in chosen}) == 300
    assert sum(not r.answerable for r in chosen) == 90  # 30%, not the 10% that chance would give
    again, _ = scorer_sample(pool, 300, random.Random(1), unanswerable_share=0.3)
    assert [r.id for r in again] == [r.id for r in chosen]


def test_a_share_below_the_natural_one_never_starves_the_sample() -> None:
    chosen, _ = scorer_sample(_pool(500, 500), 100, random.Random(1), unanswerable_share=0.1)
    assert sum(not r.answerable for r in chosen) == 50  # the natural half, not a tenth


def _outcomes(n_right: int, n_un: int) -> list[Outcome]:
    right = [Outcome(1.0, True, [0.9, 0.1], "span") for _ in range(n_right)]
    human = [Outcome(0.0, False, [0.2, 0.8], "span", human_unanswerable=True) for _ in range(n_un)]
    return right + human


def test_weights_give_the_unanswerable_questions_back_their_natural_share() -> None:
    outs = _outcomes(70, 30)
    w = prevalence_weights(outs, natural=0.1)
    assert w is not None
    human = np.asarray([o.human_unanswerable for o in outs])
    assert abs(w[human].sum() / w.sum() - 0.1) < 1e-9
    assert abs(w.sum() - len(outs)) < 1e-6  # the same total weight: regularisation means the same
    assert prevalence_weights(_outcomes(10, 0), natural=0.1) is None  # nothing to reweight


def test_a_weighted_no_answer_model_is_less_sure_an_unanswerable_question_is_unanswerable() -> None:
    rng = np.random.default_rng(0)
    outs = [
        Outcome(1.0 if y else 0.0, bool(y), [float(rng.normal(y, 1.0)), 0.0], "span", human_unanswerable=not y)
        for y in rng.integers(0, 2, size=600)
    ]
    plain = fit_noanswer_2d(outs, None)
    weighted = fit_noanswer_2d(outs, prevalence_weights(outs, natural=0.1))
    # With unanswerable questions one in ten, an ambiguous answer is more likely right.
    assert weighted > plain


def fit_noanswer_2d(outs: list[Outcome], w: np.ndarray | None) -> float:
    import qa.training.fit as fit

    names = fit.NOANSWER_FEATURES
    padded = [
        Outcome(o.f1, o.answerable, o.vector + [0.0] * (len(names) - 2), o.kind, o.human_unanswerable) for o in outs
    ]
    model = fit_noanswer(padded, weights=w)
    x = np.zeros((1, len(names)), dtype=np.float32)
    x[0, 0] = 0.5
    x[0, names.index("atype")] = 0
    return float(model.predict_proba(x)[0, 1])
