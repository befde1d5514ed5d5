"""The mitigated challenger within the evaluation: whether it is wanted, its job, and its verdict beside the original.

Apart from `pipelines/training/evaluation.py` so that the evaluation reads as the list of what is measured; the
reduction itself is `mitigation.py`, its process `challenger_process.py`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from features.errors import CreditflowError
from features.spec import Spec
from features.tuning_spec import XGBoostParams
from pipelines.gates.fairness import FairnessResult, fairness_gate
from pipelines.training.challenger_process import ChallengerWorker
from pipelines.training.mitigation import (
    CHALLENGER_CUTOFF,
    ChallengerJob,
    ChallengerReport,
    challenger_label,
    challenger_rows,
    compare,
    train_challenger,
)
from pipelines.training.workflow import Candidate, Prepared


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


def challenger_job(prepared: Prepared, model_input: pd.DataFrame, params: XGBoostParams, trees: int) -> ChallengerJob:
    """`train_challenger`'s arguments for a candidate fitted on `model_input` with `params` and `trees` trees. The rows
    it is fitted on are chosen here, so that a worker process is sent only those."""
    spec, checked, split = prepared.spec, prepared.checked, prepared.split
    settings = spec.policy.fairness.mitigation
    train = split.train[challenger_rows(len(split.train), settings=settings, seed=spec.tuning.seed)]
    return ChallengerJob(
        model_input=model_input.iloc[train],
        target=checked.target[train],
        sensitive=checked.sensitive.iloc[train],
        params=params,
        trees=trees,
        monotone=spec.features.monotone_vector(),
        cutoff=spec.policy.cutoff,
        settings=settings,
        seed=spec.tuning.seed,
    )


def judged_challenger(
    prepared: Prepared,
    candidate: Candidate,
    scores: dict[str, np.ndarray],
    fairness: FairnessResult,
    worker: ChallengerWorker | None,
) -> ChallengerReport:
    """The mitigated challenger (trained in `worker` when given: sent there already, or now), judged on the main
    holdout beside the original."""
    spec, checked, split = prepared.spec, prepared.checked, prepared.split
    settings = spec.policy.fairness.mitigation
    holdout = split.samples()[split.main]
    fitted = (candidate.model_input, candidate.params, candidate.booster.num_boosted_rounds())
    try:
        if worker is None:
            challenger = train_challenger(**challenger_job(prepared, *fitted))
        else:
            if not worker.submitted:
                worker.submit(challenger_job(prepared, *fitted))
            challenger = worker.result(challenger_label(settings, min(len(split.train), settings.max_rows)))
    except ValueError as exc:
        raise CreditflowError(f"policy.fairness.mitigation: {exc}") from None
    share = challenger.decline_share(candidate.model_input.iloc[holdout])
    judged = fairness_gate(
        checked.target[holdout],
        share,
        sensitive=checked.sensitive.iloc[holdout],
        cutoff=CHALLENGER_CUTOFF,
        policy=spec.policy.fairness,
        seed=spec.tuning.seed,
    )
    table = compare(
        checked.target[holdout],
        scores[split.main],
        cutoff=spec.policy.cutoff,
        original=fairness,
        challenger_share=share,
        challenger=judged,
    )
    return ChallengerReport(challenger, judged, table, split.main)
