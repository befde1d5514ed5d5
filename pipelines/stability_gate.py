"""The stability gate: does the population the model will meet still look like its training data?

Score PSI and per-characteristic CSI (PSI on reference-decile bins, `monitoring/stability.py`)
of each holdout sample against the training sample. Any value at or above the spec's alert level
fails `validation.stability`; values at or above the warn level are listed for the reviewer.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from features.spec import StabilityPolicy
from monitoring.stability import fit_bins, population_stability, psi, stability_status


@dataclass
class StabilityResult:
    passed: bool
    reasons: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    metrics: dict[str, float] = field(default_factory=dict)
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)


def stability_gate(reference: pd.DataFrame, reference_scores: np.ndarray, holdouts: dict[str, tuple[pd.DataFrame, np.ndarray]],
                   numeric: list[str], categorical: list[str], policy: StabilityPolicy) -> StabilityResult:
    """Compare each holdout (features, scores) with the reference (training) sample."""
    result = StabilityResult(passed=True)
    score_bins = fit_bins(pd.Series(reference_scores, name="score"), "numeric", policy.bins)
    for sample, (features, scores) in holdouts.items():
        table = population_stability(reference, features, numeric, categorical, policy.bins)
        table.insert(0, "characteristic", table.pop("column"))
        score_psi = psi(score_bins, pd.Series(scores, name="score"))
        table = pd.concat([pd.DataFrame({"characteristic": ["(score)"], "kind": ["score"], "psi": [score_psi]}), table],
                          ignore_index=True)
        table["status"] = [stability_status(v, policy.warn, policy.alert) for v in table["psi"]]
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
