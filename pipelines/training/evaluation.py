"""The evaluation step: everything measured on a trained candidate before it may be registered.

Performance (with the logistic baseline and a leak check), stability, explanations, fairness and,
when the spec asks, the mitigated challenger. Apart from `pipelines/training/workflow.py` because
preparing and training are shared with tuning, while evaluation is the run's alone. Pure, like the
other steps: nothing here touches the tracking store.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from features.errors import CreditflowError
from features.spec import Spec
from pipelines.gates import performance as evaluate
from pipelines.gates.fairness import FairnessResult, fairness_gate, proxy_candidates
from pipelines.gates.stability import StabilityResult, stability_gate
from pipelines.progress import Progress
from pipelines.reports import plots
from pipelines.scoring.reasons import agreement as reason_agreement
from pipelines.scoring.reasons import contributions, top_reasons
from pipelines.training.logistic_benchmark import fit_logistic_baseline, predict_baseline
from pipelines.training.mitigation import CHALLENGER_CUTOFF, ChallengerReport, compare, train_challenger
from pipelines.training.train import predict_pd
from pipelines.training.workflow import Candidate, Prepared

HOLDOUTS = ("test", "oot")  # samples the performance policy is judged on
EXPLAIN_ROWS = 2_000  # holdout applicants for global importance and the exact-vs-fast agreement


@dataclass
class Evaluation:
    """What the run records and the gates decide on: metrics, tables, figures and each gate's result."""

    metrics: dict[str, float]
    tables: dict[str, pd.DataFrame]
    figures: dict[str, Any]
    passed: bool  # validation.performance
    reasons: list[str]
    warnings: list[str] = field(default_factory=list)
    main: str = "test"  # the holdout reports lead with (Split.main)
    stability: StabilityResult | None = None  # validation.stability
    fairness: FairnessResult | None = None  # validation.fairness; None when the spec names no sensitive attribute
    proxies: pd.DataFrame | None = None
    challenger: ChallengerReport | None = None  # the mitigated alternative, when the spec asks for one
    challenger_skipped: str | None = None  # why no challenger was trained (said in the run's output)

    @property
    def fairness_passed(self) -> bool:
        return self.fairness is not None and self.fairness.verdict.passed

    def gates(self) -> dict[str, bool]:
        return {"performance": self.passed, "stability": self.stability.passed, "fairness": self.fairness_passed}


def evaluate_candidate(prepared: Prepared, candidate: Candidate) -> Evaluation:
    """Metrics, tables and plots per sample, the logistic baseline and the performance verdict, then
    stability, explanations, fairness and the challenger.

    The challenger (dozens of XGBoost fits, which release the GIL) is trained on a thread of its own as soon
    as the fairness verdict says it is wanted, beside the rest of the evaluation.
    """
    samples = {k: v for k, v in prepared.split.samples().items() if k != "train"}
    scores = {name: predict_pd(candidate.booster, candidate.model_input.iloc[rows]) for name, rows in samples.items()}
    fairness, proxies = _fairness(prepared, scores)
    skipped = challenger_skipped(prepared.spec, fairness)
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="challenger") as pool:
        pending = (
            None if skipped or fairness is None else pool.submit(_challenger, prepared, candidate, scores, fairness)
        )
        evaluation = _measure(prepared, candidate, samples, scores)
        evaluation.fairness, evaluation.proxies, evaluation.challenger_skipped = fairness, proxies, skipped
        evaluation.challenger = pending.result() if pending else None
    if fairness is not None:
        evaluation.metrics.update(fairness.metrics())
    if evaluation.challenger is not None:
        evaluation.metrics.update(evaluation.challenger.metrics())
    return evaluation


def _measure(
    prepared: Prepared, candidate: Candidate, samples: dict[str, np.ndarray], scores: dict[str, np.ndarray]
) -> Evaluation:
    """Performance (with the baseline and leak warnings), figures, stability and explanations, each step
    reported on a progress line (on a large book each takes seconds)."""
    spec = prepared.spec
    labels = {name: prepared.checked.target[rows] for name, rows in samples.items()}
    with Progress("evaluating", 5, "steps") as progress:
        baseline = _baseline_scores(prepared, samples)
        progress.update(1, "logistic baseline")
        metrics: dict[str, float] = {"best_iteration": float(candidate.booster.num_boosted_rounds())}
        measured, tables, passed, reasons = _performance(spec, labels, scores, baseline)
        metrics.update(measured)
        warnings = _leak_warnings(spec, samples, metrics)
        progress.update(1, "performance with intervals")
        figures = _figures(labels, scores, baseline, tables, prepared.split.main)
        progress.update(1, "plots")
        stability = _stability(prepared, candidate, scores)
        metrics.update(stability.metrics)
        progress.update(1, "stability")
        importance, agreement_metrics = _explanations(prepared, candidate)
        metrics.update(agreement_metrics)
        tables["importance"] = importance
        figures["importance.png"] = plots.importance_figure(importance)
        progress.update(1, "explanations")
    return Evaluation(metrics, tables, figures, passed, reasons, warnings, prepared.split.main, stability)


def challenger_skipped(spec: Spec, fairness: FairnessResult | None) -> str | None:
    """Why the mitigated challenger (dozens of XGBoost fits) is not trained, or None when the policy asks for it."""
    settings = spec.policy.fairness.mitigation
    if not settings.enabled:
        return "policy.fairness.mitigation is not enabled"
    if fairness is None:
        return "no sensitive attribute to mitigate for"
    if settings.when == "failed" and fairness.verdict.passed:
        return "the fairness gate passed (policy.fairness.mitigation.when: failed)"
    return None


def _performance(
    spec: Spec, labels: dict[str, np.ndarray], scores: dict[str, np.ndarray], baseline: dict[str, np.ndarray]
) -> tuple[dict[str, float], dict[str, pd.DataFrame], bool, list[str]]:
    """Per sample: metrics (with AUC interval, ECE, the baseline's AUC) and decile/calibration tables; the
    performance verdict judged on the holdouts only (validation is what early stopping already saw)."""
    metrics: dict[str, float] = {}
    tables, passed, reasons = {}, True, []
    for name in labels:
        values = evaluate.classification_metrics(labels[name], scores[name])
        metrics.update({f"{name}_{k}": v for k, v in values.items()})
        metrics[f"baseline_{name}_auc"] = evaluate.classification_metrics(labels[name], baseline[name])["auc"]
        metrics[f"{name}_auc_low"], metrics[f"{name}_auc_high"] = evaluate.auc_interval(
            labels[name], scores[name], seed=spec.tuning.seed
        )
        tables[f"deciles_{name}"] = evaluate.decile_table(labels[name], scores[name])
        tables[f"calibration_{name}"] = evaluate.calibration_table(labels[name], scores[name])
        metrics[f"{name}_ece"] = evaluate.expected_calibration_error(tables[f"calibration_{name}"])
        if name in HOLDOUTS:
            ok, why = evaluate.performance_verdict(
                values, spec.policy.performance.minimum, spec.policy.performance.maximum
            )
            passed, reasons = passed and ok, reasons + [f"{name}: {r}" for r in why]
    return metrics, tables, passed, reasons


def _leak_warnings(spec: Spec, samples: dict[str, np.ndarray], metrics: dict[str, float]) -> list[str]:
    """A warning per sample where the booster beats the logistic baseline by suspiciously much (a possible leak)."""
    warnings = []
    for name in samples:
        leak = evaluate.leak_check(
            metrics[f"{name}_auc"], metrics[f"baseline_{name}_auc"], spec.policy.performance.max_baseline_uplift
        )
        if leak:
            warnings.append(f"{name}: {leak}")
    return warnings


def _fairness(prepared: Prepared, scores: dict[str, np.ndarray]) -> tuple[FairnessResult | None, pd.DataFrame | None]:
    """The fairness gate on the main holdout (out-of-time if present), and proxy candidates on training rows."""
    spec, checked, split = prepared.spec, prepared.checked, prepared.split
    if checked.sensitive.empty:
        return None, None
    sample = split.main
    rows = split.samples()[sample]
    settings = spec.policy.fairness
    result = fairness_gate(
        checked.target[rows],
        scores[sample],
        checked.sensitive.iloc[rows],
        spec.policy.cutoff,
        spec.policy.fairness,
        seed=spec.tuning.seed,
    )
    proxies = proxy_candidates(
        checked.features.iloc[split.train],
        checked.sensitive.iloc[split.train],
        spec.features.numeric,
        spec.features.categorical,
        threshold=settings.proxy_auc,
        seed=spec.tuning.seed,
    )
    return result, proxies


def _challenger(
    prepared: Prepared, candidate: Candidate, scores: dict[str, np.ndarray], fairness: FairnessResult
) -> ChallengerReport:
    """The mitigated challenger, judged on the main holdout beside the original."""
    spec, checked, split = prepared.spec, prepared.checked, prepared.split
    settings = spec.policy.fairness.mitigation
    train, holdout = split.train, split.samples()[split.main]
    try:
        challenger = train_challenger(
            candidate.model_input.iloc[train],
            checked.target[train],
            checked.sensitive.iloc[train],
            candidate.params,
            candidate.booster.num_boosted_rounds(),
            spec.features.monotone_vector(),
            spec.policy.cutoff,
            settings,
            spec.tuning.seed,
        )
    except ValueError as exc:
        raise CreditflowError(f"policy.fairness.mitigation: {exc}") from None
    share = challenger.decline_share(candidate.model_input.iloc[holdout])
    judged = fairness_gate(
        checked.target[holdout],
        share,
        checked.sensitive.iloc[holdout],
        CHALLENGER_CUTOFF,
        spec.policy.fairness,
        seed=spec.tuning.seed,
    )
    table = compare(checked.target[holdout], scores[split.main], spec.policy.cutoff, fairness, share, judged)
    return ChallengerReport(challenger, judged, table, split.main)


def _explanations(prepared: Prepared, candidate: Candidate) -> tuple[pd.DataFrame, dict[str, float]]:
    """Global importance (mean |contribution|) and how well fast reason codes agree with exact ones."""
    split = prepared.split
    holdout = split.samples()[split.main]
    rows = np.sort(np.random.default_rng(prepared.spec.tuning.seed).permutation(holdout)[:EXPLAIN_ROWS])
    sample = candidate.model_input.iloc[rows]
    exact = contributions(candidate.booster, sample, exact=True)
    importance = pd.DataFrame({"feature": list(sample.columns), "mean_abs_contribution": np.abs(exact).mean(axis=0)})
    importance = importance.sort_values("mean_abs_contribution", ascending=False, ignore_index=True)
    fast = contributions(candidate.booster, sample, exact=False)
    texts = dict(prepared.spec.reasons)
    agreement = reason_agreement(
        top_reasons(exact, candidate.baseline, texts=texts), top_reasons(fast, candidate.baseline, texts=texts)
    )
    return importance, {f"reasons_fast_agreement_{k}": v for k, v in agreement.items()}


def _stability(prepared: Prepared, candidate: Candidate, scores: dict[str, np.ndarray]) -> StabilityResult:
    spec, features, split = prepared.spec, prepared.checked.features, prepared.split
    train_scores = predict_pd(candidate.booster, candidate.model_input.iloc[split.train])
    holdouts = {name: (features.iloc[rows], scores[name]) for name, rows in split.samples().items() if name in HOLDOUTS}
    return stability_gate(
        features.iloc[split.train],
        train_scores,
        holdouts,
        spec.features.numeric,
        spec.features.categorical,
        spec.policy.stability,
    )


def _baseline_scores(prepared: Prepared, samples: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    spec, checked, train = prepared.spec, prepared.checked, prepared.split.train
    model = fit_logistic_baseline(
        checked.features.iloc[train],
        checked.target[train],
        spec.features.numeric,
        spec.features.categorical,
        seed=spec.tuning.seed,
    )
    return {name: predict_baseline(model, checked.features.iloc[rows]) for name, rows in samples.items()}


def _figures(labels, scores, baseline, tables, main: str) -> dict[str, Any]:
    roc_inputs = {f"xgboost {n}": (labels[n], scores[n]) for n in labels}
    roc_inputs[f"logistic baseline {main}"] = (labels[main], baseline[main])
    return {
        "roc.png": plots.roc_figure(roc_inputs),
        "ks.png": plots.ks_figure(labels[main], scores[main]),
        "calibration.png": plots.calibration_figure({n: tables[f"calibration_{n}"] for n in labels}),
        "gains.png": plots.gains_figure({n: tables[f"deciles_{n}"] for n in labels}),
    }
