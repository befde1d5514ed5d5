"""The base learner fairlearn's reduction fits dozens of times: XGBoost on one quantized matrix shared by every fit.

ExponentiatedGradient refits its learner on the same rows at every iteration, with new labels and weights. Through
`XGBClassifier` each fit built a new `QuantileDMatrix` (quantile sketch of every column): a quarter of a fit's
time at 20,000 rows. Here the matrix is built once, from the rows alone, and each fit only sets its labels and
weights. The cut points are therefore those of the unweighted rows for every fit (the classifier's were sketched
from each fit's weights): the same learner otherwise, the same parameters, trees and seed.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import xgboost as xgb
from sklearn.base import BaseEstimator, ClassifierMixin


class SharedMatrix:
    """The quantized training rows and the fit counter, shared by every clone of the learner."""

    def __init__(self, nthread: int, report: Callable[[int], Any] | None = None):
        self.nthread, self.report = nthread, report
        self._rows: Any = None
        self._matrix: xgb.QuantileDMatrix | None = None

    def __deepcopy__(self, memo: dict[int, object]) -> SharedMatrix:
        return self  # fairlearn clones the learner (deep-copying its parameters) for each fit

    def matrix(self, X: Any, labels: np.ndarray, weights: np.ndarray | None) -> xgb.DMatrix:
        if self._matrix is None or self._rows is not X:  # fairlearn passes the same array to every fit
            self._rows, self._matrix = X, xgb.QuantileDMatrix(np.asarray(X, dtype=np.float64), nthread=self.nthread)
        self._matrix.set_label(labels)
        self._matrix.set_weight(np.ones(len(labels)) if weights is None else weights)
        return self._matrix

    def release(self) -> None:
        self._rows = self._matrix = None


class ReductionLearner(ClassifierMixin, BaseEstimator):
    """A binary XGBoost classifier on `shared`'s matrix: `params` for `xgboost.train`, `rounds` trees."""

    def __init__(self, params: dict | None = None, rounds: int = 1, shared: SharedMatrix | None = None):
        self.params, self.rounds, self.shared = params, rounds, shared

    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> ReductionLearner:
        assert self.shared is not None and self.params is not None
        if self.shared.report is not None:
            self.shared.report(1)
        labels = np.asarray(y, dtype=np.float64)
        weights = None if sample_weight is None else np.asarray(sample_weight, dtype=np.float64)
        self.booster_ = xgb.train(self.params, self.shared.matrix(X, labels, weights), self.rounds)
        self.classes_ = np.array([0, 1])
        return self

    def predict_proba(self, X: Any) -> np.ndarray:
        p = self.booster_.inplace_predict(np.asarray(X, dtype=np.float64))
        return np.column_stack([1 - p, p])

    def predict(self, X: Any) -> np.ndarray:
        return (self.predict_proba(X)[:, 1] > 0.5).astype(np.int64)  # as XGBClassifier: class 1 above 0.5

    def get_booster(self) -> xgb.Booster:
        return self.booster_

    def detach(self) -> None:
        """Drop the shared matrix (not picklable, no longer needed) once the reduction is fitted."""
        self.shared = None
