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

import numpy as np
import pandas as pd

from features.monitoring_spec import CREDIT_PSI, MonitoringSpec, QualityLimits
from pipelines.gates.stability import fit_bins, psi, stability_status

SCORE = "probability_of_default"
DRIFT_COLUMNS = ["column", "kind", "method", "value", "warn", "alert", "status"]


@dataclass(frozen=True)
class Columns:
    """The model's input columns by kind, as the spec declares them."""

    numeric: list[str]
    categorical: list[str]

    def kinds(self) -> dict[str, str]:
        return {**{c: "numeric" for c in self.numeric}, **{c: "categorical" for c in self.categorical}}


def column_drift(
    reference: pd.DataFrame, current: pd.DataFrame, columns: Columns, settings: MonitoringSpec
) -> pd.DataFrame:
    """One row per input column: method, drift value, its warn/alert levels and status (ok/warn/alert)."""
    rows = []
    for column, kind in columns.kinds().items():
        method = settings.drift.method_for(column, kind)
        if method == CREDIT_PSI:
            levels = settings.psi
            value = psi(fit_bins(reference[column], kind, levels.bins), current[column])
            rows.append(
                [
                    column,
                    kind,
                    method,
                    value,
                    levels.warn,
                    levels.alert,
                    stability_status(value, levels.warn, levels.alert),
                ]
            )
        else:
            value, drifted, threshold = evidently_test(
                reference[column], current[column], kind, method, settings.drift.thresholds.get(method)
            )
            rows.append([column, kind, method, value, math.nan, threshold, "alert" if drifted else "ok"])
    return pd.DataFrame(rows, columns=DRIFT_COLUMNS)


def evidently_test(
    reference: pd.Series, current: pd.Series, kind: str, method: str, threshold: float | None
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


def score_drift(
    reference_scores: np.ndarray, current_scores: np.ndarray, settings: MonitoringSpec
) -> dict[str, object]:
    """PSI of the probability of default on reference deciles, with its status."""
    levels = settings.score
    bins = fit_bins(pd.Series(reference_scores, name=SCORE), "numeric", levels.bins)
    value = psi(bins, pd.Series(current_scores, name=SCORE))
    return {
        "column": SCORE,
        "kind": "score",
        "method": CREDIT_PSI,
        "value": value,
        "warn": levels.warn,
        "alert": levels.alert,
        "status": stability_status(value, levels.warn, levels.alert),
    }


def drift_share(table: pd.DataFrame) -> float:
    """Share of input columns whose drift reached alert (Evidently's "share of drifted columns")."""
    return float((table["status"] == "alert").mean()) if len(table) else 0.0


def quality_table(reference: pd.DataFrame, current: pd.DataFrame, columns: Columns) -> pd.DataFrame:
    """Per input column: missing share in each sample, share of new categories, share outside the reference range."""
    rows = []
    for column, kind in columns.kinds().items():
        ref, cur = reference[column], current[column]
        row = {
            "column": column,
            "kind": kind,
            "missing_reference": float(ref.isna().mean()),
            "missing_current": float(cur.isna().mean()),
            "new_category_share": 0.0,
            "out_of_range_share": 0.0,
        }
        present = cur.dropna()
        if len(present) and kind == "categorical":
            known = set(ref.dropna().astype(str).unique())
            row["new_category_share"] = float((~present.astype(str).isin(known)).sum() / len(cur))
        elif len(present):
            low, high = (
                np.nanmin(ref.to_numpy(np.float64, na_value=np.nan)),
                np.nanmax(ref.to_numpy(np.float64, na_value=np.nan)),
            )
            values = present.to_numpy(np.float64)
            row["out_of_range_share"] = float(np.count_nonzero((values < low) | (values > high)) / len(cur))
        rows.append(row)
    return pd.DataFrame(rows)


def quality_warnings(table: pd.DataFrame, settings: MonitoringSpec) -> list[str]:
    """Data-quality limits broken, one line each."""
    return [line for row in table.itertuples() for line in row_quality_warnings(row, settings.quality)]


def row_quality_warnings(row, limits: QualityLimits) -> list[str]:
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
