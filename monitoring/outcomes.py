"""Outcomes once labels arrive: discrimination, bad rate by score band and fairness on a window. Pure.

Performance is judged against the holdout performance the version was registered with
(`monitoring/expected.json`), not against the training sample (which flatters the model).
Bad rates are shown per REFERENCE score decile, so a band means the same scores every month, and
compared with the holdout's bad rate in the same band: a band is flagged only when the two Jeffreys
intervals (95%) do not overlap, i.e. when the difference is larger than chance on both samples' sizes
(for two equal samples, about a 0.5% chance per band when nothing changed).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from features.monitoring_spec import OutcomeLimits
from pipelines.evidence.reference import band_counts, band_labels
from pipelines.gates import performance as evaluate
from pipelines.gates.fairness import FairnessPolicy, FairnessResult, fairness_gate
from pipelines.gates.stability import fit_bins

BAND_CONFIDENCE = 0.95


@dataclass
class OutcomeResult:
    metrics: dict[str, float]
    bands: pd.DataFrame  # bad rate by reference score decile, window against expected (see band_table)
    bands_judged: bool = False  # compared with the registered holdout (else the training sample, not judged)
    findings: list[tuple[str, str]] = field(default_factory=list)  # (status, reason)
    notes: list[str] = field(default_factory=list)
    fairness: FairnessResult | None = None


def band_table(
    stored: dict | None,
    reference_scores: np.ndarray,
    reference_y: np.ndarray | None,
    scores: np.ndarray,
    y: np.ndarray,
    bins: int,
) -> tuple[pd.DataFrame, bool]:
    """Bad rate per score band, the window's against what was expected, each with its Jeffreys interval.

    `stored` is the holdout's band counts kept at registration (`expected.json` "bands"): the bands are
    judged (second value True). A version registered before they were kept falls back to the training
    sample's own rates on the reference's deciles: shown for orientation, never judged (in-sample rates
    flatter the model, so every band would look worse than expected).
    """
    if stored:
        edges, expected, judged = list(stored["edges"]), stored, True
    else:
        edges = fit_bins(pd.Series(reference_scores, name="score"), "numeric", n_bins=bins).edges or []
        labels = reference_y if reference_y is not None else np.full(len(reference_scores), np.nan)
        expected, judged = band_counts(edges, reference_scores, labels), False
    current = band_counts(edges, scores, y)
    out = pd.DataFrame({"band": band_labels(edges)})
    for role, counts in (("expected", expected), ("current", current)):
        n, bads = np.asarray(counts["n"], dtype=np.float64), np.asarray(counts["bads"], dtype=np.float64)
        out[f"{role}_n"] = n.astype(np.int64)
        out[f"{role}_bad_rate"] = np.divide(bads, n, out=np.full(len(n), np.nan), where=n > 0)
        out[f"{role}_low"], out[f"{role}_high"] = jeffreys_interval(bads, n)
        out[f"{role}_mean_pd"] = np.where(n > 0, np.asarray(counts["mean_pd"], dtype=np.float64), np.nan)
    out["current_share"] = out["current_n"] / max(len(scores), 1)
    higher = judged & (out["current_low"] > out["expected_high"])
    lower = judged & (out["current_high"] < out["expected_low"])
    out["flag"] = np.where(higher, "higher", np.where(lower, "lower", ""))
    return out, judged


def jeffreys_interval(
    bads: np.ndarray, n: np.ndarray, *, confidence: float = BAND_CONFIDENCE
) -> tuple[np.ndarray, np.ndarray]:
    """The Jeffreys interval of a binomial rate (Beta(k + 1/2, n - k + 1/2) quantiles; 0 or 1 at the ends, as
    Brown, Cai and DasGupta 2001 advise); NaN where n is 0 or unknown."""
    from scipy.stats import beta

    bads, n = np.asarray(bads, dtype=np.float64), np.asarray(n, dtype=np.float64)
    tail = (1 - confidence) / 2
    with np.errstate(invalid="ignore"):
        low = np.where(bads > 0, beta.ppf(tail, bads + 0.5, n - bads + 0.5), 0.0)
        high = np.where(bads < n, beta.ppf(1 - tail, bads + 0.5, n - bads + 0.5), 1.0)
    empty = ~(n > 0) | np.isnan(bads)
    return np.where(empty, np.nan, low), np.where(empty, np.nan, high)


def band_findings(bands: pd.DataFrame, holdout: str) -> list[tuple[str, str]]:
    """A warning per band whose window bad rate differs from the expected one by more than chance."""
    findings = []
    for row in bands[bands["flag"] != ""].itertuples():
        findings.append(
            (
                "warn",
                f"outcomes: score band {row.band} bad rate {row.current_bad_rate:.1%} "
                f"({_pct(row.current_low, row.current_high)}, {row.current_n} applicants) is {row.flag} than the "
                f"{row.expected_bad_rate:.1%} ({_pct(row.expected_low, row.expected_high)}) of the {holdout} "
                "holdout at registration",
            )
        )
    return findings


def _pct(low: float, high: float) -> str:
    return f"{BAND_CONFIDENCE:.0%} interval {low:.1%}-{high:.1%}"


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
    *,
    sensitive: pd.DataFrame,
    cutoff: float,
    policy: FairnessPolicy,
    severity: str,
    seed: int,
) -> tuple[FairnessResult, list[tuple[str, str]]]:
    """The spec's fairness policy on the window's decisions and outcomes; each reason is a finding."""
    result = fairness_gate(y, scores, sensitive=sensitive, cutoff=cutoff, policy=policy, seed=seed)
    return result, [(severity, f"fairness: {reason}") for reason in result.verdict.reasons]


def fairness_metrics(result: FairnessResult) -> dict[str, float]:
    return {k: v for k, v in result.metrics().items() if not math.isnan(v)}
