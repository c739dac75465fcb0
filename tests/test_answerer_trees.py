"""Flattened trees: the answerer's scores and confidences are scikit-learn's, to the last digit."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor

from qa.answerer.model import SCORER_FILE, default_model_dir
from qa.answerer.trees import FlatTrees, flatten


def _data(n: int = 600) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Five numeric columns (one often missing) and two categorical ones that matter."""
    rng = np.random.default_rng(3)
    x = rng.normal(size=(n, 7))
    x[:, 5] = rng.integers(0, 9, n)
    x[:, 6] = rng.integers(0, 30, n)
    x[rng.random(n) < 0.2, 1] = np.nan
    y = x[:, 0] + np.where(np.isin(x[:, 5], [1, 4, 7]), 2.0, 0.0) + np.where(x[:, 6] % 3 == 0, -1.5, 0.0)
    y = y + np.nan_to_num(x[:, 1]) * 0.5
    mask = np.array([False] * 5 + [True, True])
    return x, y, mask


def _queries(x: np.ndarray) -> np.ndarray:
    """Rows beyond the training data: unseen and negative categories, missing values everywhere."""
    rng = np.random.default_rng(4)
    q = np.concatenate([x[:100], rng.normal(scale=3, size=(100, x.shape[1]))])
    q[100:, 5] = rng.integers(-2, 15, 100)
    q[100:, 6] = rng.integers(-1, 40, 100)
    q[rng.random(q.shape) < 0.1] = np.nan
    return q


def test_a_regressor_predicts_what_scikit_learn_predicts() -> None:
    x, y, mask = _data()
    model = HistGradientBoostingRegressor(max_iter=60, categorical_features=mask, random_state=0).fit(x, y)
    flat = flatten(model)
    assert isinstance(flat, FlatTrees)
    q = _queries(x)
    np.testing.assert_allclose(flat.predict(q), model.predict(q), rtol=0, atol=1e-9)


def test_a_classifier_gives_scikit_learns_probabilities() -> None:
    x, y, mask = _data()
    model = HistGradientBoostingClassifier(max_iter=60, categorical_features=mask, random_state=0).fit(x, y > 0.5)
    flat = flatten(model)
    assert isinstance(flat, FlatTrees)
    q = _queries(x)
    np.testing.assert_allclose(flat.predict_proba(q), model.predict_proba(q), rtol=0, atol=1e-9)
    assert (flat.predict(q) == model.predict(q)).all()


def test_the_shipped_models_trees_flatten_exactly() -> None:
    with (default_model_dir() / SCORER_FILE).open("rb") as fh:
        parts = pickle.load(fh)  # noqa: S301 - the model that ships with docqa
    rng = np.random.default_rng(5)
    for scorer, noanswer, _ in parts.values():
        for model in (scorer, noanswer):
            if model is None:
                continue
            flat = flatten(model)
            assert isinstance(flat, FlatTrees)
            q = rng.normal(scale=2, size=(80, model.n_features_in_))
            q[rng.random(q.shape) < 0.1] = np.nan
            if hasattr(model, "predict_proba"):
                np.testing.assert_allclose(flat.predict_proba(q), model.predict_proba(q), rtol=0, atol=1e-9)
            else:
                np.testing.assert_allclose(flat.predict(q), model.predict(q), rtol=0, atol=1e-9)


def test_trees_that_disagree_with_scikit_learn_are_not_used(monkeypatch: pytest.MonkeyPatch) -> None:
    x, y, mask = _data()
    model = HistGradientBoostingRegressor(max_iter=10, categorical_features=mask, random_state=0).fit(x, y)
    monkeypatch.setattr(FlatTrees, "raw", lambda self, q: np.zeros(len(q)))
    assert flatten(model) is model


def test_what_is_not_a_tree_model_passes_through() -> None:
    assert flatten(None) is None
    fake = object()
    assert flatten(fake) is fake
