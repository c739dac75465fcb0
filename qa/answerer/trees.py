"""The trained trees as flat arrays, evaluated in numpy: same predictions, a fraction of the cost.

scikit-learn's HistGradientBoosting predicts tree by tree, one Python call and one OpenMP region
per tree. A question scores one row (the no-answer model) and a few dozen (the scorer) against
200–300 trees, so that overhead is most of the cost, and on a busy machine its OpenMP threads
spin against the reader's: single-row predictions were seen at 7–500 ms under load, against about
1 ms here. `flatten` copies every tree's nodes into one set of arrays once, at load, and walks all
rows through all trees at once, keeping only the paths that have not reached a leaf.

The layout (node fields, the categorical encoder, the baseline) is scikit-learn's internal one, so
`flatten` checks itself against the model on a fixed sample and keeps the original model if the
two disagree: a different scikit-learn can only make it slower, never wrong.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np

log = logging.getLogger("qa.answerer")

_TOLERANCE = 1e-9
_CODES = 256  # scikit-learn bins a categorical feature into at most 255 categories (8 x 32-bit words)


class FlatTrees:
    """A fitted single-output `HistGradientBoostingRegressor` / binary `...Classifier`, flattened.

    Offers the two methods the answerer calls: `predict` (regressor) and `predict_proba`
    (classifier), with scikit-learn's results.
    """

    def __init__(self, model: Any) -> None:
        self._model = model
        self._classifier = hasattr(model, "predict_proba")
        predictors = [it[0] for it in model._predictors]
        if any(len(it) != 1 for it in model._predictors):
            raise ValueError("only single-output models (a regressor or a binary classifier) are supported")
        sizes = [len(p.nodes) for p in predictors]
        offsets = np.cumsum([0, *sizes[:-1]]).astype(np.intp)
        bit_offsets = np.cumsum([0, *[len(p.raw_left_cat_bitsets) for p in predictors[:-1]]]).astype(np.intp)
        nodes = np.concatenate([p.nodes for p in predictors])
        tree = np.repeat(np.arange(len(predictors)), sizes)
        self._roots = offsets
        self._feature = nodes["feature_idx"].astype(np.intp)
        self._threshold = nodes["num_threshold"].astype(np.float64)
        self._left = nodes["left"].astype(np.intp) + offsets[tree]
        self._right = nodes["right"].astype(np.intp) + offsets[tree]
        self._leaf = nodes["is_leaf"].astype(bool)
        self._value = nodes["value"].astype(np.float64)
        self._missing_left = nodes["missing_go_to_left"].astype(bool)
        self._categorical = nodes["is_categorical"].astype(bool)
        self._bitset = nodes["bitset_idx"].astype(np.intp) + bit_offsets[tree]
        bitsets = [p.raw_left_cat_bitsets for p in predictors if len(p.raw_left_cat_bitsets)]
        self._left_bits = np.concatenate(bitsets) if bitsets else np.zeros((1, 8), dtype=np.uint32)
        self._known_bits, self._known_map = model._bin_mapper.make_known_categories_bitsets()
        self._has_categorical = bool(self._categorical.any())
        self._cat_row, self._cat_left = self._categorical_table()
        self._baseline = float(np.asarray(model._baseline_prediction).ravel()[0])
        self._order: np.ndarray | None = None
        self._categories: list[np.ndarray] = []
        pre = model._preprocessor
        if pre is not None:  # categorical columns are ordinal-encoded and moved first
            columns = {name: np.flatnonzero(cols) for name, _, cols in pre.transformers_}
            self._order = np.concatenate([columns["encoder"], columns["numerical"]])
            for cats in pre.named_transformers_["encoder"].categories_:
                values = np.asarray(cats, dtype=np.float64)
                self._categories.append(values[~np.isnan(values)])

    def _encode(self, x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, dtype=np.float64)
        if self._order is None:
            return x
        x = x[:, self._order]  # a copy: its categorical columns are rewritten below
        for k, known in enumerate(self._categories):
            v = x[:, k]
            if not len(known):
                x[:, k] = np.nan
                continue
            code = np.searchsorted(known, v).clip(0, len(known) - 1)
            x[:, k] = np.where(known[code] == v, code, np.nan)  # unknown categories become missing
        return x

    def raw(self, x: np.ndarray) -> np.ndarray:
        """The sum of the leaf values over all trees, plus the baseline, for each row of `x`."""
        x = self._encode(x)
        n, trees = x.shape[0], len(self._roots)
        width = x.shape[1]
        flat_x = x.ravel()
        node = np.tile(self._roots, n)
        row = np.repeat(np.arange(n, dtype=np.intp), trees)
        pos = np.flatnonzero(~self._leaf[node])
        cur, row = node[pos], row[pos]
        while pos.size:
            v = flat_x[row * width + self._feature[cur]]
            left = v <= self._threshold[cur]
            nan = np.isnan(v)
            if nan.any():
                left[nan] = self._missing_left[cur[nan]]
            if self._has_categorical:
                cat = self._categorical[cur] & ~nan
                if cat.any():
                    left[cat] = self._categorical_left(v[cat], cur[cat])
            cur = np.where(left, self._left[cur], self._right[cur])
            node[pos] = cur
            keep = ~self._leaf[cur]
            pos, cur, row = pos[keep], cur[keep], row[keep]
        out: np.ndarray = self._value[node].reshape(n, trees).sum(axis=1) + self._baseline
        return out

    def _categorical_table(self) -> tuple[np.ndarray, np.ndarray]:
        """For each categorical split, where each category code goes (scikit-learn's rule: in the
        split's left set, left; known but not in it, right; unknown, with the missing values),
        as one row of a table indexed by code; `row[node]` is the split's row."""
        cat_nodes = np.flatnonzero(self._categorical)
        row = np.zeros(len(self._categorical), dtype=np.intp)
        row[cat_nodes] = np.arange(len(cat_nodes))
        codes = np.arange(_CODES, dtype=np.intp)
        word, bit = codes >> 5, (codes & 31).astype(np.uint32)
        table = np.zeros((max(1, len(cat_nodes)), _CODES), dtype=bool)
        for r, node in enumerate(cat_nodes):
            in_left = (self._left_bits[self._bitset[node], word] >> bit) & 1
            known = (self._known_bits[self._known_map[self._feature[node]], word] >> bit) & 1
            missing = bool(self._missing_left[node])
            table[r] = np.where(in_left == 1, True, np.where(known == 1, False, missing))
        return row, table

    def _categorical_left(self, v: np.ndarray, nodes: np.ndarray) -> np.ndarray:
        """Whether category codes `v` go left at categorical splits `nodes`; a negative code follows
        the missing values."""
        code = np.where(v >= 0, v, 0).astype(np.intp)
        out: np.ndarray = np.where(v < 0, self._missing_left[nodes], self._cat_left[self._cat_row[nodes], code])
        return out

    def predict(self, x: np.ndarray) -> np.ndarray:
        raw = self.raw(x)
        if self._classifier:
            classes: np.ndarray = self._model.classes_[(raw > 0).astype(np.intp)]
            return classes
        out: np.ndarray = self._model._loss.link.inverse(raw)
        return out

    def predict_proba(self, x: np.ndarray) -> np.ndarray:
        p = 1.0 / (1.0 + np.exp(-self.raw(x)))
        return np.stack([1.0 - p, p], axis=1)


def flatten(model: Any, features: int | None = None) -> Any:
    """`model` as `FlatTrees` where that gives the same predictions on a fixed sample; else `model`.

    Anything that is not a single-output HistGradientBoosting model (None, a test fake) is returned
    unchanged.
    """
    if model is None or not hasattr(model, "_predictors"):
        return model
    try:
        flat = FlatTrees(model)
        x = _sample(model, features or int(model.n_features_in_))
        if hasattr(model, "predict_proba"):
            ours, theirs = flat.predict_proba(x)[:, 1], model.predict_proba(x)[:, 1]
        else:
            ours, theirs = flat.predict(x), model.predict(x)
        if np.allclose(ours, theirs, rtol=0.0, atol=_TOLERANCE):
            return flat
        log.warning(
            "flattened trees disagree with scikit-learn (max %.3g); using scikit-learn's", np.abs(ours - theirs).max()
        )
    except (AttributeError, KeyError, TypeError, ValueError) as e:
        log.warning("cannot flatten the trees (%s); using scikit-learn's", e)
    return model


def _sample(model: Any, features: int) -> np.ndarray:
    """Rows that reach many leaves: values around each split, some missing, categories known and not."""
    rng = np.random.default_rng(0)
    thresholds = np.concatenate([it[0].nodes["num_threshold"] for it in model._predictors])
    x = rng.choice(thresholds, size=(256, features)) + rng.normal(scale=0.01, size=(256, features))
    mask = getattr(model, "is_categorical_", None)
    if mask is not None:
        for j in np.flatnonzero(mask):
            x[:, j] = rng.integers(-1, 40, size=256)
    x[rng.random(x.shape) < 0.05] = np.nan
    return x
