"""Calibration judged: do the PDs match the defaults that happened, overall and score band by score band?

A PD model decides at a cutoff, so PDs squeezed toward the average (early stopping after a few trees does
that) move decisions and fairness verdicts even when the ranking (AUC) looks fine. Three measures on each
holdout, against `policy.calibration`:

* calibration-in-the-large: mean PD against the observed default rate; fails when the relative gap
  |mean PD / default rate - 1| exceeds `max_citl_gap` AND a Jeffreys test rejects it (p < `min_p_value`);
* a Jeffreys test per equal-count score band (10 bands): fails when more than `max_failed_bands` reject;
* ECE (row-weighted |mean PD - default rate| over the bands) above `max_ece`, judged only when the holdout is
  large enough: a perfectly calibrated model shows an ECE of about sum_b w_b * sqrt(2/pi * p_b(1-p_b)/n_b) from
  noise alone (its "noise floor"); when that floor exceeds half of `max_ece`, ECE is reported, not judged.

The Jeffreys test: the default rate's posterior Beta(d + 1/2, n - d + 1/2); the p-value is twice the tail
beyond the band's mean PD. Pure: arrays in, tables and sentences out.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy.stats import beta

from features.validation_spec import CalibrationPolicy
from pipelines.gates.intervals import BINS, rank_bands


@dataclass(frozen=True)
class CalibrationCheck:
    bands: pd.DataFrame  # band, n, defaults, mean_pd, default_rate, p_value
    ece: float
    ece_floor: float  # the ECE a perfectly calibrated model would show on this holdout, from noise alone
    mean_pd: float
    default_rate: float
    citl_p_value: float

    @property
    def citl_gap(self) -> float:
        """|mean PD / default rate - 1|: how far the PDs are off overall, relative to the default rate."""
        return abs(self.mean_pd / self.default_rate - 1) if self.default_rate > 0 else math.inf

    def metrics(self) -> dict[str, float]:
        return {
            "ece": self.ece,
            "ece_floor": self.ece_floor,
            "citl": self.mean_pd - self.default_rate,
            "citl_gap": self.citl_gap,
            "citl_p_value": self.citl_p_value,
            "bands_rejected": float(self.bands["rejected"].sum()),
        }


def jeffreys_p_value(defaults: npt.ArrayLike, n: npt.ArrayLike, pd_value: npt.ArrayLike) -> npt.NDArray[np.float64]:
    """Two-sided Jeffreys test of `pd_value` against `defaults` out of `n` (vectorised)."""
    d, n, q = (np.asarray(v, dtype=float) for v in (defaults, n, pd_value))
    below = beta.cdf(q, d + 0.5, n - d + 0.5)
    return np.asarray(np.minimum(1.0, 2 * np.minimum(below, 1 - below)), dtype=np.float64)


def calibration_check(y_true: npt.ArrayLike, p_default: npt.ArrayLike, *, min_p_value: float) -> CalibrationCheck:
    y, p = np.asarray(y_true, dtype=float).ravel(), np.asarray(p_default, dtype=float).ravel()
    frame = pd.DataFrame({"band": rank_bands(p, bins=BINS) + 1, "y": y, "p": p})
    bands = frame.groupby("band").agg(n=("y", "size"), defaults=("y", "sum"), mean_pd=("p", "mean")).reset_index()
    bands["defaults"] = bands["defaults"].astype(np.int64)
    bands["default_rate"] = bands["defaults"] / bands["n"]
    bands["p_value"] = jeffreys_p_value(bands["defaults"], bands["n"], bands["mean_pd"])
    bands["rejected"] = bands["p_value"] < min_p_value
    weights = bands["n"] / len(y)
    ece = float(np.sum(weights * np.abs(bands["mean_pd"] - bands["default_rate"])))
    spread = bands["mean_pd"] * (1 - bands["mean_pd"]) / bands["n"]
    floor = float(np.sum(weights * np.sqrt(2 / math.pi * spread)))
    citl_p = float(jeffreys_p_value(y.sum(), len(y), p.mean()))
    return CalibrationCheck(bands, ece, floor, float(p.mean()), float(y.mean()), citl_p)


def calibration_verdict(check: CalibrationCheck, *, policy: CalibrationPolicy) -> tuple[list[str], list[str]]:
    """(reasons the PDs fail, notes on what was not judged)."""
    reasons, notes = [], []
    if check.citl_gap > policy.max_citl_gap and check.citl_p_value < policy.min_p_value:
        reasons.append(
            f"calibration-in-the-large: mean PD {check.mean_pd:.3f} against observed default rate "
            f"{check.default_rate:.3f} ({check.citl_gap:.0%} off, limit {policy.max_citl_gap:.0%}; "
            f"Jeffreys p={check.citl_p_value:.2g})"
        )
    rejected = check.bands[check.bands["rejected"]]
    if len(rejected) > policy.max_failed_bands:
        listed = ", ".join(f"band {r.band} PD {r.mean_pd:.3f} vs {r.default_rate:.3f}" for r in rejected.itertuples())
        reasons.append(
            f"{len(rejected)} of {len(check.bands)} score bands miscalibrated (Jeffreys p < {policy.min_p_value:g}; "
            f"at most {policy.max_failed_bands}): {listed}"
        )
    if check.ece_floor > policy.max_ece / 2:
        notes.append(
            f"ECE {check.ece:.3f} not judged: too few rows (a perfectly calibrated model would show about "
            f"{check.ece_floor:.3f} from noise alone, over half the limit {policy.max_ece:g}); the band test applies"
        )
    elif check.ece > policy.max_ece:
        reasons.append(f"ECE {check.ece:.3f} above maximum {policy.max_ece:.3f}")
    return reasons, notes
