"""What is measured of a trained candidate for the gates to judge: its PD on every sample, the logistic baseline's
PD, global importance, and how well the fast reasons agree with the exact ones. Pure: data in, results out;
`pipelines/training/evaluation.py` puts them in the gates' context (pipelines/gates/gate.py)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from pipelines.gates.gate import GateContext
from pipelines.scoring.decision import declined
from pipelines.scoring.reasons import contributions, measured_agreement
from pipelines.training.logistic_benchmark import fit_logistic_baseline, predict_baseline
from pipelines.training.train import predict_pd
from pipelines.training.workflow import Candidate, Prepared

EXPLAIN_ROWS = 2_000  # holdout applicants for global importance and the exact-vs-fast agreement


def gate_context(prepared: Prepared, candidate: Candidate) -> GateContext:
    """The gates' context: the candidate's PD on every holdout now (every gate reads it), the rest on first use."""
    samples = {k: v for k, v in prepared.split.samples().items() if k != "train"}
    rows = explained_rows(prepared)
    return GateContext(
        spec=prepared.spec,
        checked=prepared.checked,
        split=prepared.split,
        scores={name: predict_pd(candidate.booster, candidate.model_input.iloc[r]) for name, r in samples.items()},
        screen=prepared.leakage,
        train_scores=lambda: predict_pd(candidate.booster, candidate.model_input.iloc[prepared.split.train]),
        baseline=lambda: baseline_scores(prepared, samples),
        importance=lambda: global_importance(candidate, candidate.model_input.iloc[rows]),
    )


def explained_rows(prepared: Prepared) -> np.ndarray:
    """A sample of the main holdout's rows (sorted) for global importance and the reasons' agreement."""
    split = prepared.split
    holdout = split.samples()[split.main]
    return np.sort(np.random.default_rng(prepared.spec.tuning.seed).permutation(holdout)[:EXPLAIN_ROWS])


def global_importance(candidate: Candidate, sample: pd.DataFrame) -> pd.DataFrame:
    """Mean |exact contribution| per feature on `sample`, largest first."""
    exact = contributions(candidate.booster, sample, exact=True)
    importance = pd.DataFrame({"feature": list(sample.columns), "mean_abs_contribution": np.abs(exact).mean(axis=0)})
    return importance.sort_values("mean_abs_contribution", ascending=False, ignore_index=True)


def reasons_agreement(prepared: Prepared, candidate: Candidate) -> dict[str, float]:
    """How well Saabas reasons agree with exact ones for the explained sample's declined applicants (the only ones
    given reasons)."""
    sample = candidate.model_input.iloc[explained_rows(prepared)]
    declined_rows = declined(predict_pd(candidate.booster, sample), prepared.spec.policy.cutoff)
    agreement = measured_agreement(
        candidate.booster, sample[declined_rows], candidate.baseline, dict(prepared.spec.reasons)
    )
    metrics = {f"reasons_fast_agreement_{k}": v for k, v in agreement.items()}
    metrics["reasons_fast_agreement_rows"] = float(declined_rows.sum())
    return metrics


def baseline_scores(prepared: Prepared, samples: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    spec, checked, train = prepared.spec, prepared.checked, prepared.split.train
    model = fit_logistic_baseline(
        checked.features.iloc[train],
        checked.target[train],
        numeric=spec.features.numeric,
        categorical=spec.features.categorical,
        seed=spec.tuning.seed,
    )
    return {name: predict_baseline(model, checked.features.iloc[rows]) for name, rows in samples.items()}
