"""The decision rule, written once: an applicant is declined when the probability of default is at or above the
policy cutoff, approved below it; where the governed policy has a refer band (`policy.refer`), an applicant whose
PD lies in the band, or whom the model cannot judge with confidence (a thin file, a feature outside its training
range), is referred to an underwriter instead. Scoring (local, Spark, served), the fairness gate, the mitigated
challenger, notices and monitoring all decide through these functions.

`declined` is the model's own automated verdict (PD >= cutoff), which the gates judge; `decision_codes` is the
decision a lender acts on: 0 approve, 1 decline, 2 refer. Without a refer rule the two agree.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    import pandas as pd
    from numpy.typing import ArrayLike

DECLINE, APPROVE, REFER = "decline", "approve", "refer"
LABELS = (APPROVE, DECLINE, REFER)  # index = decision code
APPROVE_CODE, DECLINE_CODE, REFER_CODE = 0, 1, 2


@dataclass(frozen=True)
class ReferRule:
    """When an applicant goes to a person: PD in [low, high), a thin file (`thin_feature` below `thin_below`, or
    missing), or a numeric feature outside its training range (`ranges`; empty: the rule is off)."""

    low: float
    high: float
    thin_feature: str | None = None
    thin_below: float | None = None
    ranges: dict[str, tuple[float, float]] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "low": self.low,
            "high": self.high,
            "thin_file": {"feature": self.thin_feature, "below": self.thin_below} if self.thin_feature else None,
            "ranges": {k: list(v) for k, v in self.ranges.items()},
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ReferRule:
        thin = d.get("thin_file") or {}
        ranges = {k: (float(v[0]), float(v[1])) for k, v in (d.get("ranges") or {}).items()}
        return cls(float(d["low"]), float(d["high"]), thin.get("feature"), thin.get("below"), ranges)

    def uncertain(self, features: pd.DataFrame) -> np.ndarray:
        """True where the model's own input makes its PD unreliable (thin file, outside the training range)."""
        flags = np.zeros(len(features), dtype=bool)
        if self.thin_feature and self.thin_feature in features.columns:
            values = features[self.thin_feature].to_numpy(dtype=np.float64)
            flags |= np.isnan(values) | (values < float(self.thin_below or 0.0))
        for name, (low, high) in self.ranges.items():
            if name in features.columns:
                values = features[name].to_numpy(dtype=np.float64)
                with np.errstate(invalid="ignore"):
                    flags |= (values < low) | (values > high)
        return flags


def refer_rule(
    cutoff: float,
    *,
    below: float,
    above: float,
    thin_file: tuple[str, float] | None = None,
    ranges: dict[str, tuple[float, float]] | None = None,
) -> ReferRule | None:
    """The rule of a policy's `refer` section at `cutoff`; None when it refers nobody (the two-decision rule)."""
    if below <= 0 and above <= 0 and thin_file is None and not ranges:
        return None
    thin_feature, thin_below = thin_file if thin_file else (None, None)
    return ReferRule(cutoff - below, cutoff + above, thin_feature, thin_below, dict(ranges or {}))


def declined(p_default: ArrayLike, cutoff: float) -> np.ndarray:
    """True where the model declines the applicant (PD >= cutoff): its automated verdict, before any referral."""
    return np.asarray(p_default, dtype=np.float64) >= cutoff


def decision_codes(
    p_default: ArrayLike, cutoff: float, rule: ReferRule | None = None, uncertain: np.ndarray | None = None
) -> np.ndarray:
    """0 approve / 1 decline / 2 refer per applicant (int8); `uncertain`: rows the rule's input checks flagged."""
    p = np.asarray(p_default, dtype=np.float64)
    codes = (p >= cutoff).view(np.int8).copy()
    if rule is not None:
        refer = (p >= rule.low) & (p < rule.high)
        if uncertain is not None:
            refer |= uncertain
        codes[refer] = REFER_CODE
    return codes


_LABELS = np.array(LABELS, dtype=object)


def decision_labels(
    p_default: ArrayLike, cutoff: float, rule: ReferRule | None = None, uncertain: np.ndarray | None = None
) -> np.ndarray:
    """ "approve" / "decline" / "refer" per applicant (an object array of the strings: pandas keeps it as it is,
    where a fixed-width text array would be converted string by string)."""
    return _LABELS[decision_codes(p_default, cutoff, rule, uncertain)]


def adverse(labels: ArrayLike) -> np.ndarray:
    """True where a decision is owed reasons and a notice: declined or referred."""
    values = np.asarray(labels, dtype=object)
    return (values == DECLINE) | (values == REFER)
