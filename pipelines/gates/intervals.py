"""Confidence intervals of the holdout metrics: AUC and Gini by DeLong, KS, Brier, ECE and calibration-in-the-large
by a percentile bootstrap computed for all resamples at once (index matrices, no Python loop over resamples).

DeLong's variance of the AUC is exact for the Mann-Whitney statistic and costs one sort; it matches the row
bootstrap used before to within 0.01 (the bootstrap's own Monte-Carlo noise; tests/pipelines/gates/test_intervals.py)
without its 200 AUC computations. Pure: arrays in, numbers out.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt
from scipy.stats import norm, rankdata

CONFIDENCE = 0.95
N_BOOT = 200
MAX_ROWS = 20_000  # rows per resample: a million-row holdout costs what 20,000 rows cost
BINS = 10
METHOD = (
    f"{CONFIDENCE:.0%} intervals: AUC and Gini by DeLong's variance (normal approximation); KS, Brier, ECE and "
    f"calibration-in-the-large by a percentile bootstrap of {N_BOOT} resamples of at most {MAX_ROWS:,} rows"
)


def delong_auc_interval(
    y_true: npt.ArrayLike, p_default: npt.ArrayLike, *, confidence: float = CONFIDENCE
) -> tuple[float, float]:
    """AUC interval from DeLong's structural components (Sun and Xu's midrank algorithm); NaN with one class."""
    y, p = np.asarray(y_true).ravel(), np.asarray(p_default, dtype=float).ravel()
    pos, neg = p[y == 1], p[y == 0]
    m, n = len(pos), len(neg)
    if m < 2 or n < 2:
        return math.nan, math.nan
    both = rankdata(np.concatenate([pos, neg]))
    auc = (both[:m].sum() - m * (m + 1) / 2) / (m * n)
    v_pos = (both[:m] - rankdata(pos)) / n  # share of negatives below each positive
    v_neg = 1.0 - (both[m:] - rankdata(neg)) / m  # share of positives above each negative
    se = math.sqrt(v_pos.var(ddof=1) / m + v_neg.var(ddof=1) / n)
    half = float(norm.ppf((1 + confidence) / 2)) * se
    return max(0.0, auc - half), min(1.0, auc + half)


def holdout_intervals(
    y_true: npt.ArrayLike, p_default: npt.ArrayLike, *, seed: int = 0
) -> dict[str, tuple[float, float]]:
    """Intervals of auc, gini, ks, brier, ece and citl (mean PD - observed default rate)."""
    y, p = np.asarray(y_true).ravel().astype(np.int64), np.asarray(p_default, dtype=float).ravel()
    low, high = delong_auc_interval(y, p)
    out = {"auc": (low, high), "gini": (2 * low - 1, 2 * high - 1)}
    rows = resample_rows(len(y), seed=seed)
    replicates = bootstrap_replicates(y, p, rows)
    tails = [(1 - CONFIDENCE) / 2, (1 + CONFIDENCE) / 2]
    for name, values in replicates.items():
        values = values[np.isfinite(values)]
        bounds = np.quantile(values, tails) if values.size else (math.nan, math.nan)
        out[name] = (float(bounds[0]), float(bounds[1]))
    return out


def resample_rows(n: int, *, seed: int, n_boot: int = N_BOOT, max_rows: int = MAX_ROWS) -> npt.NDArray[np.int64]:
    """(n_boot, min(n, max_rows)) row indices drawn with replacement."""
    return np.random.default_rng(seed).integers(0, n, (n_boot, min(n, max_rows)))


def bootstrap_replicates(
    y: npt.NDArray[np.int64], p: npt.NDArray[np.float64], rows: npt.NDArray[np.int64]
) -> dict[str, npt.NDArray[np.float64]]:
    """KS, Brier, ECE and citl of every resample in `rows` at once; NaN for a resample with a single class.

    ECE uses the full sample's equal-count score bands (pipelines/gates/performance.py `calibration_table`)."""
    yb, pb = y[rows], p[rows]
    size = rows.shape[1]
    bads = yb.sum(axis=1)
    single = (bads == 0) | (bads == size)
    return {
        "ks": np.where(single, np.nan, _ks(y, p, rows, bads)),
        "brier": np.mean((pb - yb) ** 2, axis=1),
        "ece": _ece(yb, pb, rank_bands(p)[rows]),
        "citl": pb.mean(axis=1) - yb.mean(axis=1),
    }


def rank_bands(p: npt.NDArray[np.float64], *, bins: int = BINS) -> npt.NDArray[np.int64]:
    """Equal-count band 0..bins-1 per row by rank (lowest PD first); ties ordered by position."""
    order = np.argsort(p, kind="stable")
    bands = np.empty(len(p), dtype=np.int64)
    bands[order] = np.arange(len(p)) * bins // len(p)
    return bands


def _ks(
    y: npt.NDArray[np.int64], p: npt.NDArray[np.float64], rows: npt.NDArray[np.int64], bads: npt.NDArray[np.int64]
) -> npt.NDArray[np.float64]:
    """Max gap between cumulative bad and good shares, moving down from the riskiest score, at tie ends only.

    Each resample is put in score order by sorting its rows' ranks in the whole sample (32-bit integers, after one
    sort of the sample) rather than by sorting its scores: the same order up to ties, which only the tie ends see.
    Ties are told by the rank of each row's score value, so no score is gathered per resample."""
    order = np.argsort(-p, kind="stable")  # riskiest first
    rank = np.empty(len(p), dtype=np.int32)
    rank[order] = np.arange(len(p), dtype=np.int32)
    ranked = np.sort(rank[rows], axis=1)
    sorted_p = p[order]
    value = np.concatenate([[0], np.cumsum(sorted_p[1:] != sorted_p[:-1])]).astype(np.int32)  # tie group
    cum_bad = np.cumsum(y[order].astype(np.int32)[ranked], axis=1, dtype=np.int32)
    cum_good = np.arange(1, ranked.shape[1] + 1, dtype=np.int32) - cum_bad
    goods = ranked.shape[1] - bads
    with np.errstate(invalid="ignore", divide="ignore"):
        gap = np.abs(cum_bad * (1.0 / bads)[:, None] - cum_good * (1.0 / goods)[:, None])
    groups = value[ranked]
    gap[:, :-1][groups[:, 1:] == groups[:, :-1]] = 0.0  # inside a run of tied scores: not a cut point
    widest: npt.NDArray[np.float64] = gap.max(axis=1)
    return widest


def _ece(
    yb: npt.NDArray[np.int64], pb: npt.NDArray[np.float64], bands: npt.NDArray[np.int64]
) -> npt.NDArray[np.float64]:
    """Row-weighted |mean PD - default rate| over the bands: sum over bands of |sum p - sum y|, over rows."""
    n_boot, size = yb.shape
    flat = (np.arange(n_boot)[:, None] * BINS + bands).ravel()
    gap = np.bincount(flat, weights=(pb - yb).ravel(), minlength=n_boot * BINS).reshape(n_boot, BINS)
    ece: npt.NDArray[np.float64] = np.abs(gap).sum(axis=1) / size
    return ece
