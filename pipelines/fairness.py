"""Fairness of credit decisions across groups of sensitive attributes (measured only, never model features).

Convention: default = 1, the model gives PD, an applicant is APPROVED when PD < cutoff and DECLINED
when PD >= cutoff; "selection rate" in lending is the APPROVAL rate. For equalized odds the positive
prediction is a DECLINE and the positive truth a default: TPR = share of defaulters declined, FPR =
share of good payers declined. Inputs align by position; a missing sensitive value is the group "missing".

fairlearn's MetricFrame runs on confusion-cell counts (at most four weighted rows per group), not on
raw rows: it stacks every row in Python (~8 s per metric at 1M rows), and the counts hold everything
approval, default, TPR and FPR need. Per-group AUC is rank-based on the rows (ties count one half).
"""

from __future__ import annotations

import math
import re
from dataclasses import asdict, dataclass, field

import numpy as np
import pandas as pd
from fairlearn.metrics import MetricFrame

MISSING = "missing"
JOIN = " × "  # names an intersection: "sex × age_band"
CELLS = ("declined_bad", "declined_good", "approved_bad", "approved_good")  # cell = 2 * approved + good
INTERVAL_METHOD = ("Stratified percentile bootstrap: each group keeps its size and its four confusion-cell counts "
                   "(declined/approved x default/good) are redrawn from a multinomial with the group's observed "
                   "cell shares, which is exactly a resample of rows within each group. A gap is a max - min of "
                   "noisy rates, biased upward, so with small groups an interval can sit above its point estimate: "
                   "it shows the sampling noise, it does not correct the estimate.")
_TABLE = ("group", "n", "approval_rate", "default_rate", "tpr", "fpr", "auc", "too_small")
_GAPS = ("air", "dp_difference", "eo_difference", "tpr_difference", "fpr_difference")


@dataclass(frozen=True)
class FairnessPolicy:
    """Limits of the fairness gate; a value exactly at a limit passes."""

    min_air: float = 0.8  # adverse impact ratio floor (four-fifths rule)
    max_dp_difference: float = 0.1  # demographic-parity difference of approval rates
    max_eo_difference: float = 0.1  # equalized-odds difference (max of TPR and FPR gaps)
    min_group_size: int = 30  # smaller groups are reported "too small to judge" and left out of the verdict
    confidence: float = 0.95
    n_boot: int = 200
    rationale: str = ""  # jurisdiction text shown in the report
    intersections: bool = True  # also judge the intersection of all attributes

    def __post_init__(self) -> None:
        for ok, rule in ((0 < self.min_air <= 1, "min_air in (0, 1]"), (0 < self.confidence < 1, "confidence in (0, 1)"),
                         (min(self.max_dp_difference, self.max_eo_difference) >= 0, "max differences >= 0"),
                         (min(self.min_group_size, self.n_boot) >= 1, "min_group_size and n_boot >= 1")):
            if not ok:
                raise ValueError(f"fairness policy needs {rule}")


@dataclass
class FairnessVerdict:
    passed: bool
    reasons: list[str] = field(default_factory=list)  # limits broken, or an attribute that cannot be judged
    notes: list[str] = field(default_factory=list)  # small groups, undefined rates, one-sided decisions


@dataclass
class GroupingResult:
    """One attribute, or the intersection of all: group table, disparity and bootstrap intervals."""

    name: str
    table: pd.DataFrame
    disparity: dict[str, float | str]
    intervals: dict[str, tuple[float, float]]


@dataclass
class FairnessResult:
    cutoff: float
    policy: FairnessPolicy
    groupings: dict[str, GroupingResult]
    verdict: FairnessVerdict

    def metrics(self) -> dict[str, float]:
        """Flat MLflow metrics (fairness.sex.air, fairness.sex.air_low, ...); undefined (NaN) values are left out."""
        out = {"fairness.passed": float(self.verdict.passed)}
        for name, g in self.groupings.items():
            numbers = {k: v for k, v in g.disparity.items() if not isinstance(v, str)}
            for key, (low, high) in g.intervals.items():
                numbers.update({f"{key}_low": low, f"{key}_high": high})
            out.update({f"fairness.{metric_name(name)}.{k}": float(v) for k, v in numbers.items() if not math.isnan(v)})
        return out

    def to_dict(self) -> dict:
        """JSON-safe (NaN becomes None); tables become lists of records."""
        groupings = {name: {"table": g.table.to_dict(orient="records"), "disparity": g.disparity,
                            "intervals": g.intervals} for name, g in self.groupings.items()}
        return json_safe({"cutoff": self.cutoff, "policy": asdict(self.policy), "interval_method": INTERVAL_METHOD,
                           "passed": self.verdict.passed, "reasons": self.verdict.reasons,
                           "notes": self.verdict.notes, "groupings": groupings})


def metric_name(name: str) -> str:
    """MLflow-safe: "×" becomes "_x_", any other character outside [A-Za-z0-9_-. /] becomes "_"."""
    return re.sub(r"[^A-Za-z0-9_\-. /]", "_", name.replace(JOIN, "_x_").replace("×", "_x_"))


def group_metrics(y_true, p_default, sensitive: pd.DataFrame | pd.Series, cutoff: float,
                  min_group_size: int = 30) -> pd.DataFrame:
    """One row per observed group (several columns: their intersection), sorted by attribute values.

    Columns: the attribute(s), group (values joined by " × "), n, approval_rate, default_rate (observed
    bad rate), tpr (NaN without defaulters), fpr (NaN without good payers), auc (NaN with one class), too_small.
    """
    y, p, frame = _inputs(y_true, p_default, sensitive, cutoff)
    return _table(*_encode(frame), y, p, cutoff, min_group_size, np.argsort(p, kind="stable"))


def _table(codes, keys: pd.DataFrame, y, p, cutoff: float, min_group_size: int, order) -> pd.DataFrame:
    cols = list(keys.columns)
    weight = _cell_counts(codes, y, p >= cutoff, len(keys)).ravel().astype(np.float64)
    cells = keys.loc[keys.index.repeat(4)].assign(y=np.tile([1, 0, 1, 0], len(keys)),
                                                   declined=np.tile([1, 1, 0, 0], len(keys)))
    cells, weight = cells[weight > 0].reset_index(drop=True), weight[weight > 0]
    frame = MetricFrame(metrics=_WEIGHTED, y_true=cells["y"], y_pred=cells["declined"], sensitive_features=cells[cols],
                        sample_params={k: {"sample_weight": weight} for k in _WEIGHTED})
    by_group = frame.by_group.dropna(subset=["n"]).reset_index()  # several columns: unobserved combinations are NaN
    table = keys.assign(group=[JOIN.join(v) for v in keys.itertuples(index=False)],
                        auc=_auc_by_code(codes, y, p, len(keys), order))
    table = table.merge(by_group, on=cols, how="left", validate="one_to_one").astype({"n": np.int64})
    return table.assign(too_small=table["n"] < min_group_size)[[*cols, *_TABLE]]


def _rate(hit, among, weight) -> float:
    total = float(np.sum(weight * among))
    return float(np.sum(weight * among * hit)) / total if total > 0 else math.nan


_WEIGHTED = {  # metric(y_true = default, y_pred = declined, sample_weight = cell count)
    "n": lambda y, d, sample_weight: float(np.sum(sample_weight)),
    "approval_rate": lambda y, d, sample_weight: _rate(1 - d, 1, sample_weight),
    "default_rate": lambda y, d, sample_weight: _rate(y, 1, sample_weight),
    "tpr": lambda y, d, sample_weight: _rate(d, y, sample_weight),
    "fpr": lambda y, d, sample_weight: _rate(d, 1 - y, sample_weight),
}


def _cell_counts(codes, y, declined, n_groups: int) -> np.ndarray:
    """(n_groups, 4) counts in CELLS order."""
    return np.bincount(codes * 4 + 2 * (~declined) + (1 - y), minlength=4 * n_groups).reshape(n_groups, 4)


def _auc_by_code(codes, y, p, n_groups: int, order) -> np.ndarray:
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
    max(tpr_difference, fpr_difference), each a max - min over the groups where the rate is defined.
    most_favoured / least_favoured: groups with the highest / lowest approval rate.
    """
    judged = table[~table["too_small"]].sort_values("approval_rate", kind="stable")
    gaps = _gaps(*(judged[c].to_numpy(np.float64) for c in ("approval_rate", "tpr", "fpr")))
    out: dict[str, float | str] = {k: float(v) for k, v in zip(_GAPS, gaps)}
    ends = judged.iloc[[-1, 0]] if len(judged) >= 2 else pd.DataFrame({"group": ["", ""], "approval_rate": math.nan})
    out.update(most_favoured=ends["group"].iloc[0], least_favoured=ends["group"].iloc[1],
               most_favoured_rate=float(ends["approval_rate"].iloc[0]),
               least_favoured_rate=float(ends["approval_rate"].iloc[1]),
               n_groups=float(len(table)), n_groups_judged=float(len(judged)))
    return out


def _gaps(approval, tpr, fpr) -> tuple[np.ndarray, ...]:
    """air, dp, eo, tpr gap, fpr gap over the last axis (groups): for one table or for all replicates at once."""
    if approval.shape[-1] < 2:
        return (np.full(approval.shape[:-1], np.nan),) * 5
    high, low = approval.max(axis=-1), approval.min(axis=-1)
    air = np.where(high > 0, low / np.where(high > 0, high, 1), 1.0)
    tpr_gap, fpr_gap = _nanrange(tpr), _nanrange(fpr)
    return air, high - low, np.fmax(tpr_gap, fpr_gap), tpr_gap, fpr_gap  # fmax ignores one NaN


def _nanrange(values) -> np.ndarray:
    """max - min over the last axis ignoring NaN; NaN when fewer than two values are defined."""
    missing = np.isnan(values)
    spread = np.where(missing, -np.inf, values).max(axis=-1) - np.where(missing, np.inf, values).min(axis=-1)
    return np.where((~missing).sum(axis=-1) >= 2, spread, np.nan)


def bootstrap_intervals(y_true, p_default, sensitive: pd.DataFrame | pd.Series, cutoff: float,
                        policy: FairnessPolicy, seed: int = 0) -> dict[str, tuple[float, float]]:
    """`policy.confidence` intervals of air, dp_difference, eo_difference by INTERVAL_METHOD (seeded)."""
    y, p, frame = _inputs(y_true, p_default, sensitive, cutoff)
    codes, keys = _encode(frame)
    return _intervals(_cell_counts(codes, y, p >= cutoff, len(keys)), policy, seed)


def _intervals(counts: np.ndarray, policy: FairnessPolicy, seed: int) -> dict[str, tuple[float, float]]:
    """Percentile intervals over `policy.n_boot` redraws of the judged groups' cell counts: no per-row work.

    The max - min of noisy rates is biased upward, so for a true gap near 0 the interval can sit
    above the point estimate: it shows sampling noise, it does not correct the estimate.
    """
    judged = counts[counts.sum(axis=1) >= policy.min_group_size]
    if len(judged) < 2:
        return {k: (math.nan, math.nan) for k in _GAPS[:3]}
    size = judged.sum(axis=1)
    c = np.random.default_rng(seed).multinomial(size, judged / size[:, None], size=(policy.n_boot, len(judged)))
    with np.errstate(invalid="ignore", divide="ignore"):
        gaps = _gaps((c[..., 2] + c[..., 3]) / size, c[..., 0] / (c[..., 0] + c[..., 2]),
                     c[..., 1] / (c[..., 1] + c[..., 3]))
    tails = [(1 - policy.confidence) / 2, (1 + policy.confidence) / 2]
    out = {}
    for name, values in zip(_GAPS[:3], gaps):
        values = values[~np.isnan(values)]
        out[name] = tuple(float(q) for q in np.quantile(values, tails)) if values.size else (math.nan, math.nan)
    return out


def proxy_candidates(features: pd.DataFrame, sensitive: pd.DataFrame, numeric: list[str], categorical: list[str],
                     threshold: float = 0.65, max_rows: int = 50_000, seed: int = 0) -> pd.DataFrame:
    """How well each feature alone predicts each sensitive attribute: feature, attribute, auc, proxy; auc desc.

    auc: per attribute level, max(a, 1 - a) of the one-vs-rest AUC, averaged over levels (for a binary
    attribute: its AUC). Folding per level lets a numeric feature that is low for one level and high for
    another count. Numeric features score by value (missing lowest). Categorical ones score by the
    level's share in their category learnt on the OTHER half of a seeded two-fold split (one pseudo-count
    at the overall share), so an ID-like category cannot look predictive by memorising.
    """
    if len(features) != len(sensitive):
        raise ValueError(f"features has {len(features)} rows, sensitive has {len(sensitive)}")
    rng = np.random.default_rng(seed)
    rows = np.sort(rng.choice(len(features), max_rows, replace=False)) if len(features) > max_rows else slice(None)
    feats, sens = features.iloc[rows], _frame(sensitive).iloc[rows]
    fold, records = rng.permutation(len(feats)) % 2, []
    for attribute in sens.columns:
        codes, _ = _factorize(sens[attribute])
        targets = [(codes == k).astype(np.int64) for k in np.unique(codes)]  # one vs rest, per level
        for feature in [*numeric, *categorical]:
            aucs = [_auc(t, _scores(feats[feature], feature in numeric, t, fold)) for t in targets]
            auc = float(np.mean([max(a, 1 - a) for a in aucs])) if len(targets) > 1 else math.nan  # one level: NaN
            records.append({"feature": feature, "attribute": attribute, "auc": auc})
    table = pd.DataFrame(records, columns=["feature", "attribute", "auc"])
    table["proxy"] = table["auc"] >= threshold
    return table.sort_values("auc", ascending=False, kind="stable").reset_index(drop=True)


def _scores(values: pd.Series, numeric: bool, target: np.ndarray, fold: np.ndarray) -> np.ndarray:
    """Numeric: the value (missing lowest). Categorical: the target's share in the category, out of fold."""
    if numeric:
        try:
            x = values.to_numpy(dtype=np.float64, na_value=np.nan)
        except (TypeError, ValueError):
            raise ValueError(f"feature '{values.name}' must be numeric") from None
        return np.where(np.isnan(x), -np.inf, x)
    codes, levels = _factorize(values)
    out = np.empty(target.size)
    for k in (0, 1):
        learn, apply = fold != k, fold == k
        hits = np.bincount(codes[learn], target[learn], len(levels))
        seen = np.bincount(codes[learn], minlength=len(levels))
        out[apply] = ((hits + target[learn].mean()) / (seen + 1))[codes[apply]]  # unseen category: overall share
    return out


def _auc(target: np.ndarray, score: np.ndarray) -> float:
    return float(_auc_by_code(np.zeros(target.size, np.int64), target, score, 1, np.argsort(score, kind="stable"))[0])


def fairness_gate(y_true, p_default, sensitive: pd.DataFrame, cutoff: float, policy: FairnessPolicy,
                  seed: int = 0) -> FairnessResult:
    """Judge each attribute alone and, with `policy.intersections` and several attributes, their intersection.

    Fails on a POINT estimate beyond a limit (intervals are shown, not judged). Fails closed when an
    attribute has fewer than two groups of `min_group_size`: fairness cannot be shown. An intersection
    in that state is only noted, since intersections of a small portfolio are routinely too small.
    """
    y, p, frame = _inputs(y_true, p_default, sensitive, cutoff)
    factors = {c: _factorize(frame[c]) for c in frame.columns}
    names = {c: [c] for c in frame.columns}
    if policy.intersections and len(frame.columns) > 1:
        names[JOIN.join(frame.columns)] = list(frame.columns)
    order, declined = np.argsort(p, kind="stable"), p >= cutoff
    verdict, groupings = FairnessVerdict(passed=True), {}
    if not declined.any() or declined.all():
        verdict.notes.append(f"every applicant is {'declined' if declined.all() else 'approved'} at cutoff "
                             f"{cutoff:g}: approval rates are all {int(not declined[0])}")
    for name, cols in names.items():
        codes, keys = _encode(frame[cols], factors)
        table = _table(codes, keys, y, p, cutoff, policy.min_group_size, order)
        intervals = _intervals(_cell_counts(codes, y, declined, len(keys)), policy, seed)
        groupings[name] = GroupingResult(name, table, disparity(table), intervals)
        _judge(groupings[name], policy, verdict, attribute=len(cols) == 1)
    verdict.passed = not verdict.reasons
    return FairnessResult(cutoff, policy, groupings, verdict)


def _judge(g: GroupingResult, policy: FairnessPolicy, verdict: FairnessVerdict, attribute: bool) -> None:
    """Add the grouping's notes (small groups, undefined rates) and reasons (limits broken) to the verdict."""
    d, small, judged = g.disparity, g.table[g.table["too_small"]], g.table[~g.table["too_small"]]
    if len(small):
        listed = ", ".join(f"{r.group} (n={r.n})" for r in small.head(10).itertuples())
        verdict.notes.append(f"{g.name}: {len(small)} group(s) under {policy.min_group_size} applicants reported "
                             f"but not judged: {listed}{' ...' if len(small) > 10 else ''}")
    for rate, what in (("tpr", "no defaulters: TPR"), ("fpr", "no good payers: FPR")):
        if judged[rate].isna().any():
            verdict.notes.append(f"{g.name}: {what} undefined in {', '.join(judged.loc[judged[rate].isna(), 'group'])}"
                                 ", left out of the equalized-odds difference")
    if len(judged) < 2:
        (verdict.reasons if attribute else verdict.notes).append(
            f"{g.name}: no two groups of at least {policy.min_group_size} applicants ({len(judged)} large enough): "
            "cannot judge")
        return
    if math.isnan(d["eo_difference"]):
        verdict.notes.append(f"{g.name}: equalized-odds difference undefined (TPR and FPR each defined in "
                             "fewer than two judged groups)")
    pair = f"{d['least_favoured']} {d['least_favoured_rate']:.3f} vs {d['most_favoured']} {d['most_favoured_rate']:.3f}"
    odds = f"TPR gap {_fmt(d['tpr_difference'])}, FPR gap {_fmt(d['fpr_difference'])}"
    tol = 1e-12  # 0.9 - 0.6 is 0.30000000000000004: a value at the limit passes
    for key, label, broken, limit, detail in (
            ("air", "adverse impact ratio {} below", d["air"] < policy.min_air - tol, policy.min_air, pair),
            ("dp_difference", "approval-rate difference {} above", d["dp_difference"] > policy.max_dp_difference + tol,
             policy.max_dp_difference, pair),
            ("eo_difference", "equalized-odds difference {} above", d["eo_difference"] > policy.max_eo_difference + tol,
             policy.max_eo_difference, odds)):
        if broken:
            low, high = g.intervals[key]
            verdict.reasons.append(f"{g.name}: {label.format(_fmt(d[key]))} {limit:.2f} ({detail}; "
                                   f"{policy.confidence:.0%} interval {_fmt(low)}-{_fmt(high)})")


def _fmt(value: float) -> str:
    return "undefined" if math.isnan(value) else f"{value:.3f}"


def _inputs(y_true, p_default, sensitive, cutoff: float) -> tuple[np.ndarray, np.ndarray, pd.DataFrame]:
    """y as int64 0/1, p as finite float64, sensitive as a frame of named columns; equal lengths."""
    y, p = np.asarray(y_true).ravel(), np.asarray(p_default, dtype=np.float64).ravel()
    if not (len(y) == len(p) == len(sensitive)) or len(y) == 0:
        raise ValueError(f"need equal, non-zero lengths: y_true {len(y)}, p_default {len(p)}, sensitive {len(sensitive)}")
    for ok, problem in ((np.isin(y, (0, 1)).all(), "y_true must be 0/1 (1 = default)"),
                        (np.isfinite(p).all(), "p_default has missing or infinite values"),
                        (0 < cutoff <= 1, f"cutoff must be in (0, 1], got {cutoff}")):
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


def _factorize(values: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Code per row and sorted text level per code; values equal as text are one level, missing is "missing"."""
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    levels, remap = np.unique(np.array([str(u) for u in uniques] + [MISSING], dtype=object), return_inverse=True)
    return remap[codes], levels  # code -1 (missing) picks remap's last entry: "missing"


def _encode(frame: pd.DataFrame, factors: dict | None = None) -> tuple[np.ndarray, pd.DataFrame]:
    """Group code per row for the intersection of the frame's columns, and the observed groups' keys, sorted.

    `factors` may hold `_factorize` results already computed per column (the gate reuses them).
    """
    cols = list(frame.columns)
    factors = [factors[c] if factors and c in factors else _factorize(frame[c]) for c in cols]
    dims = tuple(len(levels) for _, levels in factors)
    observed, codes = np.unique(np.ravel_multi_index(tuple(c for c, _ in factors), dims), return_inverse=True)
    parts = np.unravel_index(observed, dims)
    keys = pd.DataFrame({c: levels[part].astype(str) for c, (_, levels), part in zip(cols, factors, parts)})
    return codes.astype(np.int64), keys


def json_safe(value):
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    value = value.item() if isinstance(value, np.generic) else value
    return None if isinstance(value, float) and math.isnan(value) else value
