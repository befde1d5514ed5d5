"""The performance gate (`validation.performance`, policy section `performance`): on each holdout, the minima and
maxima of the policy, the decline rate at the cutoff, calibration, and the leakage screen (a finding fails the gate
unless `features.reviewed` explains it). Judged on the holdouts only (test, out-of-time): validation is what early
stopping already saw; it is measured and shown."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pipelines.core.tags import NOT_ASSESSED
from pipelines.gates.gate import GateContext, GateResult, status_of

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

    from features.spec import Spec
    from pipelines.gates.calibration import CalibrationCheck

__all__ = ["HOLDOUTS", "PerformanceGate"]

HOLDOUTS = ("test", "oot")  # samples the performance policy is judged on
NOT_ASSESSABLE = ": not assessable: "  # in a holdout's finding when its interval is wider than the policy allows


class PerformanceGate:
    name = "performance"
    policy_section = "performance"
    title = "Performance, calibration and leakage"

    def evaluate(self, context: GateContext) -> GateResult:
        # the measuring code (scikit-learn, SciPy) is imported when a gate measures, not when the CLI starts
        from pipelines.gates.figures import calibration_figure, gains_figure, importance_figure, ks_figure, roc_figure
        from pipelines.gates.leakage import screen_model

        samples = [name for name in context.split.samples() if name != "train"]
        result = GateResult(self.name, status_of(True))
        for sample in samples:
            _measure_sample(context, sample, result)
        main = context.main
        leakage = screen_model(
            context.screen,
            context.importance,
            uplift=result.metrics[f"{main}_auc"] - result.metrics[f"baseline_{main}_auc"],
            max_uplift=context.spec.policy.performance.max_baseline_uplift,
            policy=context.spec.policy.leakage,
            reviewed=context.spec.features.reviewed,
        )
        result.findings += leakage.reasons()
        result.notes += leakage.acknowledged()
        _soundness(context, result)
        result.metrics.update(leakage.metrics())
        result.tables["evaluation/leakage_screen.csv"] = leakage.table
        result.tables["evaluation/leakage_findings.csv"] = leakage.findings_table()
        result.tables["evaluation/importance.csv"] = context.importance
        result.detail = leakage
        result.status = _status(result.findings)
        labels = {s: context.labels(s) for s in samples}
        roc = {f"xgboost {s}": (labels[s], context.scores[s]) for s in samples}
        roc[f"logistic baseline {main}"] = (labels[main], context.baseline[main])
        result.figures.update(
            {
                "plots/roc.png": roc_figure(roc),
                "plots/ks.png": ks_figure(labels[main], context.scores[main]),
                "plots/calibration.png": calibration_figure(
                    {s: result.tables[f"evaluation/calibration_{s}.csv"] for s in samples}
                ),
                "plots/gains.png": gains_figure({s: result.tables[f"evaluation/deciles_{s}.csv"] for s in samples}),
                "plots/importance.png": importance_figure(context.importance),
            }
        )
        return result


def _status(findings: list[str]) -> str:
    """Failed on any finding, except that a gate whose only findings are holdouts too small for the policy's
    interval width is not assessed: nothing was judged, which is not a pass either."""
    if findings and all(NOT_ASSESSABLE in f for f in findings):
        return NOT_ASSESSED
    return status_of(not findings)


def _soundness(context: GateContext, result: GateResult) -> None:
    """Conceptual soundness: does the boosted model beat its logistic baseline by the policy's minimum uplift on the
    main holdout? Below it, a finding when the policy sets a minimum, else a note; either names the baseline as the
    simpler alternative and gives the model's interval."""
    main, metrics = context.main, result.metrics
    minimum = context.spec.policy.performance.min_baseline_uplift
    auc, base = metrics[f"{main}_auc"], metrics[f"baseline_{main}_auc"]
    metrics[f"{main}_baseline_uplift"] = auc - base
    if auc - base > minimum or (minimum > 0 and auc - base >= minimum):  # at a minimum above 0 the limit passes
        return
    text = (
        f"{main}: conceptual soundness: the model's AUC {auc:.3f} ({metrics[f'{main}_auc_low']:.3f}-"
        f"{metrics[f'{main}_auc_high']:.3f}) does not beat its logistic baseline's {base:.3f} by the policy's minimum "
        f"uplift {minimum:g}; the logistic baseline is the simpler alternative"
    )
    (result.findings if minimum > 0 else result.notes).append(text)


def _measure_sample(context: GateContext, sample: str, result: GateResult) -> None:
    """One sample's metrics with intervals, calibration, decline rate, the baseline's AUC and the decile and
    calibration tables; on a holdout, its findings and notes."""
    from pipelines.gates import performance as measure
    from pipelines.gates.calibration import calibration_check
    from pipelines.gates.intervals import holdout_intervals

    spec, y, p = context.spec, context.labels(sample), context.scores[sample]
    values = measure.classification_metrics(y, p)
    metrics = result.metrics
    metrics.update({f"{sample}_{k}": v for k, v in values.items()})
    metrics[f"baseline_{sample}_auc"] = measure.classification_metrics(y, context.baseline[sample])["auc"]
    for key, (low, high) in holdout_intervals(y, p, seed=spec.tuning.seed).items():
        metrics[f"{sample}_{key}_low"], metrics[f"{sample}_{key}_high"] = low, high
    check = calibration_check(y, p, min_p_value=spec.policy.calibration.min_p_value)
    metrics.update({f"{sample}_{k}": v for k, v in check.metrics().items()})
    result.tables[f"evaluation/deciles_{sample}.csv"] = measure.decile_table(y, p)
    result.tables[f"evaluation/calibration_{sample}.csv"] = measure.calibration_table(y, p).assign(
        p_value=check.bands["p_value"].to_numpy(), rejected=check.bands["rejected"].to_numpy()
    )
    limits = spec.policy.performance
    rate, declines = measure.decline_verdict(
        p, cutoff=spec.policy.cutoff, min_rate=limits.min_decline_rate, max_rate=limits.max_decline_rate
    )
    metrics[f"{sample}_decline_rate"] = rate
    if sample in HOLDOUTS:
        bounds = {
            k: (metrics[f"{sample}_{k}_low"], metrics[f"{sample}_{k}_high"])
            for k in values
            if f"{sample}_{k}_low" in metrics
        }
        why, notes = _holdout_verdict(spec, y, values, bounds, check, declines)
        result.findings += [f"{sample}: {r}" for r in why]
        result.notes += [f"{sample}: {n}" for n in notes]


def _holdout_verdict(
    spec: Spec,
    y: np.ndarray,
    values: dict[str, float],
    bounds: dict[str, tuple[float, float]],
    check: CalibrationCheck,
    declines: list[str],
) -> tuple[list[str], list[str]]:
    """A holdout's reasons (minima and maxima, judged on the point or the interval as the policy says; decline rate,
    calibration) and notes; a holdout too small to judge fails closed and says so, one whose AUC interval is wider
    than the policy allows is not assessable."""
    from pipelines.gates import performance as measure
    from pipelines.gates.calibration import calibration_verdict

    too_small = measure.judgeable(y)
    if too_small:
        return [too_small], []
    limits = spec.policy.performance
    too_wide = measure.width_verdict(bounds, len(y), limits.max_interval_width)
    if too_wide:
        return [too_wide], []
    reasons = measure.interval_verdict(
        values, bounds, minima=limits.minimum, maxima=limits.maximum, judge_on=limits.judge_on
    )
    miscalibrated, notes = calibration_verdict(check, policy=spec.policy.calibration)
    return reasons + declines + miscalibrated, notes


def table_of(result: GateResult, name: str) -> pd.DataFrame:
    """One of the gate's evaluation tables by its short name (`calibration_test`)."""
    return result.tables[f"evaluation/{name}.csv"]
