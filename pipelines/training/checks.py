"""The evaluation's checks beside performance: the logistic baseline's scores, stability, explanations (global
importance and the fast reasons' agreement), the leakage screen's model checks and fairness with its proxies. Pure:
data in, results out; `pipelines/training/evaluation.py` runs them in order and assembles the Evaluation."""

from __future__ import annotations

import numpy as np
import pandas as pd

from pipelines.gates.fairness import FairnessResult, fairness_gate, proxy_candidates
from pipelines.gates.leakage import LeakageResult, screen_model
from pipelines.gates.stability import StabilityResult, stability_gate
from pipelines.scoring.decision import declined
from pipelines.scoring.reasons import contributions, measured_agreement
from pipelines.training.logistic_benchmark import fit_logistic_baseline, predict_baseline
from pipelines.training.train import predict_pd
from pipelines.training.workflow import Candidate, Prepared

HOLDOUTS = ("test", "oot")  # samples the performance policy is judged on
EXPLAIN_ROWS = 2_000  # holdout applicants for global importance and the exact-vs-fast agreement


def leakage_check(prepared: Prepared, importance: pd.DataFrame, metrics: dict[str, float]) -> LeakageResult:
    """The screen run before training, completed with the model's checks (contribution share, baseline uplift)."""
    spec, main = prepared.spec, prepared.split.main
    return screen_model(
        prepared.leakage,
        importance,
        metrics[f"{main}_auc"] - metrics[f"baseline_{main}_auc"],
        spec.policy.performance.max_baseline_uplift,
        spec.policy.leakage,
        spec.features.reviewed,
    )


def fairness_check(
    prepared: Prepared, scores: dict[str, np.ndarray]
) -> tuple[FairnessResult | None, pd.DataFrame | None]:
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


def explanations(prepared: Prepared, candidate: Candidate) -> tuple[pd.DataFrame, dict[str, float]]:
    """Global importance (mean |exact contribution|) on a holdout sample, and how well Saabas reasons agree with
    exact ones for the sample's declined applicants (the only ones given reasons)."""
    split = prepared.split
    holdout = split.samples()[split.main]
    rows = np.sort(np.random.default_rng(prepared.spec.tuning.seed).permutation(holdout)[:EXPLAIN_ROWS])
    sample = candidate.model_input.iloc[rows]
    exact = contributions(candidate.booster, sample, exact=True)
    importance = pd.DataFrame({"feature": list(sample.columns), "mean_abs_contribution": np.abs(exact).mean(axis=0)})
    importance = importance.sort_values("mean_abs_contribution", ascending=False, ignore_index=True)
    declined_rows = declined(predict_pd(candidate.booster, sample), prepared.spec.policy.cutoff)
    agreement = measured_agreement(
        candidate.booster, sample[declined_rows], candidate.baseline, dict(prepared.spec.reasons)
    )
    metrics = {f"reasons_fast_agreement_{k}": v for k, v in agreement.items()}
    metrics["reasons_fast_agreement_rows"] = float(declined_rows.sum())
    return importance, metrics


def stability_check(prepared: Prepared, candidate: Candidate, scores: dict[str, np.ndarray]) -> StabilityResult:
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


def baseline_scores(prepared: Prepared, samples: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    spec, checked, train = prepared.spec, prepared.checked, prepared.split.train
    model = fit_logistic_baseline(
        checked.features.iloc[train],
        checked.target[train],
        spec.features.numeric,
        spec.features.categorical,
        seed=spec.tuning.seed,
    )
    return {name: predict_baseline(model, checked.features.iloc[rows]) for name, rows in samples.items()}
