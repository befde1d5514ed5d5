"""Per-group fairness measures: confusion-cell counts, group tables, disparities and their bootstrap intervals.

Convention: default = 1, the model gives PD, an applicant is APPROVED when PD < cutoff and DECLINED
when PD >= cutoff (pipelines/scoring/decision.py); "selection rate" in lending is the APPROVAL rate. For
equalized odds the positive prediction is a DECLINE and the positive truth a default: TPR = share of
defaulters declined, FPR = share of good payers declined. Inputs align by position; a missing sensitive
value is the group "missing". Approval-rate gaps are judged over groups of at least `min_group_size`
applicants; TPR, FPR and equalized-odds gaps only over those that also hold at least `min_group_size`
defaulters and as many good payers (a rate over 1-3 defaulters is noise: one defaulter gave a gap of 1.000).

fairlearn's MetricFrame runs on confusion-cell counts (at most four weighted rows per group), not on
raw rows: it stacks every row in Python (~8 s per metric at 1M rows), and the counts hold everything
approval, default, TPR and FPR need. Per-group AUC is rank-based on the rows (ties count one half).
"""

from __future__ import annotations

import math
import re
from typing import Any, TypeAlias, overload

import numpy as np
import numpy.typing as npt
import pandas as pd
from fairlearn.metrics import MetricFrame

from features.fairness_spec import FairnessPolicy
from pipelines.scoring.decision import declined

Floats: TypeAlias = npt.NDArray[np.float64]
Ints: TypeAlias = npt.NDArray[np.int64]

MISSING = "missing"
JOIN = " × "  # names an intersection: "sex × age_band"
CELLS = ("declined_bad", "declined_good", "approved_bad", "approved_good")  # cell = 2 * approved + good
INTERVAL_METHOD = (
    "Stratified percentile bootstrap: each group keeps its size and its four confusion-cell counts "
    "(declined/approved x default/good) are redrawn from a multinomial with the group's observed "
    "cell shares, which is exactly a resample of rows within each group. A gap is a max - min of "
    "noisy rates, biased upward, so with small groups an interval can sit above its point estimate: "
    "it shows the sampling noise, it does not correct the estimate."
)
_TABLE = (
    "group",
    "n",
    "defaulters",
    "good_payers",
    "approval_rate",
    "default_rate",
    "tpr",
    "fpr",
    "auc",
    "too_small",
    "too_few_outcomes",
)
TPR_FPR_WORDS = (
    "TPR = share of defaulters declined; FPR = share of good payers declined; equalized-odds difference = the "
    "larger of the TPR and FPR gaps between groups"
)
_GAPS = ("air", "dp_difference", "eo_difference", "tpr_difference", "fpr_difference")


def metric_name(name: str) -> str:
    """MLflow-safe: "×" becomes "_x_", any other character outside [A-Za-z0-9_-. /] becomes "_"."""
    return re.sub(r"[^A-Za-z0-9_\-. /]", "_", name.replace(JOIN, "_x_").replace("×", "_x_"))


def group_metrics(
    y_true: npt.ArrayLike,
    p_default: npt.ArrayLike,
    *,
    sensitive: pd.DataFrame | pd.Series,
    cutoff: float,
    min_group_size: int = 30,
) -> pd.DataFrame:
    """One row per observed group (several columns: their intersection), sorted by attribute values.

    Columns: the attribute(s), group (values joined by " × "), n, defaulters, good_payers, approval_rate,
    default_rate (observed bad rate), tpr (NaN without defaulters), fpr (NaN without good payers), auc (NaN with
    one class), too_small (under `min_group_size` applicants), too_few_outcomes (under `min_group_size`
    defaulters or good payers: left out of TPR/FPR gaps).
    """
    y, p, frame = _inputs(y_true, p_default, sensitive, cutoff)
    return _table(*_encode(frame), y, p, cutoff, min_group_size, np.argsort(p, kind="stable"))


def _table(
    codes: Ints, keys: pd.DataFrame, y: Ints, p: Floats, cutoff: float, min_group_size: int, order: npt.NDArray[np.intp]
) -> pd.DataFrame:
    cols = list(keys.columns)
    weight = _cell_counts(codes, y, declined(p, cutoff), len(keys)).ravel().astype(np.float64)
    cells = keys.loc[keys.index.repeat(4)].assign(
        y=np.tile([1, 0, 1, 0], len(keys)), declined=np.tile([1, 1, 0, 0], len(keys))
    )
    cells, weight = cells[weight > 0].reset_index(drop=True), weight[weight > 0]
    frame = MetricFrame(
        metrics=_WEIGHTED,
        y_true=cells["y"],
        y_pred=cells["declined"],
        sensitive_features=cells[cols],
        sample_params={k: {"sample_weight": weight} for k in _WEIGHTED},
    )
    by_group = frame.by_group.dropna(subset=["n"]).reset_index()  # several columns: unobserved combinations are NaN
    table = keys.assign(
        group=[JOIN.join(v) for v in keys.itertuples(index=False)], auc=_auc_by_code(codes, y, p, len(keys), order)
    )
    table = table.merge(by_group, on=cols, how="left", validate="one_to_one")
    table = table.astype({"n": np.int64, "defaulters": np.int64, "good_payers": np.int64})
    few = (table["defaulters"] < min_group_size) | (table["good_payers"] < min_group_size)
    return table.assign(too_small=table["n"] < min_group_size, too_few_outcomes=few)[[*cols, *_TABLE]]


def _rate(hit: Floats, among: Floats | float, weight: Floats) -> float:
    total = float(np.sum(weight * among))
    return float(np.sum(weight * among * hit)) / total if total > 0 else math.nan


_WEIGHTED = {  # metric(y_true = default, y_pred = declined, sample_weight = cell count)
    "n": lambda y, d, sample_weight: float(np.sum(sample_weight)),
    "defaulters": lambda y, d, sample_weight: float(np.sum(sample_weight * y)),
    "good_payers": lambda y, d, sample_weight: float(np.sum(sample_weight * (1 - y))),
    "approval_rate": lambda y, d, sample_weight: _rate(1 - d, 1, sample_weight),
    "default_rate": lambda y, d, sample_weight: _rate(y, 1, sample_weight),
    "tpr": lambda y, d, sample_weight: _rate(d, y, sample_weight),
    "fpr": lambda y, d, sample_weight: _rate(d, 1 - y, sample_weight),
}


def _cell_counts(codes: Ints, y: Ints, is_declined: npt.NDArray[np.bool_], n_groups: int) -> Ints:
    """(n_groups, 4) counts in CELLS order."""
    return np.bincount(codes * 4 + 2 * (~is_declined) + (1 - y), minlength=4 * n_groups).reshape(n_groups, 4)


def _auc_by_code(codes: Ints, y: Ints, p: Floats, n_groups: int, order: npt.NDArray[np.intp]) -> Floats:
    """AUC of p for y within each group (Mann-Whitney, ties one half); NaN for a group with one class.

    `order` is a stable argsort of p; a stable sort of the codes in that order lines up each group's scores.
    """
    idx = order[np.argsort(codes[order], kind="stable")]
    g, s, pos = codes[idx], p[idx], y[idx]
    start = np.flatnonzero(np.r_[True, (g[1:] != g[:-1]) | (s[1:] != s[:-1])])  # blocks of equal (group, score)
    g_b, pos_b = g[start], np.add.reduceat(pos, start)
    neg_b = np.diff(np.r_[start, g.size]) - pos_b
    neg_g, pos_g = np.bincount(g_b, neg_b, n_groups), np.bincount(g_b, pos_b, n_groups)
    neg_below = np.cumsum(neg_b) - neg_b - (np.cumsum(neg_g) - neg_g)[g_b]  # same group, lower score
    wins = np.bincount(g_b, pos_b * (neg_below + 0.5 * neg_b), n_groups)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(pos_g * neg_g > 0, wins / (pos_g * neg_g), np.nan)


def disparity(table: pd.DataFrame) -> dict[str, float | str]:
    """Gaps between the groups that are not too small (fewer than two such groups: every number NaN).

    air = min / max approval rate (1.0 when the max is 0: nobody approved is no adverse impact between
    groups; all approved gives 1.0 too), dp_difference = max - min approval rate, eo_difference =
    max(tpr_difference, fpr_difference), each a max - min over the groups with enough defaulters and good
    payers (`too_few_outcomes` False). most_favoured / least_favoured: highest / lowest approval rate.
    """
    judged = table[~table["too_small"]].sort_values("approval_rate", kind="stable")
    few = judged.get("too_few_outcomes", pd.Series(False, index=judged.index)).to_numpy(bool)
    rates = [np.where(few, np.nan, judged[c].to_numpy(np.float64)) for c in ("tpr", "fpr")]
    gaps = _gaps(judged["approval_rate"].to_numpy(np.float64), *rates)
    out: dict[str, float | str] = {k: float(v) for k, v in zip(_GAPS, gaps)}
    ends = judged.iloc[[-1, 0]] if len(judged) >= 2 else pd.DataFrame({"group": ["", ""], "approval_rate": math.nan})
    out.update(
        most_favoured=ends["group"].iloc[0],
        least_favoured=ends["group"].iloc[1],
        most_favoured_rate=float(ends["approval_rate"].iloc[0]),
        least_favoured_rate=float(ends["approval_rate"].iloc[1]),
        n_groups=float(len(table)),
        n_groups_judged=float(len(judged)),
    )
    return out


def _gaps(approval: Floats, tpr: Floats, fpr: Floats) -> tuple[Floats, ...]:
    """air, dp, eo, tpr gap, fpr gap over the last axis (groups): for one table or for all replicates at once."""
    if approval.shape[-1] < 2:
        return (np.full(approval.shape[:-1], np.nan),) * 5
    high, low = approval.max(axis=-1), approval.min(axis=-1)
    air = np.where(high > 0, low / np.where(high > 0, high, 1), 1.0)
    tpr_gap, fpr_gap = _nanrange(tpr), _nanrange(fpr)
    return air, high - low, np.fmax(tpr_gap, fpr_gap), tpr_gap, fpr_gap  # fmax ignores one NaN


def _nanrange(values: Floats) -> Floats:
    """max - min over the last axis ignoring NaN; NaN when fewer than two values are defined."""
    missing = np.isnan(values)
    spread = np.where(missing, -np.inf, values).max(axis=-1) - np.where(missing, np.inf, values).min(axis=-1)
    return np.where((~missing).sum(axis=-1) >= 2, spread, np.nan)


def bootstrap_intervals(
    y_true: npt.ArrayLike,
    p_default: npt.ArrayLike,
    *,
    sensitive: pd.DataFrame | pd.Series,
    cutoff: float,
    policy: FairnessPolicy,
    seed: int = 0,
) -> dict[str, tuple[float, float]]:
    """`policy.confidence` intervals of air, dp_difference, eo_difference by INTERVAL_METHOD (seeded)."""
    y, p, frame = _inputs(y_true, p_default, sensitive, cutoff)
    codes, keys = _encode(frame)
    return _intervals(_cell_counts(codes, y, declined(p, cutoff), len(keys)), policy, seed)


def _intervals(
    counts: Ints, policy: FairnessPolicy, seed: int, outcomes: int | None = None
) -> dict[str, tuple[float, float]]:
    """Percentile intervals over `policy.n_boot` redraws of the judged groups' cell counts: no per-row work.
    TPR/FPR gaps count the groups with at least `outcomes` defaulters and good payers (default: min_group_size).

    The max - min of noisy rates is biased upward, so for a true gap near 0 the interval can sit
    above the point estimate: it shows sampling noise, it does not correct the estimate.
    """
    judged = counts[counts.sum(axis=1) >= policy.min_group_size]
    if len(judged) < 2:
        return {k: (math.nan, math.nan) for k in _GAPS[:3]}
    size = judged.sum(axis=1)
    bads, goods = judged[:, 0] + judged[:, 2], judged[:, 1] + judged[:, 3]
    least = policy.min_group_size if outcomes is None else outcomes
    few = (bads < least) | (goods < least)  # as observed: left out of TPR/FPR gaps
    c = np.random.default_rng(seed).multinomial(size, judged / size[:, None], size=(policy.n_boot, len(judged)))
    with np.errstate(invalid="ignore", divide="ignore"):
        tpr, fpr = c[..., 0] / (c[..., 0] + c[..., 2]), c[..., 1] / (c[..., 1] + c[..., 3])
        gaps = _gaps((c[..., 2] + c[..., 3]) / size, np.where(few, np.nan, tpr), np.where(few, np.nan, fpr))
    tails = [(1 - policy.confidence) / 2, (1 + policy.confidence) / 2]
    out: dict[str, tuple[float, float]] = {}
    for name, values in zip(_GAPS[:3], gaps):
        values = values[~np.isnan(values)]
        low, high = np.quantile(values, tails) if values.size else (math.nan, math.nan)
        out[name] = (float(low), float(high))
    return out


def _inputs(
    y_true: npt.ArrayLike, p_default: npt.ArrayLike, sensitive: pd.DataFrame | pd.Series, cutoff: float
) -> tuple[Ints, Floats, pd.DataFrame]:
    """y as int64 0/1, p as finite float64, sensitive as a frame of named columns; equal lengths."""
    y, p = np.asarray(y_true).ravel(), np.asarray(p_default, dtype=np.float64).ravel()
    if not (len(y) == len(p) == len(sensitive)) or len(y) == 0:
        raise ValueError(
            f"need equal, non-zero lengths: y_true {len(y)}, p_default {len(p)}, sensitive {len(sensitive)}"
        )
    for ok, problem in (
        (np.isin(y, (0, 1)).all(), "y_true must be 0/1 (1 = default)"),
        (np.isfinite(p).all(), "p_default has missing or infinite values"),
        (0 < cutoff <= 1, f"cutoff must be in (0, 1], got {cutoff}"),
    ):
        if not ok:
            raise ValueError(problem)
    return y.astype(np.int64), p, _frame(sensitive)


def _frame(sensitive: pd.DataFrame | pd.Series) -> pd.DataFrame:
    frame = sensitive.to_frame(sensitive.name or "sensitive") if isinstance(sensitive, pd.Series) else sensitive
    frame = frame.set_axis([str(c) for c in frame.columns], axis=1)
    clash = set(frame.columns) & {"y", "declined", *_TABLE}
    if frame.shape[1] == 0 or clash or frame.columns.duplicated().any():
        raise ValueError(f"need uniquely named sensitive attributes, none of {sorted(clash) or 'them repeated'}")
    return frame


def _factorize(values: pd.Series) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.object_]]:
    """Code per row and sorted text level per code; values equal as text are one level, missing is "missing"."""
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    levels, remap = np.unique(np.array([str(u) for u in uniques] + [MISSING], dtype=object), return_inverse=True)
    return remap[codes], levels  # code -1 (missing) picks remap's last entry: "missing"


def _encode(
    frame: pd.DataFrame, factors: dict[str, tuple[npt.NDArray[np.intp], npt.NDArray[np.object_]]] | None = None
) -> tuple[Ints, pd.DataFrame]:
    """Group code per row for the intersection of the frame's columns, and the observed groups' keys, sorted.

    `factors` may hold `_factorize` results already computed per column (the gate reuses them).
    """
    cols = list(frame.columns)
    per_column = [factors[c] if factors and c in factors else _factorize(frame[c]) for c in cols]
    dims = tuple(len(levels) for _, levels in per_column)
    observed, codes = np.unique(np.ravel_multi_index(tuple(c for c, _ in per_column), dims), return_inverse=True)
    parts = np.unravel_index(observed, dims)
    keys = pd.DataFrame({c: levels[part].astype(str) for c, (_, levels), part in zip(cols, per_column, parts)})
    return codes.astype(np.int64), keys


@overload
def json_safe(value: dict[Any, Any]) -> dict[str, Any]: ...
@overload
def json_safe(value: list[Any] | tuple[Any, ...]) -> list[Any]: ...
@overload
def json_safe(value: object) -> Any: ...
def json_safe(value: object) -> Any:
    """`value` as JSON holds it: keys as text, tuples as lists, NumPy scalars as Python's, NaN as None."""
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    value = value.item() if isinstance(value, np.generic) else value
    return None if isinstance(value, float) and math.isnan(value) else value
