"""The `policy` section of the spec: the limits every gate judges by (`PolicySpec`).

Its own module because both the spec (`features/spec.py`, a spec's `policy` section) and the governed policy
(`features/policy.py`, a policy file's `limits`) have this shape: the spec builds on the policy, so the shape
sits below both.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from features.fairness_spec import FairnessPolicy
from features.fairness_spec import Strict as _Strict
from features.monitoring_spec import PsiLevels as StabilityPolicy  # the gate and monitoring share PSI levels
from features.validation_spec import CalibrationPolicy, DataDesignPolicy, LeakagePolicy


class PerformancePolicy(_Strict):
    minimum: dict[str, float] = {"auc": 0.70}
    maximum: dict[str, float] = {}
    max_baseline_uplift: float = Field(default=0.05, gt=0)
    # Conceptual soundness: a boosted model that does not beat its logistic baseline by this much AUC on the main
    # holdout earns nothing for its opacity. At 0 it is a note the reviewer reads (the baseline named as the
    # simpler alternative); above 0 the gate fails below it.
    min_baseline_uplift: float = Field(default=0.0, ge=0)
    # Share of a holdout declined at the policy cutoff: a cutoff that declines (almost) nobody, or almost everybody,
    # makes no credit decision. 2% and 70%: a prime book declines some, a subprime book rarely over two thirds.
    min_decline_rate: float = Field(default=0.02, ge=0, le=1)
    max_decline_rate: float = Field(default=0.70, ge=0, le=1)
    # Intervals decide: at `lower_bound` a minimum is met when the metric's 95% interval's lower bound meets it (a
    # maximum when its upper bound does); metrics without an interval are judged on the point. `point` judges the
    # point estimate alone. A spec may move from point to lower_bound, never back.
    judge_on: Literal["point", "lower_bound"] = "point"
    # A holdout whose AUC interval is wider than this cannot tell a model at the minimum from a useless one: the
    # gate is `not_assessed` on it (None: no limit).
    max_interval_width: float | None = Field(default=None, gt=0, le=1)

    @model_validator(mode="after")
    def _ordered(self) -> "PerformancePolicy":
        if self.min_decline_rate > self.max_decline_rate:
            raise ValueError(
                f"min_decline_rate {self.min_decline_rate} is above max_decline_rate {self.max_decline_rate}"
            )
        return self


class ThinFile(_Strict):
    """A thin file: the applicant's `feature` (a numeric feature, e.g. months of credit history) missing or below
    `below`: the model saw too little of such applicants to decide alone."""

    feature: str
    below: float


class ReferPolicy(_Strict):
    """When an applicant goes to a person instead of an automated decision: PD within `below` under the cutoff to
    `above` over it, and optionally on the model's own uncertainty. A spec may widen it (larger margins, more
    rules), never narrow it. All zero and off (the default): approve/decline only, as before refer bands existed."""

    below: float = 0.0  # the band is [cutoff - below, cutoff + above)
    above: float = 0.0
    thin_file: ThinFile | None = None
    out_of_range: bool = False  # a numeric feature outside the range of the training rows
    # The fairness gate's limit on the band itself: the refer rates of two groups (of the fairness policy's
    # min_group_size) may differ by at most this much, else one group is sent to people far more often.
    max_rate_difference: float = Field(default=0.10, ge=0, le=1)


class PolicySpec(_Strict):
    cutoff: float = Field(default=0.5, gt=0, lt=1, description="decline when PD >= cutoff")
    reason_baseline: Literal["average", "cutoff"] = "average"
    performance: PerformancePolicy = PerformancePolicy()
    calibration: CalibrationPolicy = CalibrationPolicy()
    leakage: LeakagePolicy = LeakagePolicy()
    data_design: DataDesignPolicy = DataDesignPolicy()
    stability: StabilityPolicy = StabilityPolicy()
    fairness: FairnessPolicy = FairnessPolicy()
    refer: ReferPolicy = ReferPolicy()

    @model_validator(mode="after")
    def _band(self) -> "PolicySpec":
        low, high = self.cutoff - self.refer.below, self.cutoff + self.refer.above
        if self.refer.below < 0 or self.refer.above < 0:
            raise ValueError(f"refer: the band [{low:g}, {high:g}) does not contain the cutoff {self.cutoff:g}")
        if low < 0 or high > 1:
            raise ValueError(
                f"refer: the band [{low:g}, {high:g}) around the cutoff {self.cutoff:g} lies outside [0, 1]"
            )
        return self

    @property
    def refers(self) -> bool:
        """Whether this policy refers anyone (three decisions) or only approves and declines."""
        r = self.refer
        return r.below > 0 or r.above > 0 or r.thin_file is not None or r.out_of_range
