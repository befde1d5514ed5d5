"""The pipeline's first steps: prepare (load, contract, split) and train; evaluation follows in
`pipelines/training/evaluation.py`.

Each step is a pure function of the previous step's result; `pipelines/evidence/record.py` records
them in MLflow. Nothing here touches the tracking store, so a failing contract writes nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import pandas as pd
import xgboost as xgb

from features.contract import CheckedData, check_contract, drop_unlabelled
from features.data import LoadedData, load_data
from features.errors import CreditflowError
from features.policy import PolicySource
from features.spec import Spec, load_spec, spec_digest
from features.split import Split, split_rows
from features.transform import FeatureTransform
from features.tuning_spec import XGBoostParams
from pipelines.gates.leakage import LeakageResult, screen_data
from pipelines.progress import Progress
from pipelines.runtime import SMALL_DATA_ROWS, xgboost_threads
from pipelines.scoring.decision import ReferRule, refer_rule
from pipelines.scoring.reasons import ReasonBaseline, fit_baseline
from pipelines.scoring.scorer import Scorer
from pipelines.training.train import RoundProgress, fit_booster, to_dmatrix

BASELINE_ROWS = 5_000  # training applicants averaged into the reason-code baseline


@dataclass(frozen=True)
class Prepared:
    spec: Spec
    spec_path: Path
    spec_digest: str
    data: LoadedData
    checked: CheckedData
    split: Split
    leakage: LeakageResult = field(default_factory=LeakageResult)  # the screen that runs before training
    dropped: dict[str, int] = field(default_factory=dict)  # rows whose outcome is neither positive nor negative


@dataclass(frozen=True)
class Candidate:
    transform: FeatureTransform
    params: XGBoostParams
    booster: xgb.Booster
    model_input: pd.DataFrame  # every row, transformed once
    baseline: ReasonBaseline  # the applicant reason codes are measured against
    threads: int = 1  # XGBoost threads the booster was trained with (pipelines/runtime.py)

    def scorer(self, spec: Spec, train: pd.DataFrame | None = None) -> Scorer:
        """The scorer under the spec's decision rule; with the training rows, the rule's training ranges too."""
        rule = spec_refer_rule(spec, train)
        return Scorer(self.booster, self.transform, spec.policy.cutoff, self.baseline, dict(spec.reasons), rule)


def spec_refer_rule(spec: Spec, train: pd.DataFrame | None = None) -> ReferRule | None:
    """The refer rule of the spec's policy; `out_of_range` takes each numeric feature's range on `train`."""
    refer = spec.policy.refer
    ranges = {}
    if refer.out_of_range and train is not None:
        for name in spec.features.numeric:
            values = pd.to_numeric(train[name], errors="coerce").dropna()
            if len(values):
                ranges[name] = (float(values.min()), float(values.max()))
    thin = (refer.thin_file.feature, refer.thin_file.below) if refer.thin_file else None
    return refer_rule(spec.policy.cutoff, below=refer.below, above=refer.above, thin_file=thin, ranges=ranges)


def prepare(spec_path: str | Path, *, policies: PolicySource | None = None) -> Prepared:
    """Load the spec (its governed policy from `policies`, else the files beside it) and its data, drop rows
    without an outcome, enforce the data contract, split, and screen the features for leakage; raises on bad
    input."""
    spec_path = Path(spec_path)
    spec = load_spec(spec_path, policies)
    loaded = load_data(spec, spec_path)
    frame, dropped = drop_unlabelled(loaded.frame, spec)
    loaded = replace(loaded, frame=frame)  # row positions of every later step refer to the kept rows
    checked = check_contract(loaded.frame, spec, loaded.unread)
    split = split_rows(checked.target, spec.split, checked.time)
    leakage = screen_data(
        checked.features.iloc[split.train],
        checked.target[split.train],
        checked.features.iloc[split.valid],
        checked.target[split.valid],
        policy=spec.policy.leakage,
        reviewed=spec.features.reviewed,
        seed=spec.split.seed,
        reasons=dict(spec.reasons),
    )
    return Prepared(spec, spec_path, spec_digest(spec_path), loaded, checked, split, leakage, dropped)


def fit_transform(prepared: Prepared) -> tuple[FeatureTransform, pd.DataFrame]:
    """The feature transform fitted on training rows only, and every row transformed once."""
    spec, checked = prepared.spec, prepared.checked
    transform = FeatureTransform(spec.features.numeric, spec.features.categorical)
    transform.fit(checked.features.iloc[prepared.split.train])
    return transform, transform.transform(checked.features)


def train_valid_matrices(
    prepared: Prepared, model_input: pd.DataFrame, *, nthread: int
) -> tuple[xgb.DMatrix, xgb.DMatrix]:
    split, target = prepared.split, prepared.checked.target
    return (
        to_dmatrix(model_input.iloc[split.train], target[split.train], nthread=nthread),
        to_dmatrix(model_input.iloc[split.valid], target[split.valid], nthread=nthread),
    )


def train_candidate(
    prepared: Prepared,
    *,
    params: XGBoostParams | None = None,
    fitted: Callable[[pd.DataFrame, XGBoostParams, xgb.Booster], None] | None = None,
) -> Candidate:
    """Fit the transform, then the booster with early stopping on validation (spec params by default). `fitted` is
    called with the model input, params and booster as soon as the booster is fitted (the run sends the challenger
    its job then), before the reason-code baseline is computed."""
    spec = prepared.spec
    params = params or spec.tuning.params
    threads = xgboost_threads(len(prepared.split.train), params.nthread)
    transform, model_input = fit_transform(prepared)
    train, valid = train_valid_matrices(prepared, model_input, nthread=threads)
    # rounds on large data take seconds each: show them; on small data the whole fit takes a moment
    large = len(prepared.split.train) >= SMALL_DATA_ROWS
    with Progress("training", params.max_rounds, "rounds") if large else nullcontext() as progress:
        booster = fit_booster(
            train,
            valid,
            params.model_copy(update={"nthread": threads}),
            monotone=spec.features.monotone_vector(),
            seed=spec.tuning.seed,
            metric=spec.tuning.metric,
            callbacks=[RoundProgress(progress)] if progress else None,
        )
        if progress:
            progress.close(f"{booster.num_boosted_rounds()} trees kept")
    if fitted is not None:
        fitted(model_input, params, booster)
    baseline = _reason_baseline(prepared, booster, model_input)
    return Candidate(transform, params, booster, model_input, baseline, threads)


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
