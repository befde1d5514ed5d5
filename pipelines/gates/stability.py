"""Population stability and the stability gate: how far a sample moved from a reference.

Population Stability Index (PSI; per characteristic it is also called CSI), the credit-industry
definition, not Evidently's equal-width one: bins are fixed on the REFERENCE
(deciles for numbers, levels for categories, missing values in a bin of their own) and kept as
`Bins`, so every later monitoring window is scored against the same bins.

    PSI = sum over bins of (A - E) * ln(A / E)

E is the reference (expected) share of a bin and A the current (actual) share; a share of 0 is
replaced by `epsilon` first, so an empty bin gives a large but finite term. Usual reading:
< 0.10 stable, 0.10-0.25 some shift, >= 0.25 major shift. Pure, vectorised numpy/pandas.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from features.spec import StabilityPolicy

KINDS = ("numeric", "categorical")
EPSILON = 1e-4  # stands in for a share of 0 before the log
OTHER, MISSING = "other", "missing"


@dataclass(frozen=True)
class Bins:
    """Bins fixed on a reference sample and the reference share of each, in bin order.

    numeric: (-inf, e0], (e0, e1], ..., (e_last, inf), then missing (len(edges) + 2 shares).
    categorical: each reference category (sorted), then "other" (unseen), then missing.
    """

    kind: str
    edges: list[float] | None
    categories: list[str] | None
    expected: list[float]

    def __post_init__(self) -> None:
        _check_kind(self.kind)
        levels = self.edges if self.kind == "numeric" else self.categories
        if levels is None:
            raise ValueError(f"{self.kind} bins need {'edges' if self.kind == 'numeric' else 'categories'}")
        if len(self.expected) != len(levels) + 2:
            raise ValueError(f"{self.kind} bins need {len(levels) + 2} expected shares, got {len(self.expected)}")

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-safe dict (floats round-trip exactly through JSON)."""
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Bins:
        """Inverse of `to_dict`."""
        edges, categories = d.get("edges"), d.get("categories")
        return cls(
            kind=d["kind"],
            edges=None if edges is None else [float(e) for e in edges],
            categories=None if categories is None else [str(c) for c in categories],
            expected=[float(s) for s in d["expected"]],
        )


def fit_bins(reference: pd.Series, kind: str, *, n_bins: int = 10) -> Bins:
    """Fix bins on the reference: `n_bins` quantile bins (deciles) for numbers, one per level for categories."""
    _check_kind(kind)
    _check_nonempty(reference, "reference")
    if kind == "categorical":
        levels, missing = _level_counts(reference)
        categories = sorted(levels.index[levels > 0])
        return Bins(kind, None, categories, _shares(_categorical_counts(levels, missing, categories)).tolist())
    if n_bins < 1:
        raise ValueError(f"n_bins must be at least 1, got {n_bins}")
    values = _numeric_values(reference)
    edges = _quantile_edges(values, n_bins)
    return Bins(kind, edges, None, _shares(_numeric_counts(values, edges)).tolist())


def psi(bins: Bins, current: pd.Series, *, epsilon: float = EPSILON) -> float:
    """PSI of `current` against the reference the bins were fitted on."""
    _check_nonempty(current, "current")
    return psi_from_counts(bins, bin_counts(bins, current), epsilon=epsilon)


def bin_counts(bins: Bins, current: pd.Series) -> np.ndarray:
    """How many values of `current` fall in each of the bins (in bin order, missing last): what an engine that
    cannot hold the data (Spark) counts itself, and hands to `psi_from_counts`."""
    if bins.kind == "numeric":
        return _numeric_counts(_numeric_values(current), _edges(bins))
    return _categorical_counts(*_level_counts(current), _categories(bins))


def psi_from_counts(bins: Bins, counts: npt.ArrayLike, *, epsilon: float = EPSILON) -> float:
    """PSI of a sample given as its counts per bin (`bin_counts` order)."""
    _, terms = _terms(bins, np.asarray(counts, dtype=np.int64), epsilon)
    return float(terms.sum())


def bin_table(bins: Bins, current: pd.Series, *, epsilon: float = EPSILON) -> pd.DataFrame:
    """Per-bin view: label, expected and actual shares (raw, before epsilon) and PSI contribution."""
    actual, terms = _contributions(bins, current, epsilon)
    return pd.DataFrame({"bin": _labels(bins), "expected": bins.expected, "actual": actual, "contribution": terms})


def population_stability(
    reference: pd.DataFrame,
    current: pd.DataFrame,
    *,
    numeric: list[str],
    categorical: list[str],
    n_bins: int = 10,
    epsilon: float = EPSILON,
) -> pd.DataFrame:
    """PSI of every listed column (CSI per characteristic): columns column, kind, psi; largest psi first."""
    rows = []
    for kind, columns in (("numeric", numeric), ("categorical", categorical)):
        for column in columns:
            for frame, role in ((reference, "reference"), (current, "current")):
                if column not in frame.columns:
                    raise ValueError(f"column '{column}' is not in the {role} frame")
            bins = fit_bins(reference[column], kind, n_bins=n_bins)
            rows.append({"column": column, "kind": kind, "psi": psi(bins, current[column], epsilon=epsilon)})
    table = pd.DataFrame(rows, columns=["column", "kind", "psi"])
    return table.sort_values("psi", ascending=False, kind="stable").reset_index(drop=True)


def stability_status(value: float, *, warn: float = 0.10, alert: float = 0.25) -> str:
    """Traffic light for a PSI: "ok" below `warn`, "warn" from `warn`, "alert" from `alert` (boundaries go up)."""
    if math.isnan(value):
        raise ValueError("stability value is NaN")
    if not 0 <= warn <= alert:
        raise ValueError(f"need 0 <= warn <= alert, got warn={warn}, alert={alert}")
    return "alert" if value >= alert else "warn" if value >= warn else "ok"


def _contributions(bins: Bins, current: pd.Series, epsilon: float) -> tuple[np.ndarray, np.ndarray]:
    """Actual shares per bin and each bin's (A - E) * ln(A / E), zeros replaced by epsilon."""
    _check_nonempty(current, "current")
    return _terms(bins, bin_counts(bins, current), epsilon)


def _terms(bins: Bins, counts: np.ndarray, epsilon: float) -> tuple[np.ndarray, np.ndarray]:
    if not epsilon > 0:
        raise ValueError(f"epsilon must be positive, got {epsilon}")
    if len(counts) != len(bins.expected) or counts.sum() == 0:
        raise ValueError(f"need {len(bins.expected)} bin counts with at least one value, got {counts.tolist()}")
    actual = _shares(counts)
    a = np.where(actual == 0, epsilon, actual)
    e = np.asarray(bins.expected, dtype=np.float64)
    e = np.where(e == 0, epsilon, e)
    return actual, (a - e) * np.log(a / e)


def _quantile_edges(values: np.ndarray, n_bins: int) -> list[float]:
    """Interior edges: reference quantiles k/n_bins (inverted CDF, so each edge is a data value), ties collapsed.

    With right-closed bins this puts exactly ceil(k n / n_bins) values at or below edge k (no
    interpolation, no float rounding of k / n_bins). An edge at the reference maximum is dropped:
    it would leave the top bin empty in the reference. A full sort is faster than np.partition here.
    """
    ordered = np.sort(values[~np.isnan(values)])
    n = ordered.size
    if n == 0:
        return []
    ranks = (np.arange(1, n_bins, dtype=np.int64) * n + n_bins - 1) // n_bins - 1  # ceil(k n / n_bins) - 1
    return [float(e) for e in np.unique(ordered[ranks]) if e < ordered[-1]]


def _numeric_counts(values: np.ndarray, edges: list[float]) -> np.ndarray:
    """Counts per bin (-inf, e0], ..., (e_last, inf), missing.

    One vectorised pass per edge counting values <= edge: for ~10 edges several times faster than
    a binary search per value (np.searchsorted), and NaN never compares true.
    """
    at_or_below = [np.count_nonzero(values <= edge) for edge in edges]
    present = values.size - int(np.count_nonzero(np.isnan(values)))
    return np.diff(np.array([0, *at_or_below, present, values.size], dtype=np.int64))


def _level_counts(values: pd.Series) -> tuple[pd.Series, int]:
    """Count per non-missing level (as text, so 1 and "1" are one level) and the number of missing values."""
    counts = values.value_counts(dropna=False, sort=False)  # count first: converts levels, not rows, to text
    missing = np.asarray(pd.isna(counts.index), dtype=bool)
    present = counts[~missing]
    by_text = present.groupby([str(level) for level in present.index]).sum()
    return by_text.astype(np.int64), int(counts[missing].sum())


def _categorical_counts(levels: pd.Series, missing: int, categories: list[str]) -> np.ndarray:
    """Counts per bin: each category, then other (levels not in `categories`), then missing."""
    seen = levels.reindex(categories, fill_value=0).to_numpy(dtype=np.int64)
    return np.concatenate([seen, [int(levels.sum()) - int(seen.sum()), missing]])


def _numeric_values(values: pd.Series) -> npt.NDArray[np.float64]:
    try:
        numbers: npt.NDArray[np.float64] = values.to_numpy(dtype=np.float64, na_value=np.nan)
        return numbers
    except (TypeError, ValueError):
        raise ValueError(f"column '{values.name}' must be numeric for numeric bins") from None


def _shares(counts: npt.NDArray[np.int64]) -> npt.NDArray[np.float64]:
    shares: npt.NDArray[np.float64] = counts / counts.sum()
    return shares


def _labels(bins: Bins) -> list[str]:
    if bins.kind == "categorical":
        return [*_categories(bins), OTHER, MISSING]
    bounds = ["-inf", *(f"{e:.10g}" for e in _edges(bins)), "inf"]
    labels = [f"({low}, {high}]" for low, high in zip(bounds, bounds[1:])]
    labels[-1] = labels[-1][:-1] + ")"
    return labels + [MISSING]


def _edges(bins: Bins) -> list[float]:
    """Numeric bins' edges. `Bins.__post_init__` guarantees them; this narrows the Optional for callers."""
    if bins.edges is None:
        raise ValueError("numeric bins need edges")
    return bins.edges


def _categories(bins: Bins) -> list[str]:
    """Categorical bins' categories. `Bins.__post_init__` guarantees them; this narrows the Optional for callers."""
    if bins.categories is None:
        raise ValueError("categorical bins need categories")
    return bins.categories


def _check_kind(kind: str) -> None:
    if kind not in KINDS:
        raise ValueError(f"unknown kind '{kind}': use 'numeric' or 'categorical'")


def _check_nonempty(values: pd.Series, role: str) -> None:
    if len(values) == 0:
        raise ValueError(f"{role} sample for column '{values.name}' is empty")


# The stability gate: does the population the model will meet still look like its training data?
# Score PSI and per-characteristic PSI (reference-decile bins) of each holdout sample against the training
# sample. Any value at or above the spec's alert level fails `validation.stability`; values at or above the
# warn level are listed for the reviewer.


@dataclass
class StabilityResult:
    passed: bool
    reasons: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    metrics: dict[str, float] = field(default_factory=dict)
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)


def stability_gate(
    reference: pd.DataFrame,
    reference_scores: np.ndarray,
    holdouts: dict[str, tuple[pd.DataFrame, np.ndarray]],
    *,
    numeric: list[str],
    categorical: list[str],
    policy: StabilityPolicy,
) -> StabilityResult:
    """Compare each holdout (features, scores) with the reference (training) sample."""
    result = StabilityResult(passed=True)
    score_bins = fit_bins(pd.Series(reference_scores, name="score"), "numeric", n_bins=policy.bins)
    for sample, (features, scores) in holdouts.items():
        table = population_stability(reference, features, numeric=numeric, categorical=categorical, n_bins=policy.bins)
        table.insert(0, "characteristic", table.pop("column"))
        score_psi = psi(score_bins, pd.Series(scores, name="score"))
        table = pd.concat(
            [pd.DataFrame({"characteristic": ["(score)"], "kind": ["score"], "psi": [score_psi]}), table],
            ignore_index=True,
        )
        table["status"] = [stability_status(v, warn=policy.warn, alert=policy.alert) for v in table["psi"]]
        result.tables[f"stability_{sample}"] = table
        result.metrics[f"{sample}_score_psi"] = score_psi
        result.metrics[f"{sample}_max_csi"] = float(table["psi"].iloc[1:].max()) if len(table) > 1 else 0.0
        for row in table.itertuples():
            what = "score PSI" if row.kind == "score" else f"CSI of {row.characteristic}"
            if row.status == "alert":
                result.passed = False
                result.reasons.append(f"{sample}: {what} {row.psi:.3f} at or above alert {policy.alert:.2f}")
            elif row.status == "warn":
                result.warnings.append(f"{sample}: {what} {row.psi:.3f} at or above warn {policy.warn:.2f}")
    return result
