"""The evaluation step: everything measured on a trained candidate before it may be registered.

Performance (with intervals, calibration, the decline rate, the logistic baseline and the leakage
screen), stability, explanations, fairness and, when the spec asks, the mitigated challenger. Apart from
`pipelines/training/workflow.py` because preparing and training are shared with tuning, while evaluation is
the run's alone. Pure, like the
other steps: nothing here touches the tracking store.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from features.policy import matches
from features.spec import Spec
from pipelines.core.tags import NOT_ASSESSED
from pipelines.gates import performance as evaluate
from pipelines.gates.calibration import CalibrationCheck, calibration_check, calibration_verdict
from pipelines.gates.fairness import FairnessResult
from pipelines.gates.intervals import holdout_intervals
from pipelines.gates.leakage import LeakageResult
from pipelines.gates.stability import StabilityResult
from pipelines.progress import Progress
from pipelines.reports import plots
from pipelines.reports.fairness_report import fairness_figure
from pipelines.training.challenger import challenger_skipped, judged_challenger
from pipelines.training.challenger_process import ChallengerWorker
from pipelines.training.checks import (
    HOLDOUTS,
    baseline_scores,
    explanations,
    fairness_check,
    leakage_check,
    stability_check,
)
from pipelines.training.logistic_benchmark import fitted_rows
from pipelines.training.mitigation import ChallengerReport
from pipelines.training.train import predict_pd
from pipelines.training.workflow import Candidate, Prepared

NO_ATTRIBUTE = (
    "not assessed: no sensitive attribute is declared in data.sensitive, so fairness cannot be measured; "
    "promotion needs an accepted exception"
)


@dataclass
class Evaluation:
    """What the run records and the gates decide on: metrics, tables, figures and each gate's result."""

    metrics: dict[str, float]
    tables: dict[str, pd.DataFrame]
    figures: dict[str, Any]
    passed: bool  # validation.performance
    reasons: list[str]
    main: str = "test"  # the holdout reports lead with (Split.main)
    stability: StabilityResult | None = None  # validation.stability
    fairness: FairnessResult | None = None  # validation.fairness; None when the spec names no sensitive attribute
    proxies: pd.DataFrame | None = None
    challenger: ChallengerReport | None = None  # the mitigated alternative, when the spec asks for one
    leakage: LeakageResult | None = None  # the leakage screen (its unreviewed findings are performance reasons)
    notes: list[str] = field(default_factory=list)  # what the verdict did not judge, and reviewed leakage findings
    watchlist: list[tuple[str, str]] = field(default_factory=list)  # (feature, policy pattern): proxies by name
    challenger_skipped: str | None = None  # why no challenger was trained (said in the run's output)
    fairness_figure: Any = None  # approval rates per group (a matplotlib Figure), logged and on the review page
    charts: dict[str, Any] = field(default_factory=dict)  # the review page's charts, drawn once (card_evidence.py)
    scores: dict[str, np.ndarray] = field(default_factory=dict)  # PD of every holdout row, per sample

    @property
    def fairness_passed(self) -> bool:
        return self.fairness is not None and self.fairness.verdict.passed

    def gates(self) -> dict[str, str]:
        """Each gate's verdict as its `validation.*` tag says it: passed, failed, or not_assessed (fairness
        without a declared sensitive attribute: nothing to judge it on, which is not a pass)."""
        fairness = NOT_ASSESSED if self.fairness is None else _word(self.fairness.verdict.passed)
        return {"performance": _word(self.passed), "stability": _word(self.stability.passed), "fairness": fairness}

    @property
    def fairness_reasons(self) -> list[str]:
        return [NO_ATTRIBUTE] if self.fairness is None else self.fairness.verdict.reasons

    @property
    def all_passed(self) -> bool:
        return all(v == "passed" for v in self.gates().values())


def _word(passed: bool) -> str:
    return "passed" if passed else "failed"


def evaluate_candidate(prepared: Prepared, candidate: Candidate, worker: ChallengerWorker | None = None) -> Evaluation:
    """Metrics, tables and plots per sample, the logistic baseline and the performance verdict, then
    stability, explanations, fairness and the challenger (see `evaluating`)."""
    with evaluating(prepared, candidate, worker) as evaluation:
        pass
    return evaluation


@contextlib.contextmanager
def evaluating(
    prepared: Prepared, candidate: Candidate, worker: ChallengerWorker | None = None
) -> Iterator[Evaluation]:
    """The evaluation, yielded while the mitigated challenger may still be training; complete when the block ends.

    The challenger (dozens of XGBoost fits) trains in `worker`'s process when the run started one (the run sends it
    the job as soon as the candidate is trained; pipelines/training/challenger_process.py), else on a thread once
    the fairness verdict asks for it; a verdict that does not ask stops the worker. Meanwhile this thread measures
    and draws everything else, then runs the caller's block (work that needs no challenger, such as logging the
    model); leaving the block waits for the challenger and adds its metrics.
    """
    if worker is not None:
        _use_threads(candidate, candidate.threads - 1)  # the challenger's process takes a core (see _use_threads)
    try:
        with _evaluating(prepared, candidate, worker) as evaluation:
            yield evaluation
    finally:
        _use_threads(candidate, candidate.threads)


def _use_threads(candidate: Candidate, threads: int) -> None:
    """The candidate's XGBoost threads for its predictions. Beside the challenger's process, two threads on two cores
    made three busy threads: an OpenMP region waits for its descheduled thread, and the run took 23.6 s instead of
    22.3 s (median of 4, 1M rows). The booster's files do not hold its thread count."""
    candidate.booster.set_param({"nthread": max(1, threads)})


@contextlib.contextmanager
def _evaluating(prepared: Prepared, candidate: Candidate, worker: ChallengerWorker | None) -> Iterator[Evaluation]:
    samples = {k: v for k, v in prepared.split.samples().items() if k != "train"}
    scores = {name: predict_pd(candidate.booster, candidate.model_input.iloc[rows]) for name, rows in samples.items()}
    fairness, proxies = fairness_check(prepared, scores)
    skipped = challenger_skipped(prepared.spec, fairness)
    if worker is not None and (skipped or fairness is None):
        worker.close()  # a job sent ahead of the verdict is not wanted: free the core now
        _use_threads(candidate, candidate.threads)
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="challenger") as pool:
        pending = (
            None
            if skipped or fairness is None
            else pool.submit(judged_challenger, prepared, candidate, scores, fairness, worker)
        )
        try:
            evaluation = _measure(prepared, candidate, samples, scores)
            evaluation.fairness, evaluation.proxies, evaluation.challenger_skipped = fairness, proxies, skipped
            evaluation.scores = scores
            if fairness is not None:
                evaluation.metrics.update(fairness.metrics())
                evaluation.fairness_figure = fairness_figure(fairness)
            if pending is not None:
                _render(evaluation)
            yield evaluation
            evaluation.challenger = pending.result() if pending else None
        except BaseException:
            if worker is not None:  # the pool's thread waits for the worker: stop it rather than wait minutes
                worker.close()
            raise
    if evaluation.challenger is not None:
        evaluation.metrics.update(evaluation.challenger.metrics())


def _render(evaluation: Evaluation) -> None:
    """Render every figure to PNG while the challenger trains (matplotlib holds the GIL; the challenger's XGBoost
    fits do not), so that recording the run and the review page reuse the bytes instead of drawing them after it.
    Without a challenger there is nothing to overlap: the first reader renders them (plots.png_bytes, once)."""
    for figure in [*evaluation.figures.values(), evaluation.fairness_figure]:
        if figure is not None:
            plots.png_bytes(figure)


def _measure(
    prepared: Prepared, candidate: Candidate, samples: dict[str, np.ndarray], scores: dict[str, np.ndarray]
) -> Evaluation:
    """Performance (with the baseline), figures, stability, explanations and the leakage screen, each step
    reported on a progress line (on a large book each takes seconds)."""
    spec = prepared.spec
    labels = {name: prepared.checked.target[rows] for name, rows in samples.items()}
    with Progress("evaluating", 5, "steps") as progress:
        baseline = baseline_scores(prepared, samples)
        progress.update(1, "logistic baseline")
        metrics: dict[str, float] = {"best_iteration": float(candidate.booster.num_boosted_rounds())}
        metrics["baseline_training_rows"] = float(fitted_rows(len(prepared.split.train)))
        measured, tables, reasons, notes = _performance(spec, labels, scores, baseline)
        metrics.update(measured)
        progress.update(1, "performance with intervals")
        figures = _figures(labels, scores, baseline, tables, prepared.split.main)
        progress.update(1, "plots")
        stability = stability_check(prepared, candidate, scores)
        metrics.update(stability.metrics)
        progress.update(1, "stability")
        importance, agreement_metrics = explanations(prepared, candidate)
        metrics.update(agreement_metrics)
        leakage = leakage_check(prepared, importance, metrics)
        metrics.update(leakage.metrics())
        reasons += leakage.reasons()
        tables["leakage_screen"], tables["leakage_findings"] = leakage.table, leakage.findings_table()
        tables["importance"] = importance
        figures["importance.png"] = plots.importance_figure(importance)
        progress.update(1, "explanations and leakage screen")
    watchlist = matches(spec.features.all(), spec.governing.policy.proxy_watchlist) if spec.governing else []
    return Evaluation(
        metrics,
        tables,
        figures,
        not reasons,
        reasons,
        prepared.split.main,
        stability,
        leakage=leakage,
        notes=prepared.data.warnings + prepared.checked.warnings + notes + leakage.acknowledged(),
        watchlist=watchlist,
    )


def _performance(
    spec: Spec, labels: dict[str, np.ndarray], scores: dict[str, np.ndarray], baseline: dict[str, np.ndarray]
) -> tuple[dict[str, float], dict[str, pd.DataFrame], list[str], list[str]]:
    """Per sample: metrics with intervals, calibration, decline rate, the baseline's AUC and decile/calibration
    tables; the reasons and notes of the verdict, judged on the holdouts only (validation is what early stopping
    already saw)."""
    metrics: dict[str, float] = {}
    tables, reasons, notes = {}, [], []
    for name in labels:
        y, p = labels[name], scores[name]
        values = evaluate.classification_metrics(y, p)
        metrics.update({f"{name}_{k}": v for k, v in values.items()})
        metrics[f"baseline_{name}_auc"] = evaluate.classification_metrics(y, baseline[name])["auc"]
        for key, (low, high) in holdout_intervals(y, p, seed=spec.tuning.seed).items():
            metrics[f"{name}_{key}_low"], metrics[f"{name}_{key}_high"] = low, high
        check = calibration_check(y, p, spec.policy.calibration.min_p_value)
        metrics.update({f"{name}_{k}": v for k, v in check.metrics().items()})
        tables[f"deciles_{name}"] = evaluate.decile_table(y, p)
        tables[f"calibration_{name}"] = evaluate.calibration_table(y, p).assign(
            p_value=check.bands["p_value"].to_numpy(), rejected=check.bands["rejected"].to_numpy()
        )
        performance = spec.policy.performance
        rate, declines = evaluate.decline_verdict(
            p, spec.policy.cutoff, performance.min_decline_rate, performance.max_decline_rate
        )
        metrics[f"{name}_decline_rate"] = rate
        if name in HOLDOUTS:
            why, note = _holdout_verdict(spec, y, values, check, declines)
            reasons += [f"{name}: {r}" for r in why]
            notes += [f"{name}: {n}" for n in note]
    return metrics, tables, reasons, notes


def _holdout_verdict(
    spec: Spec, y: np.ndarray, values: dict[str, float], check: CalibrationCheck, declines: list[str]
) -> tuple[list[str], list[str]]:
    """A holdout's reasons (minima and maxima, decline rate, calibration) and notes; a holdout too small to
    judge fails closed and says so."""
    too_small = evaluate.judgeable(y)
    if too_small:
        return [too_small], []
    performance = spec.policy.performance
    _, reasons = evaluate.performance_verdict(values, performance.minimum, performance.maximum)
    miscalibrated, notes = calibration_verdict(check, spec.policy.calibration)
    return reasons + declines + miscalibrated, notes


def _figures(labels, scores, baseline, tables, main: str) -> dict[str, Any]:
    roc_inputs = {f"xgboost {n}": (labels[n], scores[n]) for n in labels}
    roc_inputs[f"logistic baseline {main}"] = (labels[main], baseline[main])
    return {
        "roc.png": plots.roc_figure(roc_inputs),
        "ks.png": plots.ks_figure(labels[main], scores[main]),
        "calibration.png": plots.calibration_figure({n: tables[f"calibration_{n}"] for n in labels}),
        "gains.png": plots.gains_figure({n: tables[f"deciles_{n}"] for n in labels}),
    }
