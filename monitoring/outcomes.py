"""Outcomes once labels arrive: discrimination, bad rate by score band and fairness on a window. Pure.

Performance is judged against the holdout performance the version was registered with
(`monitoring/expected.json`), not against the training sample (which flatters the model).
Bad rates are shown per REFERENCE score decile, so a band means the same scores every month.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from features.monitoring_spec import OutcomeLimits
from pipelines.gates import performance as evaluate
from pipelines.gates.fairness import FairnessPolicy, FairnessResult, fairness_gate


@dataclass
class OutcomeResult:
    metrics: dict[str, float]
    bands: pd.DataFrame  # bad rate by reference score decile
    findings: list[tuple[str, str]] = field(default_factory=list)  # (status, reason)
    notes: list[str] = field(default_factory=list)
    fairness: FairnessResult | None = None


def band_table(
    reference_scores: np.ndarray, reference_y: np.ndarray, scores: np.ndarray, y: np.ndarray, edges: list[float]
) -> pd.DataFrame:
    """Per reference score band (right-closed, as in PSI bins): row shares and bad rates of both samples."""
    bounds = ["-inf", *(f"{e:.4f}" for e in edges), "inf"]
    out = pd.DataFrame({"band": [f"({lo}, {hi}]" for lo, hi in zip(bounds, bounds[1:])]})
    for role, p, labels in (("reference", reference_scores, reference_y), ("current", scores, y)):
        codes = np.searchsorted(np.asarray(edges), p, side="left")
        counts = np.bincount(codes, minlength=len(edges) + 1)
        bads = np.bincount(codes, weights=labels, minlength=len(edges) + 1)
        out[f"{role}_share"] = counts / max(len(p), 1)
        out[f"{role}_bad_rate"] = np.divide(bads, counts, out=np.full(len(counts), np.nan), where=counts > 0)
    return out


def outcome_metrics(
    y: np.ndarray, scores: np.ndarray, expected: dict[str, float], limits: OutcomeLimits
) -> tuple[dict[str, float], list[tuple[str, str]], list[str]]:
    """AUC, KS, bad rate and mean PD of the window, their change from `expected`, and findings."""
    if len(y) < limits.min_rows or y.min() == y.max():
        metrics = {"outcome.n": float(len(y)), "outcome.bad_rate": float(y.mean())}
        return (
            metrics,
            [],
            [
                f"outcomes not judged: {len(y)} labelled rows ({int(y.sum())} defaults); "
                f"needs {limits.min_rows} rows and both classes"
            ],
        )
    values = evaluate.classification_metrics(y, scores)
    metrics = {f"outcome.{k}": values[k] for k in ("auc", "gini", "ks", "brier", "bad_rate", "mean_pd", "n")}
    findings = []
    for name, warn, alert in (
        ("auc", limits.auc_drop_warn, limits.auc_drop_alert),
        ("ks", limits.ks_drop_warn, limits.ks_drop_alert),
    ):
        if name not in expected:
            continue
        drop = float(expected[name]) - values[name]
        metrics[f"outcome.{name}_drop"] = drop
        level = "alert" if drop > alert else "warn" if drop > warn else None
        if level:
            findings.append(
                (
                    level,
                    f"{name.upper()} {values[name]:.3f} is {drop:.3f} below the registered "
                    f"{expected.get('holdout', 'holdout')} {name.upper()} {float(expected[name]):.3f}",
                )
            )
    return metrics, findings, []


def outcome_fairness(
    y: np.ndarray,
    scores: np.ndarray,
    sensitive: pd.DataFrame,
    cutoff: float,
    policy: FairnessPolicy,
    severity: str,
    seed: int,
) -> tuple[FairnessResult, list[tuple[str, str]]]:
    """The spec's fairness policy on the window's decisions and outcomes; each reason is a finding."""
    result = fairness_gate(y, scores, sensitive, cutoff, policy, seed=seed)
    return result, [(severity, f"fairness: {reason}") for reason in result.verdict.reasons]


def fairness_metrics(result: FairnessResult) -> dict[str, float]:
    return {k: v for k, v in result.metrics().items() if not math.isnan(v)}
