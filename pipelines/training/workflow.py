"""The pipeline's steps in order: prepare (load, contract, split), train, evaluate.

Each step is a pure function of the previous step's result; `pipelines/steps_log.py` records
them in MLflow. Nothing here touches the tracking store, so a failing contract writes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import xgboost as xgb

from features.contract import CheckedData, check_contract
from features.data import LoadedData, load_data
from features.errors import CreditflowError
from features.spec import Spec, XGBoostParams, load_spec, spec_digest
from features.split import Split, split_rows
from features.transform import FeatureTransform
from pipelines.gates import performance as evaluate
from pipelines.gates.fairness import FairnessResult, fairness_gate, proxy_candidates
from pipelines.gates.stability import StabilityResult, stability_gate
from pipelines.reports import plots
from pipelines.scoring.reasons import ReasonBaseline, contributions, fit_baseline, top_reasons
from pipelines.scoring.reasons import agreement as reason_agreement
from pipelines.scoring.scorer import Scorer
from pipelines.training.logistic_benchmark import fit_logistic_baseline, predict_baseline
from pipelines.training.mitigation import CHALLENGER_CUTOFF, ChallengerReport, compare, train_challenger
from pipelines.training.train import fit_booster, predict_pd, to_dmatrix

HOLDOUTS = ("test", "oot")  # samples the performance policy is judged on
BASELINE_ROWS = 5_000  # training applicants averaged into the reason-code baseline
EXPLAIN_ROWS = 2_000  # holdout applicants for global importance and the exact-vs-fast agreement


@dataclass(frozen=True)
class Prepared:
    spec: Spec
    spec_path: Path
    spec_digest: str
    data: LoadedData
    checked: CheckedData
    split: Split


@dataclass(frozen=True)
class Candidate:
    transform: FeatureTransform
    params: XGBoostParams
    booster: xgb.Booster
    model_input: pd.DataFrame  # every row, transformed once
    baseline: ReasonBaseline  # the applicant reason codes are measured against

    def scorer(self, spec: Spec) -> Scorer:
        return Scorer(self.booster, self.transform, spec.policy.cutoff, self.baseline, dict(spec.reasons))


@dataclass
class Evaluation:
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

    @property
    def fairness_passed(self) -> bool:
        return self.fairness is not None and self.fairness.verdict.passed

    def gates(self) -> dict[str, bool]:
        return {"performance": self.passed, "stability": self.stability.passed, "fairness": self.fairness_passed}


def prepare(spec_path: str | Path) -> Prepared:
    """Load the spec and its data, enforce the data contract and split; raises on bad input."""
    spec_path = Path(spec_path)
    spec = load_spec(spec_path)
    loaded = load_data(spec, spec_path)
    checked = check_contract(loaded.frame, spec)
    split = split_rows(checked.target, spec.split, checked.time)
    return Prepared(spec, spec_path, spec_digest(spec_path), loaded, checked, split)


def fit_transform(prepared: Prepared) -> tuple[FeatureTransform, pd.DataFrame]:
    """The feature transform fitted on training rows only, and every row transformed once."""
    spec, checked = prepared.spec, prepared.checked
    transform = FeatureTransform(spec.features.numeric, spec.features.categorical)
    transform.fit(checked.features.iloc[prepared.split.train])
    return transform, transform.transform(checked.features)


def train_valid_matrices(
    prepared: Prepared, model_input: pd.DataFrame, nthread: int
) -> tuple[xgb.DMatrix, xgb.DMatrix]:
    split, target = prepared.split, prepared.checked.target
    return (
        to_dmatrix(model_input.iloc[split.train], target[split.train], nthread),
        to_dmatrix(model_input.iloc[split.valid], target[split.valid], nthread),
    )


def train_candidate(prepared: Prepared, params: XGBoostParams | None = None) -> Candidate:
    """Fit the transform, then the booster with early stopping on validation (spec params by default)."""
    spec = prepared.spec
    params = params or spec.tuning.params
    transform, model_input = fit_transform(prepared)
    train, valid = train_valid_matrices(prepared, model_input, params.nthread)
    booster = fit_booster(train, valid, params, spec.features.monotone_vector(), spec.tuning.seed, spec.tuning.metric)
    return Candidate(transform, params, booster, model_input, _reason_baseline(prepared, booster, model_input))


def _reason_baseline(prepared: Prepared, booster: xgb.Booster, model_input: pd.DataFrame) -> ReasonBaseline:
    """The baseline applicant, from (a seeded sample of) the training rows."""
    policy, train = prepared.spec.policy, prepared.split.train
    rows = np.random.default_rng(prepared.spec.tuning.seed).permutation(train)[:BASELINE_ROWS]
    try:
        return fit_baseline(
            booster, model_input.iloc[np.sort(rows)], method=policy.reason_baseline, cutoff=policy.cutoff
        )
    except ValueError as exc:
        raise CreditflowError(f"policy.reason_baseline: {exc}") from None


def evaluate_candidate(prepared: Prepared, candidate: Candidate) -> Evaluation:
    """Metrics, tables and plots per sample, the logistic baseline, and the performance verdict."""
    spec, checked = prepared.spec, prepared.checked
    samples = {k: v for k, v in prepared.split.samples().items() if k != "train"}
    scores = {name: predict_pd(candidate.booster, candidate.model_input.iloc[rows]) for name, rows in samples.items()}
    labels = {name: checked.target[rows] for name, rows in samples.items()}
    baseline = _baseline_scores(prepared, samples)

    metrics: dict[str, float] = {"best_iteration": float(candidate.booster.num_boosted_rounds())}
    tables, passed, reasons = {}, True, []
    for name in samples:
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

    warnings = []
    for name in samples:
        leak = evaluate.leak_check(
            metrics[f"{name}_auc"], metrics[f"baseline_{name}_auc"], spec.policy.performance.max_baseline_uplift
        )
        if leak:
            warnings.append(f"{name}: {leak}")
    figures = _figures(labels, scores, baseline, tables, prepared.split.main)
    stability = _stability(prepared, candidate, scores)
    metrics.update(stability.metrics)
    importance, agreement_metrics = _explanations(prepared, candidate)
    metrics.update(agreement_metrics)
    tables["importance"] = importance
    figures["importance.png"] = plots.importance_figure(importance)
    fairness, proxies = _fairness(prepared, scores)
    if fairness is not None:
        metrics.update(fairness.metrics())
    challenger = _challenger(prepared, candidate, fairness, scores)
    if challenger is not None:
        metrics.update(challenger.metrics())
    return Evaluation(
        metrics,
        tables,
        figures,
        passed,
        reasons,
        warnings,
        prepared.split.main,
        stability,
        fairness,
        proxies,
        challenger,
    )


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
    prepared: Prepared, candidate: Candidate, fairness: FairnessResult | None, scores: dict[str, np.ndarray]
) -> ChallengerReport | None:
    """The mitigated challenger on the main holdout, when the spec switches it on (and the gate failed)."""
    spec, checked, split = prepared.spec, prepared.checked, prepared.split
    settings = spec.policy.fairness.mitigation
    if fairness is None or not settings.enabled or (settings.when == "failed" and fairness.verdict.passed):
        return None
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
