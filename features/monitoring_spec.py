"""The `monitoring` key of the experiment spec: drift methods, PSI levels, outcome limits, schedule.

Every key has a default, so specs written before monitoring existed stay valid. Read by
`creditflow monitor` from the spec logged with the model version, so a version is watched with
the settings it was registered with.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from features.fairness_spec import Strict as _Strict

CREDIT_PSI = "credit_psi"  # decile PSI on the reference (monitoring/stability.py), registered in Evidently
# Evidently 0.7 stat tests usable per column (their drift verdict counts as an alert).
EVIDENTLY_METHODS = (
    "anderson",
    "chisquare",
    "cramer_von_mises",
    "ed",
    "empirical_mmd",
    "es",
    "fisher_exact",
    "g_test",
    "hellinger",
    "jensenshannon",
    "kl_div",
    "ks",
    "mannw",
    "psi",
    "t_test",
    "tvd",
    "wasserstein",
    "z",
)
METHODS = (CREDIT_PSI, *EVIDENTLY_METHODS)


class PsiLevels(_Strict):
    """Credit practice: < 0.10 stable, 0.10-0.25 investigate, >= 0.25 material shift."""

    warn: float = Field(default=0.10, ge=0)
    alert: float = Field(default=0.25, gt=0)
    bins: int = Field(default=10, ge=2)

    @model_validator(mode="after")
    def _ordered(self) -> "PsiLevels":
        if self.warn > self.alert:
            raise ValueError(f"warn {self.warn} is above alert {self.alert}")
        return self


class DriftMethods(_Strict):
    """Which test judges each input column; `credit_psi` uses the PSI levels, others their threshold."""

    numeric: str = CREDIT_PSI
    categorical: str = CREDIT_PSI
    columns: dict[str, str] = {}  # column -> method, overriding the kind's default
    thresholds: dict[str, float] = {}  # non-PSI method -> Evidently threshold (its own default otherwise)

    @model_validator(mode="after")
    def _known(self) -> "DriftMethods":
        named = {
            "numeric": self.numeric,
            "categorical": self.categorical,
            **{f"columns.{k}": v for k, v in self.columns.items()},
            **{f"thresholds.{k}": k for k in self.thresholds},
        }
        for where, method in named.items():
            if method not in METHODS:
                raise ValueError(f"{where}: unknown drift method '{method}' (known: {', '.join(METHODS)})")
        return self

    def method_for(self, column: str, kind: str) -> str:
        return self.columns.get(column, self.numeric if kind == "numeric" else self.categorical)


class QualityLimits(_Strict):
    """Data-quality limits against the reference; breaking one is a warning."""

    max_missing_increase: float = Field(default=0.05, ge=0, description="rise of a column's missing share")
    max_new_category_share: float = Field(default=0.01, ge=0, description="share of categories unseen in the reference")
    max_out_of_range_share: float = Field(default=0.01, ge=0, description="share outside the reference min-max")


class OutcomeLimits(_Strict):
    """Degradation limits once labels arrive, against the version's holdout performance at registration."""

    auc_drop_warn: float = Field(default=0.03, ge=0)
    auc_drop_alert: float = Field(default=0.05, ge=0)
    ks_drop_warn: float = Field(default=0.05, ge=0)
    ks_drop_alert: float = Field(default=0.10, ge=0)
    min_rows: int = Field(default=200, ge=1, description="fewer labelled rows: outcomes reported, not judged")
    # status when the fairness policy fails on a window (warn: the registration gate already judged fairness)
    fairness: Literal["warn", "alert"] = "warn"


class ScheduleSpec(_Strict):
    """Documentation for operators: the window size and the cron line README suggests."""

    window: Literal["month"] = "month"
    cron: str = "0 6 2 * *"  # 06:00 on the 2nd: the previous month is complete


class MonitoringSpec(_Strict):
    psi: PsiLevels = PsiLevels()
    score: PsiLevels = PsiLevels()  # PSI of the predicted probability of default
    drift: DriftMethods = DriftMethods()
    quality: QualityLimits = QualityLimits()
    outcomes: OutcomeLimits = OutcomeLimits()
    schedule: ScheduleSpec = ScheduleSpec()
    reference_rows: int = Field(default=50_000, ge=100, description="training rows stored with the version")
    report_rows: int = Field(default=50_000, ge=100, description="rows per sample drawn in the Evidently HTML report")
    seed: int = 0


class BacktestLimits(_Strict):
    """The vintage back-test and the label-free estimate (governed: the policy's `backtest` section).

    A loan's 12-month PD is spread evenly over its first year (`timing: linear`: PD x h / 12 by h months on book).
    A score band of a cohort is out when the model's expected rate lies outside the Jeffreys interval of the
    observed rate; out for `consecutive` cohorts in a row (same side) it warns."""

    horizons: list[int] = Field(default=[3, 6, 12], min_length=1)  # months on book judged
    confidence: float = Field(default=0.99, gt=0.5, lt=1)  # of each band's Jeffreys interval
    consecutive: int = Field(default=2, ge=1)  # cohorts in a row out of their interval before a warning
    min_loans: int = Field(default=30, ge=1)  # fewer loans in a band-cohort cell: shown, not judged
    estimate_confidence: float = Field(default=0.95, gt=0.5, lt=1)  # of the label-free estimate's interval
    timing: Literal["linear"] = "linear"
