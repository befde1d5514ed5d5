"""The review page's first-screen rows beside the metric limits: the decline rate at the cutoff, the calibration limits
the performance gate judged, and whether the model beats its logistic baseline (conceptual soundness). Apart from
card_evidence.py, which lays out every limit, because these say what the verdict decided on rather than a metric."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from pipelines.reports.formats import number

if TYPE_CHECKING:
    from features.spec import Spec

TOL = 1e-12  # as card_evidence.py: a value at a limit meets it


def result_word(ok: bool) -> str:
    return "met" if ok else "broken"


def decision_rows(spec: Spec, m: dict[str, float], sample: str, *, main: str) -> list[list[object]]:
    """What the first screen must say beside the metrics: the decline rate at the cutoff, the calibration limits the
    gate judged (a gap fails only when also significant), and whether the model beats its logistic baseline."""
    policy, calibration = spec.policy.performance, spec.policy.calibration
    rate = m.get(f"{sample}_decline_rate", math.nan)
    ok = policy.min_decline_rate - TOL <= rate <= policy.max_decline_rate + TOL
    band = f"{policy.min_decline_rate:.0%} – {policy.max_decline_rate:.0%}"
    rows: list[list[object]] = [["performance", "decline rate at the cutoff", sample, rate, "", band, result_word(ok)]]
    gap, p_value = m.get(f"{sample}_citl_gap", math.nan), m.get(f"{sample}_citl_p_value", math.nan)
    broken = gap > calibration.max_citl_gap + TOL and p_value < calibration.min_p_value
    limit = f"<= {calibration.max_citl_gap:g} unless p >= {calibration.min_p_value:g} (p = {number(p_value)})"
    rows.append(["calibration", "|mean PD / default rate - 1|", sample, gap, "", limit, result_word(not broken)])
    bands = m.get(f"{sample}_bands_rejected", math.nan)
    limit = f"<= {calibration.max_failed_bands} of 10 at p < {calibration.min_p_value:g}"
    rows.append(
        [
            "calibration",
            "score bands rejected",
            sample,
            bands,
            "",
            limit,
            result_word(bands <= calibration.max_failed_bands),
        ]
    )
    if sample != main:  # conceptual soundness is judged on the main holdout (pipelines/gates/performance_gate.py)
        return rows
    uplift, minimum = (
        m.get(f"{sample}_auc", math.nan) - m.get(f"baseline_{sample}_auc", math.nan),
        policy.min_baseline_uplift,
    )
    beats = uplift > minimum or (minimum > 0 and uplift >= minimum)
    outcome = "met" if beats else "broken" if minimum > 0 else "note: the baseline is the simpler alternative"
    rows.append(["conceptual soundness", "AUC over logistic baseline", sample, uplift, "", f"> {minimum:g}", outcome])
    return rows
