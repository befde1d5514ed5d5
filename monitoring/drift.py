"""Drift of a model's inputs and score between the reference (training sample) and a window: pure functions.

Every verdict is computed here on ALL rows: credit decile PSI in vectorised numpy
(`monitoring/stability.py`) for `credit_psi` columns, Evidently's own stat test function for a
column whose spec names another method (the function Evidently's `ValueDrift` calls, without the
report around it). The Evidently HTML report (`monitoring/evidently_report.py`) only draws these
tests on a sample; recomputing them inside `DataDriftPreset` is what makes the preset slow.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from features.monitoring_spec import CREDIT_PSI, MonitoringSpec, QualityLimits
from pipelines.gates.stability import Bins, bin_counts, fit_bins, psi_from_counts, stability_status

SCORE = "probability_of_default"
DRIFT_COLUMNS = ["column", "kind", "method", "value", "warn", "alert", "status"]


@dataclass(frozen=True)
class Columns:
    """The model's input columns by kind, as the spec declares them."""

    numeric: list[str]
    categorical: list[str]

    def kinds(self) -> dict[str, str]:
        return {**{c: "numeric" for c in self.numeric}, **{c: "categorical" for c in self.categorical}}


@dataclass
class WindowCounts:
    """A window reduced to counts on the reference's bins: all the drift and quality verdicts need, whichever
    engine counted it (pandas here, Spark in monitoring/spark.py)."""

    rows: int
    bins: dict[str, Bins]  # input column -> bins fixed on the reference
    counts: dict[str, np.ndarray]  # input column -> window rows per bin (missing last; categorical: other before it)
    out_of_range: dict[str, int]  # numeric column -> window values below the reference minimum or above its maximum
    score_bins: Bins
    score_counts: np.ndarray


def reference_bins(reference: pd.DataFrame, columns: Columns, settings: MonitoringSpec) -> dict[str, Bins]:
    return {
        column: fit_bins(reference[column], kind, n_bins=settings.psi.bins) for column, kind in columns.kinds().items()
    }


def reference_range(reference: pd.Series) -> tuple[float, float]:
    values = reference.to_numpy(np.float64, na_value=np.nan)
    return float(np.nanmin(values)), float(np.nanmax(values))


def window_counts(
    reference: pd.DataFrame,
    current: pd.DataFrame,
    columns: Columns,
    settings: MonitoringSpec,
    reference_scores: np.ndarray,
    scores: np.ndarray,
) -> WindowCounts:
    """The in-process engine's counts of a window held in memory."""
    bins = reference_bins(reference, columns, settings)
    out_of_range = {}
    for column in columns.numeric:
        low, high = reference_range(reference[column])
        values = current[column].to_numpy(np.float64, na_value=np.nan)
        out_of_range[column] = int(np.count_nonzero((values < low) | (values > high)))
    score_bins = fit_bins(pd.Series(reference_scores, name=SCORE), "numeric", n_bins=settings.score.bins)
    return WindowCounts(
        len(current),
        bins,
        {column: bin_counts(b, current[column]) for column, b in bins.items()},
        out_of_range,
        score_bins,
        bin_counts(score_bins, pd.Series(scores, name=SCORE)),
    )


def column_drift(
    reference: pd.DataFrame, current: pd.DataFrame, columns: Columns, settings: MonitoringSpec, counts: WindowCounts
) -> pd.DataFrame:
    """One row per input column: method, drift value, its warn/alert levels and status (ok/warn/alert).

    `credit_psi` columns are judged on the window's counts; another method (an Evidently stat test) on the
    rows of `current` (the whole window in process, a sample of it on Spark)."""
    rows = []
    for column, kind in columns.kinds().items():
        method = settings.drift.method_for(column, kind)
        if method == CREDIT_PSI:
            levels = settings.psi
            value = psi_from_counts(counts.bins[column], counts.counts[column])
            status = stability_status(value, warn=levels.warn, alert=levels.alert)
            rows.append([column, kind, method, value, levels.warn, levels.alert, status])
        else:
            value, drifted, threshold = evidently_test(
                reference[column],
                current[column],
                kind=kind,
                method=method,
                threshold=settings.drift.thresholds.get(method),
            )
            rows.append([column, kind, method, value, math.nan, threshold, "alert" if drifted else "ok"])
    return pd.DataFrame(rows, columns=DRIFT_COLUMNS)


def evidently_test(
    reference: pd.Series, current: pd.Series, *, kind: str, method: str, threshold: float | None
) -> tuple[float, bool, float]:
    """Evidently's stat test `method` as `ValueDrift` applies it (missing values dropped): score, drifted, threshold."""
    from evidently.legacy.calculations.stattests.registry import get_stattest
    from evidently.legacy.core import ColumnType

    column_type = ColumnType.Numerical if kind == "numeric" else ColumnType.Categorical
    ref, cur = reference.dropna(), current.dropna()
    if kind == "categorical":
        ref, cur = ref.astype(str), cur.astype(str)
    result = get_stattest(ref, cur, column_type, method)(ref, cur, column_type, threshold)
    return float(result.drift_score), bool(result.drifted), float(result.actual_threshold)


def score_drift(counts: WindowCounts, settings: MonitoringSpec) -> dict[str, object]:
    """PSI of the probability of default on reference deciles, with its status."""
    levels = settings.score
    value = psi_from_counts(counts.score_bins, counts.score_counts)
    return {
        "column": SCORE,
        "kind": "score",
        "method": CREDIT_PSI,
        "value": value,
        "warn": levels.warn,
        "alert": levels.alert,
        "status": stability_status(value, warn=levels.warn, alert=levels.alert),
    }


def drift_share(table: pd.DataFrame) -> float:
    """Share of input columns whose drift reached alert (Evidently's "share of drifted columns")."""
    return float((table["status"] == "alert").mean()) if len(table) else 0.0


def quality_table(reference: pd.DataFrame, counts: WindowCounts, columns: Columns) -> pd.DataFrame:
    """Per input column: missing share in each sample, share of new categories, share outside the reference range
    (shares of all window rows)."""
    rows = []
    for column, kind in columns.kinds().items():
        window = counts.counts[column]
        rows.append(
            {
                "column": column,
                "kind": kind,
                "missing_reference": float(reference[column].isna().mean()),
                "missing_current": float(window[-1] / counts.rows),
                "new_category_share": float(window[-2] / counts.rows) if kind == "categorical" else 0.0,
                "out_of_range_share": float(counts.out_of_range[column] / counts.rows) if kind == "numeric" else 0.0,
            }
        )
    return pd.DataFrame(rows)


def quality_warnings(table: pd.DataFrame, settings: MonitoringSpec) -> list[str]:
    """Data-quality limits broken, one line each."""
    return [line for row in table.itertuples() for line in row_quality_warnings(row, settings.quality)]


def row_quality_warnings(row: Any, limits: QualityLimits) -> list[str]:  # a `quality_table` row (itertuples)
    """The limits one column's quality row (a `quality_table` row) breaks, one line each."""
    out = []
    rise = row.missing_current - row.missing_reference
    if rise > limits.max_missing_increase:
        out.append(f"{row.column}: missing share {row.missing_current:.1%} (reference {row.missing_reference:.1%})")
    if row.new_category_share > limits.max_new_category_share:
        out.append(f"{row.column}: {row.new_category_share:.1%} of values are categories unseen in the reference")
    if row.out_of_range_share > limits.max_out_of_range_share:
        out.append(f"{row.column}: {row.out_of_range_share:.1%} of values outside the reference range")
    return out
