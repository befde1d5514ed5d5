"""Evaluation metrics and tables for probability-of-default (PD) models.

Conventions used throughout: the positive class is *default* (label 1) and a
score is a predicted probability of default, so a higher score means a riskier
loan. Every function is pure: arrays in, numbers / DataFrames out.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
from sklearn.metrics import brier_score_loss, log_loss, roc_auc_score, roc_curve

from pipelines.scoring.decision import declined

METRIC_NAMES: tuple[str, ...] = (
    "auc",
    "gini",
    "ks",
    "brier",
    "log_loss",
    "bad_rate",
    "mean_pd",
    "n",
)
MIN_CLASS_ROWS = 20  # a holdout with fewer defaulters (or good payers) than this is too small to judge
_EPS = 1e-15
# Differences smaller than this are treated as float noise in threshold checks.
_TOL = 1e-12


def _validate(y_true: Any, p_default: Any) -> tuple[np.ndarray, np.ndarray]:
    """Return (y, p) as numpy arrays after checking they form a usable sample.

    Raises ValueError for empty input, mismatched lengths, non-binary labels,
    a single class (AUC/KS are undefined) or scores outside [0, 1] / NaN.
    """
    y = np.asarray(y_true).ravel()
    p = np.asarray(p_default, dtype=float).ravel()
    if y.size == 0:
        raise ValueError("y_true is empty")
    if y.size != p.size:
        raise ValueError(f"length mismatch: y_true has {y.size} rows, p_default has {p.size}")
    if not np.all(np.isin(y, (0, 1))):
        raise ValueError("y_true must contain only 0 (good) and 1 (default)")
    y = y.astype(np.int8)
    if y.min() == y.max():
        raise ValueError(f"y_true has a single class ({int(y[0])}); metrics need both goods and bads")
    if not np.all(np.isfinite(p)):
        raise ValueError("p_default contains NaN or infinite values")
    if p.min() < 0.0 or p.max() > 1.0:
        raise ValueError("p_default must be probabilities in [0, 1]")
    return y, p


def _cumulative_shares(y: np.ndarray, p: np.ndarray) -> dict[str, np.ndarray]:
    """Cumulative bad/good/population shares as the cut-off moves down from the riskiest score.

    One point per distinct score (ties are never split), plus a leading (0, 0, 0)
    point. O(n log n) because of the single sort.
    """
    order = np.argsort(-p, kind="stable")
    p_sorted, y_sorted = p[order], y[order]
    cum_bad = np.cumsum(y_sorted, dtype=np.int64)
    cum_all = np.arange(1, y.size + 1, dtype=np.int64)
    # Last position of each run of equal scores: the cut-off "score >= t".
    last_of_tie = np.r_[p_sorted[1:] != p_sorted[:-1], True]
    cum_bad, cum_all = cum_bad[last_of_tie], cum_all[last_of_tie]
    n_bad = cum_bad[-1]
    n_good = y.size - n_bad
    return {
        "thresholds": np.r_[np.inf, p_sorted[last_of_tie]],
        "population_share": np.r_[0.0, cum_all / y.size],
        "cum_bad": np.r_[0.0, cum_bad / n_bad],
        "cum_good": np.r_[0.0, (cum_all - cum_bad) / n_good],
    }


def _ks_from_shares(shares: dict[str, np.ndarray]) -> tuple[float, int]:
    """KS statistic and the index of the point where it is attained."""
    gap = np.abs(shares["cum_bad"] - shares["cum_good"])
    idx = int(np.argmax(gap))
    return float(gap[idx]), idx


def classification_metrics(y_true: Any, p_default: Any) -> dict[str, float]:
    """Headline discrimination and calibration metrics of a PD model.

    Keys: auc, gini (2*auc-1), ks (max gap between the cumulative score
    distributions of bads and goods; equals the two-sample KS statistic),
    brier, log_loss (probabilities clipped to [1e-15, 1-1e-15]), bad_rate
    (observed), mean_pd (mean predicted) and n (row count as float).
    """
    y, p = _validate(y_true, p_default)
    auc = float(roc_auc_score(y, p))
    ks, _ = _ks_from_shares(_cumulative_shares(y, p))
    clipped = np.clip(p, _EPS, 1 - _EPS)
    return {
        "auc": auc,
        "gini": 2.0 * auc - 1.0,
        "ks": ks,
        "brier": float(brier_score_loss(y, p)),
        "log_loss": float(log_loss(y, clipped, labels=[0, 1])),
        "bad_rate": float(y.mean()),
        "mean_pd": float(p.mean()),
        "n": float(y.size),
    }


def _rank_bins(p: np.ndarray, bins: int, riskiest_first: bool) -> np.ndarray:
    """Equal-count bin labels 1..bins assigned by rank, so ties never crash binning.

    Tied scores are ordered by row position (stable sort) and may straddle a
    bin edge; every bin therefore has n//bins or n//bins+1 rows (when n < bins
    only n bins are populated).
    """
    if bins < 1:
        raise ValueError(f"bins must be >= 1, got {bins}")
    order = np.argsort(-p if riskiest_first else p, kind="stable")
    labels = np.empty(p.size, dtype=np.int64)
    labels[order] = np.arange(p.size) * bins // p.size + 1
    return labels


def calibration_table(y_true: Any, p_default: Any, *, bins: int = 10) -> pd.DataFrame:
    """Mean predicted PD vs observed bad rate per quantile bin of the score.

    Bin 1 holds the lowest scores. Columns: bin, n, mean_pd, observed_bad_rate.
    """
    y, p = _validate(y_true, p_default)
    frame = pd.DataFrame({"bin": _rank_bins(p, bins, riskiest_first=False), "y": y, "p": p})
    table = frame.groupby("bin", sort=True).agg(n=("y", "size"), mean_pd=("p", "mean"), observed_bad_rate=("y", "mean"))
    return table.reset_index()


def expected_calibration_error(table: pd.DataFrame) -> float:
    """Row-weighted mean of |mean_pd - observed_bad_rate| over a calibration table."""
    missing = {"n", "mean_pd", "observed_bad_rate"} - set(table.columns)
    if missing:
        raise ValueError(f"calibration table lacks columns {sorted(missing)}")
    weights = table["n"].to_numpy(dtype=float)
    if weights.sum() <= 0:
        raise ValueError("calibration table has no rows")
    gaps = np.abs(table["mean_pd"].to_numpy(float) - table["observed_bad_rate"].to_numpy(float))
    return float(np.sum(weights * gaps) / weights.sum())


def decile_table(y_true: Any, p_default: Any, *, bins: int = 10) -> pd.DataFrame:
    """Gains table: bad rate by score band, decile 1 = riskiest (highest PD) band.

    cum_bad_capture is the share of all bads found from the riskiest band down
    to this one; cum_population_share is the matching share of rows; lift is
    the band's bad rate divided by the overall bad rate.
    """
    y, p = _validate(y_true, p_default)
    frame = pd.DataFrame({"decile": _rank_bins(p, bins, riskiest_first=True), "y": y, "p": p})
    table = (
        frame.groupby("decile", sort=True)
        .agg(n=("y", "size"), min_pd=("p", "min"), max_pd=("p", "max"), bads=("y", "sum"))
        .reset_index()
    )
    table["bads"] = table["bads"].astype(np.int64)
    table["bad_rate"] = table["bads"] / table["n"]
    table["cum_bad_capture"] = table["bads"].cumsum() / y.sum()
    table["cum_population_share"] = table["n"].cumsum() / y.size
    table["lift"] = table["bad_rate"] / y.mean()
    return table


def curves(y_true: Any, p_default: Any) -> dict[str, dict[str, Any]]:
    """Data for ROC and KS plots.

    Returns {"roc": {fpr, tpr, auc}, "ks": {thresholds, population_share,
    cum_bad, cum_good, ks, ks_index, ks_population_share, ks_threshold}}. KS
    arrays start at the (0, 0, 0) point and move from the riskiest score
    downwards; ks_index is the array position where the KS gap is attained.
    """
    y, p = _validate(y_true, p_default)
    fpr, tpr, _ = roc_curve(y, p)
    shares = _cumulative_shares(y, p)
    ks, idx = _ks_from_shares(shares)
    ks_data: dict[str, Any] = dict(shares)
    ks_data.update(
        ks=ks,
        ks_index=idx,
        ks_population_share=float(shares["population_share"][idx]),
        ks_threshold=float(shares["thresholds"][idx]),
    )
    return {"roc": {"fpr": fpr, "tpr": tpr, "auc": float(roc_auc_score(y, p))}, "ks": ks_data}


def _check_names(limits: dict[str, float], kind: str, metrics: dict[str, float]) -> None:
    """Reject limits that name a metric we do not know or that was not computed."""
    for name in limits:
        if name not in METRIC_NAMES:
            raise ValueError(f"unknown metric {name!r} in {kind}; known: {', '.join(METRIC_NAMES)}")
        if name not in metrics:
            raise ValueError(f"metric {name!r} in {kind} is missing from the metrics dict")


def performance_verdict(
    metrics: dict[str, float], *, minima: dict[str, float], maxima: dict[str, float]
) -> tuple[bool, list[str]]:
    """Check metrics against release thresholds; returns (passed, failure reasons).

    A value exactly on a threshold passes. A NaN metric always fails, so a
    broken computation can never slip through as "not below the minimum".
    """
    _check_names(minima, "minima", metrics)
    _check_names(maxima, "maxima", metrics)
    reasons: list[str] = []
    for name, bound in minima.items():
        value = float(metrics[name])
        if math.isnan(value) or value < bound - _TOL:
            reasons.append(f"{name} {value:.3f} below minimum {bound:.3f}")
    for name, bound in maxima.items():
        value = float(metrics[name])
        if math.isnan(value) or value > bound + _TOL:
            reasons.append(f"{name} {value:.3f} above maximum {bound:.3f}")
    return not reasons, reasons


def judged_values(
    metrics: dict[str, float],
    bounds: dict[str, tuple[float, float]],
    *,
    minima: dict[str, float],
    maxima: dict[str, float],
    judge_on: str,
) -> tuple[dict[str, float], dict[str, float], dict[str, str]]:
    """The value each limit is judged on: the point estimate, or at `lower_bound` the interval's lower bound for a
    minimum and its upper bound for a maximum (metrics without an interval stay on the point). Returns the values
    for the minima, for the maxima, and a label per metric saying what was judged ("95% lower bound")."""
    low = {k: v for k, v in metrics.items()}
    high = {k: v for k, v in metrics.items()}
    labels: dict[str, str] = {}
    if judge_on == "lower_bound":
        for name in minima:
            if name in bounds:
                low[name], labels[name] = bounds[name][0], "lower bound"
        for name in maxima:
            if name in bounds:
                high[name], labels[name] = bounds[name][1], "upper bound"
    return low, high, labels


def interval_verdict(
    metrics: dict[str, float],
    bounds: dict[str, tuple[float, float]],
    *,
    minima: dict[str, float],
    maxima: dict[str, float],
    judge_on: str = "point",
) -> list[str]:
    """`performance_verdict` judged on the interval where the policy says so: at `lower_bound` an AUC of 0.74 whose
    95% interval is 0.66-0.82 does not meet a 0.70 minimum. Each reason names the point, the interval and what was
    judged."""
    _check_names(minima, "minima", metrics)
    _check_names(maxima, "maxima", metrics)
    for_min, for_max, labels = judged_values(metrics, bounds, minima=minima, maxima=maxima, judge_on=judge_on)
    reasons = []
    for kind, limits, values in (("minimum", minima, for_min), ("maximum", maxima, for_max)):
        _, broken = performance_verdict(
            {**metrics, **{k: values[k] for k in limits}},
            minima=limits if kind == "minimum" else {},
            maxima=limits if kind == "maximum" else {},
        )
        for reason in broken:
            name = reason.split(" ", 1)[0]
            if name in labels:
                lo, hi = bounds[name]
                reason = (
                    f"{name} {metrics[name]:.3f}: its 95% interval's {labels[name]} {values[name]:.3f} "
                    f"({lo:.3f}-{hi:.3f}) {'below' if kind == 'minimum' else 'above'} {kind} {limits[name]:.3f} "
                    "(the policy judges on the interval)"
                )
            reasons.append(reason)
    return reasons


def width_verdict(bounds: dict[str, tuple[float, float]], n: int, max_width: float | None) -> str | None:
    """Why a holdout is not assessable under the policy's interval width (the AUC interval wider than it), or None."""
    if max_width is None or "auc" not in bounds:
        return None
    low, high = bounds["auc"]
    if math.isnan(low) or math.isnan(high) or high - low > max_width + _TOL:
        return (
            f"not assessable: the AUC interval {low:.3f}-{high:.3f} is {high - low:.3f} wide on {n:,} rows "
            f"(policy max_interval_width {max_width:g}): the holdout is too small to tell a model at the minimum "
            "from one below it"
        )
    return None


def leak_check(xgb_auc: float, baseline_auc: float, *, max_uplift: float = 0.05) -> str | None:
    """Warn when the boosted model beats the logistic baseline suspiciously well.

    A large AUC gap over a plain logistic regression on the same split is a
    classic symptom of target leakage. Returns the warning line or None.
    """
    uplift = xgb_auc - baseline_auc
    if uplift > max_uplift + _TOL:
        return f"XGBoost AUC exceeds the logistic baseline by {uplift:.3f} (> {max_uplift:g}): check for leakage"
    return None


def judgeable(y_true: npt.ArrayLike) -> str | None:
    """Why a holdout is too small to judge (fewer than MIN_CLASS_ROWS defaulters or good payers), or None."""
    y = np.asarray(y_true)
    bads, goods = int(y.sum()), int(len(y) - y.sum())
    if min(bads, goods) >= MIN_CLASS_ROWS:
        return None
    return f"too small to judge: {bads} defaulters and {goods} good payers (need {MIN_CLASS_ROWS} of each)"


def decline_verdict(
    p_default: npt.ArrayLike, *, cutoff: float, min_rate: float, max_rate: float
) -> tuple[float, list[str]]:
    """The share declined at the policy cutoff, and why it is no credit decision (declines too few or too many)."""
    rate = float(np.mean(declined(p_default, cutoff)))
    reasons = []
    if rate < min_rate - _TOL:
        who = "nobody" if rate == 0 else f"only {rate:.1%}"
        reasons.append(f"the cutoff {cutoff:g} declines {who} (minimum decline rate {min_rate:.0%})")
    if rate > max_rate + _TOL:
        reasons.append(f"the cutoff {cutoff:g} declines {rate:.1%} (maximum decline rate {max_rate:.0%})")
    return rate, reasons
