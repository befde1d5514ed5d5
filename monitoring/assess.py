"""One monitoring window judged: input drift, score drift, data quality, outcomes; status ok / warn / alert. Pure."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from features.contract import derive_attribute
from features.errors import DataError
from features.spec import Spec
from features.target import DROPPED, is_mapping, outcome_codes
from monitoring.drift import (
    Columns,
    WindowCounts,
    column_drift,
    drift_share,
    quality_table,
    quality_warnings,
    score_drift,
    window_counts,
)
from monitoring.outcomes import (
    OutcomeResult,
    band_findings,
    band_table,
    fairness_metrics,
    outcome_fairness,
    outcome_metrics,
)

LEVELS = {"ok": 0, "warn": 1, "alert": 2}


@dataclass
class Assessment:
    window: str
    status: str
    reasons: list[str]  # "alert: ..." / "warn: ...", worst first
    metrics: dict[str, float]
    drift: pd.DataFrame  # input columns, then the score row
    quality: pd.DataFrame
    outcome: OutcomeResult | None = None
    notes: list[str] = field(default_factory=list)
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)  # further count tables to log, by artifact path

    def summary(self) -> dict:
        return {
            "window": self.window,
            "status": self.status,
            "reasons": self.reasons,
            "notes": self.notes,
            "metrics": self.metrics,
            "drift": self.drift.to_dict(orient="records"),
            "quality": self.quality.to_dict(orient="records"),
        }


def assess(
    spec: Spec,
    reference: pd.DataFrame,
    current: pd.DataFrame,
    reference_scores: np.ndarray,
    scores: np.ndarray,
    expected: dict,
    window: str,
) -> Assessment:
    """Judge `current` against `reference` (both raw frames with the model's columns) and their scores."""
    columns = Columns(spec.features.numeric, spec.features.categorical)
    counts = window_counts(reference, current, columns, spec.monitoring, reference_scores, scores)
    return assess_counts(spec, reference, reference_scores, counts, current, scores, expected, window)


def assess_counts(
    spec: Spec,
    reference: pd.DataFrame,
    reference_scores: np.ndarray,
    counts: WindowCounts,
    rows: pd.DataFrame,
    scores: np.ndarray,
    expected: dict,
    window: str,
    *,
    outcomes: bool = True,
) -> Assessment:
    """The verdict of a window given as its counts (`WindowCounts`, from either engine) and some of its `rows`
    with their `scores` (all of them in process; a sample on Spark, for Evidently stat tests and outcomes off)."""
    settings, columns = spec.monitoring, Columns(spec.features.numeric, spec.features.categorical)
    drift = column_drift(reference, rows, columns, settings, counts)
    score = score_drift(counts, settings)
    quality = quality_table(reference, counts, columns)
    findings = [(row.status, _drift_reason(row)) for row in drift.itertuples() if row.status != "ok"]
    if score["status"] != "ok":
        level = score["alert"] if score["status"] == "alert" else score["warn"]
        findings.append((score["status"], f"score PSI {score['value']:.3f} at or above {score['status']} {level:.2f}"))
    findings += [("warn", f"data quality: {w}") for w in quality_warnings(quality, settings)]
    metrics = _drift_metrics(drift, score, quality, counts.rows)
    outcome = _outcomes(spec, reference, rows, reference_scores, scores, expected) if outcomes else None
    notes = []
    if outcome is not None:
        findings += outcome.findings
        metrics.update(outcome.metrics)
        notes += outcome.notes
    findings.sort(key=lambda f: -LEVELS[f[0]])
    status = findings[0][0] if findings else "ok"
    metrics["status_level"] = float(LEVELS[status])
    table = pd.concat([drift, pd.DataFrame([score])], ignore_index=True)
    return Assessment(
        window, status, [f"{level}: {text}" for level, text in findings], metrics, table, quality, outcome, notes
    )


def _drift_reason(row: Any) -> str:  # a row of `drift` (itertuples)
    if row.method == "credit_psi":
        level = row.alert if row.status == "alert" else row.warn
        return f"PSI of {row.column} {row.value:.3f} at or above {row.status} {level:.2f}"
    return f"{row.method} drift in {row.column}: score {row.value:.4g} (threshold {row.alert:.4g})"


def _drift_metrics(drift: pd.DataFrame, score: dict, quality: pd.DataFrame, rows: int) -> dict[str, float]:
    metrics = {
        "rows": float(rows),
        "score_psi": float(score["value"]),
        "drift_share": drift_share(drift),
        "drifted_columns": float((drift["status"] == "alert").sum()),
        "max_psi": float(drift.loc[drift["method"] == "credit_psi", "value"].max())
        if (drift["method"] == "credit_psi").any()
        else 0.0,
    }
    metrics.update({f"drift.{r.column}": float(r.value) for r in drift.itertuples()})
    for r in quality.itertuples():
        metrics[f"missing_share.{r.column}"] = r.missing_current
        metrics[f"{'new_category' if r.kind == 'categorical' else 'out_of_range'}_share.{r.column}"] = (
            r.new_category_share if r.kind == "categorical" else r.out_of_range_share
        )
    return metrics


def labels_of(frame: pd.DataFrame, spec: Spec) -> np.ndarray | None:
    """1 = default for rows with a label, or None when the frame has no target column or no label yet."""
    data = spec.data
    if data.target not in frame.columns or frame[data.target].isna().all():
        return None
    raw = frame[data.target]
    codes = outcome_codes(raw, data.positive, data.negative)
    if raw.isna().any() or (codes == DROPPED).any():
        raise DataError(f"target '{data.target}' is labelled on some rows only; monitor labelled windows whole")
    if not is_mapping(data.positive, data.negative) and (raw.nunique() > 2 or (raw.nunique() == 2 and not codes.any())):
        raise DataError(
            f"target '{data.target}' must be binary with positive label '{data.positive}' "
            f"(values: {', '.join(map(str, raw.unique()[:5]))})"
        )
    return codes


def _outcomes(
    spec: Spec,
    reference: pd.DataFrame,
    current: pd.DataFrame,
    reference_scores: np.ndarray,
    scores: np.ndarray,
    expected: dict,
) -> OutcomeResult | None:
    y = labels_of(current, spec)
    if y is None:
        return None
    settings = spec.monitoring
    metrics, findings, notes = outcome_metrics(y, scores, expected, settings.outcomes)
    enough = not notes  # enough labels of both classes to judge outcomes at all
    stored = expected.get("bands")
    bands, judged = band_table(stored, reference_scores, labels_of(reference, spec), scores, y, settings.score.bins)
    if not judged:
        notes.append(
            "score bands compared with the training sample's own bad rates (the version was registered before "
            "holdout bands were stored): shown, not judged"
        )
    elif enough:
        findings += band_findings(bands, str(expected.get("holdout", "registered")))
    else:
        bands["flag"] = ""
    metrics["outcome.bands_flagged"] = float((bands["flag"] != "").sum())
    result = OutcomeResult(metrics, bands, judged and enough, findings, notes)
    _fairness(result, spec, current, y, scores, enough)
    return result


def _fairness(
    result: OutcomeResult, spec: Spec, current: pd.DataFrame, y: np.ndarray, scores: np.ndarray, enough: bool
) -> None:
    """The spec's fairness policy on the window's decisions and outcomes, when it can be measured."""
    missing = [c for c in spec.data.sensitive_sources() if c not in current.columns]
    if not spec.data.sensitive:
        result.notes.append("no sensitive attribute in the spec: outcome fairness not measured")
    elif missing:
        result.notes.append(f"outcome fairness not measured: current data lacks {', '.join(missing)}")
    elif enough:
        sensitive = pd.DataFrame({s.name: derive_attribute(current[s.source], s) for s in spec.data.sensitive})
        settings = spec.monitoring
        result.fairness, found = outcome_fairness(
            y,
            scores,
            sensitive=sensitive,
            cutoff=spec.policy.cutoff,
            policy=spec.policy.fairness,
            severity=settings.outcomes.fairness,
            seed=settings.seed,
        )
        result.findings += found
        result.metrics.update(fairness_metrics(result.fairness))
