"""The spec's `tuning` section: the candidate's XGBoost parameters, the search space and Optuna's sampler and pruner."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from features.fairness_spec import Strict as _Strict


class XGBoostParams(_Strict):
    """Parameters of the candidate model; tuning searches around them."""

    max_depth: int = Field(default=4, ge=1, le=16)
    learning_rate: float = Field(default=0.05, gt=0, le=1)
    min_child_weight: float = Field(default=1.0, ge=0)
    subsample: float = Field(default=0.8, gt=0, le=1)
    colsample_bytree: float = Field(default=0.8, gt=0, le=1)
    reg_lambda: float = Field(default=1.0, ge=0)
    reg_alpha: float = Field(default=0.0, ge=0)
    gamma: float = Field(default=0.0, ge=0)
    max_rounds: int = Field(default=1000, gt=0)
    early_stopping_rounds: int = Field(default=50, gt=0)
    nthread: int = Field(default=0, ge=0, description="0 = all cores")


INTEGER_PARAMS = {"max_depth"}
TUNABLE_PARAMS = (
    "max_depth",
    "learning_rate",
    "min_child_weight",
    "subsample",
    "colsample_bytree",
    "reg_lambda",
    "reg_alpha",
    "gamma",
)


class SearchRange(_Strict):
    low: float
    high: float
    log: bool = False


def default_space() -> dict[str, SearchRange]:
    """Credit defaults: shallow trees, strong regularisation range; trees by early stopping."""
    return {
        "max_depth": SearchRange(low=2, high=6),
        "learning_rate": SearchRange(low=0.01, high=0.3, log=True),
        "min_child_weight": SearchRange(low=1, high=50, log=True),
        "subsample": SearchRange(low=0.5, high=1.0),
        "colsample_bytree": SearchRange(low=0.4, high=1.0),
        "reg_lambda": SearchRange(low=1e-3, high=10, log=True),
        "reg_alpha": SearchRange(low=1e-3, high=10, log=True),
        "gamma": SearchRange(low=0, high=5),
    }


class SamplerSpec(_Strict):
    """TPE options, set explicitly: Optuna 5 changed the defaults (multivariate, constant liar)."""

    multivariate: bool = True
    constant_liar: bool = True
    n_startup_trials: int = Field(default=10, ge=1)


class PruningSpec(_Strict):
    enabled: bool = True
    startup_trials: int = Field(default=5, ge=0)
    warmup_rounds: int = Field(default=20, ge=0)
    interval: int = Field(default=10, ge=1, description="report to the pruner every N boosting rounds")


class TuningSpec(_Strict):
    trials: int = Field(default=0, ge=0, description="0 = train `params` without tuning")
    timeout: float | None = Field(default=None, gt=0)
    seed: int = 42
    # log loss by default: early stopping on AUC stops after a few trees and leaves the PDs squeezed (uncalibrated)
    metric: Literal["auc", "logloss"] = "logloss"
    space: dict[str, SearchRange] = Field(default_factory=default_space)
    sampler: SamplerSpec = SamplerSpec()
    pruning: PruningSpec = PruningSpec()
    heartbeat_seconds: int = Field(default=10, ge=1)
    params: XGBoostParams = XGBoostParams()

    @model_validator(mode="after")
    def _valid_space(self) -> "TuningSpec":
        if not self.space:
            raise ValueError("tuning.space is empty; leave it out for the default space")
        for name, bounds in self.space.items():
            if name not in TUNABLE_PARAMS:
                raise ValueError(f"tuning.space: unknown parameter '{name}' (tunable: {', '.join(TUNABLE_PARAMS)})")
            if bounds.low > bounds.high:
                raise ValueError(f"tuning.space.{name}: low {bounds.low} is above high {bounds.high}")
            if bounds.log and bounds.low <= 0:
                raise ValueError(f"tuning.space.{name}: a log range needs low > 0")
            if name in INTEGER_PARAMS and not (float(bounds.low).is_integer() and float(bounds.high).is_integer()):
                raise ValueError(f"tuning.space.{name}: bounds must be integers")
        return self

    @property
    def direction(self) -> Literal["maximize", "minimize"]:
        return "maximize" if self.metric == "auc" else "minimize"
