"""Training the XGBoost credit model: pure functions, frames in, booster out.

Uses the native `xgboost.train` API (what the benchmark compares against) with `hist`, native
categoricals, monotone constraints from the spec, early stopping on the validation sample, and
a seed. CPU `hist` is bitwise deterministic for a seed, so the same inputs give the same booster.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import xgboost as xgb

from features.tuning_spec import XGBoostParams


def booster_params(params: XGBoostParams, *, monotone: list[int], seed: int, metric: str = "auc") -> dict[str, Any]:
    """Native XGBoost parameters for a binary default model; `metric` drives early stopping."""
    native = {
        "objective": "binary:logistic",
        "eval_metric": metric,
        "tree_method": "hist",
        "max_depth": params.max_depth,
        "eta": params.learning_rate,
        "min_child_weight": params.min_child_weight,
        "subsample": params.subsample,
        "colsample_bytree": params.colsample_bytree,
        "lambda": params.reg_lambda,
        "alpha": params.reg_alpha,
        "gamma": params.gamma,
        "seed": seed,
        "monotone_constraints": "(" + ",".join(str(m) for m in monotone) + ")",
    }
    if params.nthread:
        native["nthread"] = params.nthread
    return native


def to_dmatrix(features: pd.DataFrame, target: np.ndarray | None = None, *, nthread: int = 0) -> xgb.DMatrix:
    return xgb.DMatrix(features, label=target, enable_categorical=True, nthread=nthread or -1)


def fit_booster(
    train: xgb.DMatrix,
    valid: xgb.DMatrix,
    params: XGBoostParams,
    *,
    monotone: list[int],
    seed: int,
    metric: str = "auc",
    callbacks: list[xgb.callback.TrainingCallback] | None = None,
) -> xgb.Booster:
    """Train with early stopping on `valid` (evaluation name "valid"); return the booster cut at its
    best iteration, with the best validation score in its `best_score` attribute."""
    booster = xgb.train(
        booster_params(params, monotone=monotone, seed=seed, metric=metric),
        train,
        num_boost_round=params.max_rounds,
        evals=[(valid, "valid")],
        early_stopping_rounds=params.early_stopping_rounds,
        callbacks=callbacks,
        verbose_eval=False,
    )
    best, score = booster.best_iteration, booster.best_score
    # Keep only the trees up to the best round, so every consumer predicts with the same model.
    booster = booster[: best + 1]
    booster.set_attr(best_score=repr(float(score)))
    return booster


class RoundProgress(xgb.callback.TrainingCallback):
    """Reports every boosting round, with the latest validation metric, to a `pipelines.progress.Progress`:
    as a step of its own (`step=1`, the training line) or as a note on another line (`step=0`, a tuning trial)."""

    def __init__(self, progress: Any, *, step: int = 1, prefix: str = ""):
        self.progress, self.step, self.prefix = progress, step, prefix

    def after_iteration(
        self, model: xgb.Booster, epoch: int, evals_log: xgb.callback.TrainingCallback.EvalsLog
    ) -> bool:
        latest = ", ".join(f"valid {k} {v[-1]:.4f}" for k, v in evals_log.get("valid", {}).items())
        self.progress.update(self.step, f"{self.prefix}round {epoch + 1}, {latest}")
        return False

    def __deepcopy__(self, memo: dict[int, object]) -> RoundProgress:
        return self  # sklearn's clone deep-copies estimator params: every copy reports to the same line


def best_score(booster: xgb.Booster) -> float:
    score = booster.attr("best_score")
    if score is None:  # the TypeError float(None) raised, saying why
        raise TypeError("the booster holds no best_score: `fit_booster` sets it")
    return float(score)


def predict_pd(booster: xgb.Booster, features: pd.DataFrame) -> np.ndarray:
    """Probability of default for already-transformed features."""
    return booster.inplace_predict(features, validate_features=True).astype(np.float64)


def booster_bytes(booster: xgb.Booster) -> bytes:
    """The booster as UBJSON bytes: what is saved in the model and compared for reproducibility."""
    return bytes(booster.save_raw(raw_format="ubj"))
