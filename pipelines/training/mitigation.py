"""A less-discriminatory alternative: fairlearn's ExponentiatedGradient reduction over XGBoost.

Three choices make the reduction fit credit decisions (each found by measuring; see the README):

- The reduction classifies at 0.5, the policy declines at `cutoff`. Each XGBoost predictor is
  trained with `scale_pos_weight = (1 - cutoff) / cutoff`, so its 0.5 threshold IS the policy
  cutoff and the fairness constraint is enforced on the decisions the lender actually makes.
- fairlearn mixes hard decisions, so the challenger's score is the weighted share of its
  predictors that decline an applicant (fairlearn's own mixture), and its decision is the
  majority (decline when that share >= 0.5). The same applicant always gets the same answer;
  fairlearn's randomised `predict` would not do that, which a lender cannot defend.
- fairlearn validates X as a numeric array, so categorical model inputs enter as their codes
  (missing stays missing).

It needs no sensitive attribute at scoring time: attributes only weight the training rows.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypedDict

import numpy as np
import pandas as pd

from features.fairness_spec import MitigationSpec
from features.tuning_spec import XGBoostParams
from pipelines.gates.fairness import FairnessResult, json_safe
from pipelines.gates.performance import classification_metrics
from pipelines.progress import Progress
from pipelines.runtime import xgboost_threads
from pipelines.scoring.decision import declined
from pipelines.training.reduction_learner import ReductionLearner, SharedMatrix
from pipelines.training.train import booster_params

# spec name -> fairlearn.reductions class, imported only when a challenger is trained (the import costs ~1 s)
CONSTRAINTS = {
    "equalized_odds": "EqualizedOdds",
    "demographic_parity": "DemographicParity",
    "true_positive_rate_parity": "TruePositiveRateParity",
    "false_positive_rate_parity": "FalsePositiveRateParity",
    "error_rate_parity": "ErrorRateParity",
}
CHALLENGER_CUTOFF = 0.5  # majority of the mixture's weight declines


@dataclass(frozen=True)
class Challenger:
    predictors: list[Any]  # ReductionLearner, or fairlearn's DummyClassifier for a single-class fit
    weights: np.ndarray
    settings: MitigationSpec
    attributes: list[str]
    training_rows: int
    oracle_calls: int
    seconds: float

    def decline_share(self, model_input: pd.DataFrame) -> np.ndarray:
        """Weighted share of the mixture's predictors that decline each applicant (0..1)."""
        matrix = numeric_matrix(model_input).to_numpy()  # as the predictors were fitted: no feature names
        share = np.zeros(len(matrix))
        for weight, predictor in zip(self.weights, self.predictors):
            if weight > 0:
                share += weight * predictor.predict(matrix)
        return np.clip(share, 0.0, 1.0)

    def describe(self) -> dict[str, object]:
        return {
            "constraint": self.settings.constraint,
            "difference_bound": self.settings.difference_bound,
            "attributes": self.attributes,
            "training_rows": self.training_rows,
            "predictors_in_mixture": int((self.weights > 0).sum()),
            "oracle_calls": self.oracle_calls,
            "seconds": round(self.seconds, 1),
            "decision": "decline when the declining share >= 0.5",
        }


def numeric_matrix(model_input: pd.DataFrame) -> pd.DataFrame:
    """Model inputs as floats: categorical columns become their codes, missing stays NaN."""
    columns = {}
    for name, values in model_input.items():
        if isinstance(values.dtype, pd.CategoricalDtype):
            codes = values.cat.codes.to_numpy().astype(np.float64)
            codes[codes < 0] = np.nan
            columns[name] = codes
        else:
            columns[name] = values.to_numpy(dtype=np.float64, na_value=np.nan)
    return pd.DataFrame(columns, index=model_input.index)


class ChallengerJob(TypedDict):
    """`train_challenger`'s arguments: made by `challenger_job`, sent as they are to the challenger's process."""

    model_input: pd.DataFrame
    target: np.ndarray
    sensitive: pd.DataFrame
    params: XGBoostParams
    trees: int
    monotone: list[int]
    cutoff: float
    settings: MitigationSpec
    seed: int


def train_challenger(
    model_input: pd.DataFrame,
    target: np.ndarray,
    *,
    sensitive: pd.DataFrame,
    params: XGBoostParams,
    trees: int,
    monotone: list[int],
    cutoff: float,
    settings: MitigationSpec,
    seed: int,
    report: Callable[[int], None] | None = None,
) -> Challenger:
    """Fit the reduction on (a seeded sample of at most `settings.max_rows`) training rows; each fit is counted on
    a progress line, or passed to `report` (the challenger's own process counts for its parent's line)."""
    attributes = settings.attributes or list(sensitive.columns)
    rows = challenger_rows(len(target), settings=settings, seed=seed)
    y = np.asarray(target)[rows]
    if len(np.unique(y)) < 2:
        raise ValueError("the challenger's training rows hold a single class")
    groups = sensitive.iloc[rows][attributes].astype(str)
    from fairlearn import reductions

    constraint = getattr(reductions, CONSTRAINTS[settings.constraint])(difference_bound=settings.difference_bound)
    started = time.perf_counter()
    with contextlib.ExitStack() as stack:
        if report is None:
            report = stack.enter_context(Progress(challenger_label(settings, len(rows)), unit="fits")).update
        estimator = _cutoff_weighted_booster(params, trees, monotone, cutoff, seed, len(rows), report)
        reduction = reductions.ExponentiatedGradient(estimator, constraint, max_iter=settings.max_iter)
        # a plain array: XGBoost re-reads and checks a frame's feature names in Python on every boosting round,
        # a third of each small fit's time (90 fits of 100 rounds for German Credit)
        reduction.fit(numeric_matrix(model_input.iloc[rows]).to_numpy(), y, sensitive_features=groups)
    assert estimator.shared is not None
    estimator.shared.release()
    for predictor in reduction.predictors_:  # fairlearn's own DummyClassifier stands in where a fit had one class
        if isinstance(predictor, ReductionLearner):
            predictor.detach()  # the shared matrix (and the progress line) stay behind
    predictors = pd.Series(reduction.predictors_)
    weights = reduction.weights_.reindex(predictors.index, fill_value=0.0).to_numpy(float)
    in_mixture = weights > 0  # a predictor without weight never changes a decision
    return Challenger(
        list(predictors[in_mixture]),
        weights[in_mixture],
        settings,
        attributes,
        len(rows),
        int(reduction.n_oracle_calls_),
        time.perf_counter() - started,
    )


def challenger_label(settings: MitigationSpec, rows: int) -> str:
    return f"challenger ({settings.constraint}, {rows:,} rows)"


def challenger_rows(training_rows: int, *, settings: MitigationSpec, seed: int) -> np.ndarray:
    """The training rows the reduction is fitted on: all of them, or a seeded sample of `settings.max_rows`."""
    rows = np.arange(training_rows)
    if len(rows) > settings.max_rows:
        rows = np.sort(np.random.default_rng(seed).choice(rows, settings.max_rows, replace=False))
    return rows


def _cutoff_weighted_booster(
    params: XGBoostParams,
    trees: int,
    monotone: list[int],
    cutoff: float,
    seed: int,
    rows: int,
    report: Callable[[int], Any],
) -> ReductionLearner:
    """The reduction's base learner: the original's params, trees and monotone constraints, with defaults
    weighted by `(1 - cutoff) / cutoff` so that fairlearn's 0.5 threshold IS the policy cutoff."""
    threads = xgboost_threads(rows, params.nthread)  # dozens of small fits: one thread each below 50,000 rows
    native = booster_params(params.model_copy(update={"nthread": threads}), monotone=monotone, seed=seed)
    native["scale_pos_weight"] = (1 - cutoff) / cutoff  # no evaluation set: the metric is never computed
    return ReductionLearner(native, max(trees, 1), SharedMatrix(threads, report))


@dataclass(frozen=True)
class ChallengerReport:
    """The challenger judged beside the original, on the same holdout, by the same fairness policy."""

    challenger: Challenger
    fairness: FairnessResult
    comparison: pd.DataFrame  # one row per model
    sample: str

    def metrics(self) -> dict[str, float]:
        row = self.comparison.set_index("model").loc["challenger"]
        values = {f"challenger.{self.sample}_{k}": float(row[k]) for k in _PERFORMANCE}
        values.update({f"challenger.{k}": v for k, v in self.fairness.metrics().items()})
        return values

    def to_dict(self) -> dict[str, object]:
        return json_safe(
            {
                "sample": self.sample,
                "challenger": self.challenger.describe(),
                "comparison": self.comparison.to_dict(orient="records"),
                "fairness": self.fairness.to_dict(),
            }
        )


_PERFORMANCE = ("auc", "ks", "approval_rate", "bad_rate_approved")


def compare(
    y_true: np.ndarray,
    original_pd: np.ndarray,
    *,
    cutoff: float,
    original: FairnessResult,
    challenger_share: np.ndarray,
    challenger: FairnessResult,
) -> pd.DataFrame:
    """Accuracy and fairness of both models side by side: the trade-off a reviewer weighs."""
    rows = []
    for model, score, threshold, fairness in (
        ("original", original_pd, cutoff, original),
        ("challenger", challenger_share, CHALLENGER_CUTOFF, challenger),
    ):
        metrics = classification_metrics(y_true, score)
        approved = ~declined(score, threshold)
        row = {
            "model": model,
            "auc": metrics["auc"],
            "ks": metrics["ks"],
            "approval_rate": approved.mean(),
            "bad_rate_approved": np.asarray(y_true)[approved].mean() if approved.any() else float("nan"),
        }
        for name, grouping in fairness.groupings.items():
            row.update({f"{name} {k}": grouping.disparity[k] for k in ("air", "dp_difference", "eo_difference")})
        row["fairness"] = "passed" if fairness.verdict.passed else "failed"
        rows.append(row)
    return pd.DataFrame(rows)
