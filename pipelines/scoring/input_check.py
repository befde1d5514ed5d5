"""The input check of a scored batch: is this the kind of data the model was built on?

A feed that lost a column (every `credit_amount` empty after an upstream outage) is scored by a gradient-boosted
model without complaint: missing values take a default branch, and the declines went from 19.5% to 43% in the
case that made this check. So each batch is compared, per feature, with the reference sample stored with the
version (pipelines/evidence/reference.py): the share of rows missing beyond the reference's own share, the share
of categories the model never saw, the share of numbers outside the reference's range; and its decline rate with
the holdout's. The limits are the governed policy's (`input_check`, features/policy.py): past `warn` the scores
carry a warning, past `refuse` nothing is written. Pure: frames and counts in, findings out; the batch is counted
chunk by chunk (`InputProfile.add`), so the check costs one pass over what is scored anyway.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from features.policy import InputLimits

__all__ = ["Finding", "InputProfile", "Reference", "findings", "reference_of"]

OK, WARN, REFUSE = "ok", "warn", "refuse"


@dataclass(frozen=True)
class Reference:
    """What the reference sample says a feature looks like."""

    missing: dict[str, float]  # feature -> share missing in the reference
    ranges: dict[str, tuple[float, float]]  # numeric feature -> (min, max)
    categories: dict[str, frozenset[str]]  # categorical feature -> values seen


def reference_of(sample: pd.DataFrame, *, numeric: list[str], categorical: list[str]) -> Reference:
    """The reference of the model's features, from the sample stored with its version."""
    present = [c for c in [*numeric, *categorical] if c in sample.columns]
    ranges = {}
    for column in (c for c in numeric if c in sample.columns):
        values = pd.to_numeric(sample[column], errors="coerce").dropna()
        if len(values):
            ranges[column] = (float(values.min()), float(values.max()))
    categories = {c: frozenset(sample[c].dropna().astype(str)) for c in categorical if c in sample.columns}
    return Reference({c: float(sample[c].isna().mean()) for c in present}, ranges, categories)


@dataclass
class InputProfile:
    """Counts of a batch, chunk by chunk: rows, and per feature missing, unseen and out-of-range values."""

    rows: int = 0
    missing: dict[str, int] = field(default_factory=dict)
    unseen: dict[str, int] = field(default_factory=dict)
    out_of_range: dict[str, int] = field(default_factory=dict)

    def add(self, raw: pd.DataFrame, reference: Reference) -> None:
        self.rows += len(raw)
        for column in reference.missing:
            values = raw[column] if column in raw.columns else pd.Series([None] * len(raw), dtype=object)
            missing = values.isna() | (values.astype(str).str.strip() == "")
            self.missing[column] = self.missing.get(column, 0) + int(missing.sum())
            if column in reference.categories:
                known = values[~missing].astype(str).isin(reference.categories[column])
                self.unseen[column] = self.unseen.get(column, 0) + int((~known).sum())
            elif column in reference.ranges:
                low, high = reference.ranges[column]
                number = pd.to_numeric(values[~missing], errors="coerce").to_numpy(dtype=np.float64)
                outside = (number < low) | (number > high)
                self.out_of_range[column] = self.out_of_range.get(column, 0) + int(outside.sum())


@dataclass(frozen=True)
class Finding:
    """One feature (or the decline rate) past a limit."""

    feature: str
    measure: str  # missing | unseen | out_of_range | decline_rate
    share: float
    expected: float
    level: str  # warn | refuse

    def line(self) -> str:
        what = {
            "missing": "missing",
            "unseen": "categories never seen in training",
            "out_of_range": "outside the training range",
            "decline_rate": "declined",
        }[self.measure]
        where = "the batch" if self.measure == "decline_rate" else self.feature
        return f"{self.level}: {where}: {self.share:.1%} {what} (reference {self.expected:.1%})"

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def findings(
    profile: InputProfile, reference: Reference, limits: InputLimits, *, declined: int, holdout_rate: float | None
) -> list[Finding]:
    """Every feature past a limit (refusals first), and the decline rate past the holdout's plus its limit."""
    found = []
    rows = max(profile.rows, 1)
    for column, count in profile.missing.items():
        share, expected = count / rows, reference.missing.get(column, 0.0)
        found += _judge(
            column, "missing", share, expected, share - expected, limits.missing_warn, limits.missing_refuse
        )
    for column, count in profile.unseen.items():
        found += _judge(column, "unseen", count / rows, 0.0, count / rows, limits.unseen_warn, limits.unseen_refuse)
    for column, count in profile.out_of_range.items():
        share = count / rows
        found += _judge(column, "out_of_range", share, 0.0, share, limits.out_of_range_warn, limits.out_of_range_refuse)
    if holdout_rate is not None and profile.rows:
        rate = declined / profile.rows
        found += _judge(
            "decline_rate", "decline_rate", rate, holdout_rate, rate - holdout_rate, limits.decline_rate_jump, None
        )
    return sorted(found, key=lambda f: (f.level != REFUSE, f.feature, f.measure))


def _judge(
    feature: str, measure: str, share: float, expected: float, excess: float, warn: float, refuse: float | None
) -> list[Finding]:
    if refuse is not None and excess > refuse:
        return [Finding(feature, measure, share, expected, REFUSE)]
    if excess > warn:
        return [Finding(feature, measure, share, expected, WARN)]
    return []
