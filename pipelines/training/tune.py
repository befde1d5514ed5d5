"""Optuna tuning of the XGBoost credit model: the study (identity, resumption, parent runs), sampler, pruner and
objective. Where studies live (storage) is pipelines/training/study_storage.py.

No MLflow here: trial results reach MLflow through a callback that the caller wires to the
tracking adapter. Data is loaded, validated, split and turned into matrices once, outside the
objective; each trial only trains.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import replace
from typing import Any, Callable, Protocol

import optuna
import xgboost as xgb
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from features.spec import Spec
from features.target import as_list
from features.tuning_spec import INTEGER_PARAMS, XGBoostParams
from pipelines.core.tags import OWNER
from pipelines.owner import owner_is_dead, owner_token
from pipelines.runtime import SMALL_DATA_ROWS
from pipelines.training.study_storage import StudyRef, TuningError, open_storage
from pipelines.training.train import RoundProgress, best_score, fit_booster
from pipelines.training.workflow import Prepared

PARENT_RUN_ATTR = "mlflow_parent_run_id"  # the latest parent run
PARENT_RUNS_ATTR = "mlflow_parent_run_ids"  # every parent run that used the study, oldest first
TRACKING_ATTR = "mlflow_tracking_uri"
FINGERPRINT_ATTR = "creditflow_fingerprint"
IDENTITY_ATTR = "creditflow_identity"  # digest per part (data, features, target, split, ...), to say what changed
FINISHED = (optuna.trial.TrialState.COMPLETE, optuna.trial.TrialState.PRUNED)
PRUNING_MIN_ROWS = 10_000  # training rows from which Optuna pruning pays for its storage round trips

log = logging.getLogger("creditflow")


def study_identity(prepared: Prepared) -> dict[str, str]:
    """A digest per part of what the objective depends on: two studies are comparable only if all agree."""
    spec = prepared.spec
    parts = {
        "data": prepared.data.digest,
        "features": spec.features.model_dump(include={"numeric", "categorical", "monotone"}),
        "target": [spec.data.target, as_list(spec.data.positive), spec.data.negative],
        "split": [spec.split.model_dump(), spec.data.time],
        "search space": {k: v.model_dump() for k, v in sorted(spec.tuning.space.items())},
        "fixed params": spec.tuning.params.model_dump(exclude={"nthread"}),
        "metric": spec.tuning.metric,
        "seed": spec.tuning.seed,
    }
    return {
        k: hashlib.sha256(json.dumps(v, sort_keys=True, default=str).encode()).hexdigest()[:12]
        for k, v in parts.items()
    }


def fingerprint(identity: dict[str, str]) -> str:
    return hashlib.sha256(json.dumps(identity, sort_keys=True).encode()).hexdigest()[:16]


class _Attributed(Protocol):
    """A study as storage or Optuna hands it out (`Study`, `StudySummary`, the storage's `FrozenStudy`)."""

    @property
    def user_attrs(self) -> dict[str, Any]: ...


def differences(stored: _Attributed, identity: dict[str, str]) -> str:
    """Which parts of the identity differ from a stored study's, for humans ("data, features")."""
    known = stored.user_attrs.get(IDENTITY_ATTR)
    if not isinstance(known, dict):
        return "spec (the study predates study fingerprints)"
    return ", ".join(k for k in identity if known.get(k) != identity[k]) or "spec"


def choose_study(prepared: Prepared, ref: StudyRef, storage: optuna.storages.RDBStorage) -> tuple[StudyRef, str | None]:
    """The study to tune: `ref` itself when it is new or was made for the same objective; otherwise a new study
    named `<name>-<fingerprint>` (resumed if it exists), and the one line that says so."""
    identity = study_identity(prepared)
    stored = {s.study_name: s for s in storage.get_all_studies()}
    if ref.name not in stored or stored[ref.name].user_attrs.get(FINGERPRINT_ATTR) == fingerprint(identity):
        return ref, None
    name = f"{ref.name}-{fingerprint(identity)[:8]}"
    verb = "resuming" if name in stored else "starting"
    line = (
        f"study '{ref.name}' was made for a different {differences(stored[ref.name], identity)}: {verb} study '{name}'"
    )
    return replace(ref, name=name), line


def load_or_create_study(
    prepared: Prepared,
    ref: StudyRef,
    *,
    sampler_seed_base: int = 0,
    storage: optuna.storages.RDBStorage | None = None,
) -> optuna.Study:
    """The study named `ref.name` (in `storage` when the caller opened it already), created if new; refused if it
    was made for another objective."""
    spec, identity = prepared.spec, study_identity(prepared)
    optuna.logging.set_verbosity(optuna.logging.WARNING)  # "Using an existing study" is said our way
    storage = storage or open_storage(ref)
    existing = {s.study_name: s for s in storage.get_all_studies()}
    if ref.name in existing and existing[ref.name].user_attrs.get(FINGERPRINT_ATTR) != fingerprint(identity):
        raise TuningError(
            f"study '{ref.name}' in {ref.storage_url} was made for a different "
            f"{differences(existing[ref.name], identity)}; choose another --study name, or leave --study out "
            "to start a new study"
        )
    done = len(storage.get_all_trials(existing[ref.name]._study_id)) if ref.name in existing else 0
    study = optuna.create_study(
        storage=storage,
        study_name=ref.name,
        direction=spec.tuning.direction,
        load_if_exists=True,
        sampler=make_sampler(spec, seed=spec.tuning.seed + sampler_seed_base + done),
        pruner=make_pruner(spec),
    )
    if ref.name not in existing:
        study.set_user_attr(FINGERPRINT_ATTR, fingerprint(identity))
        study.set_user_attr(IDENTITY_ATTR, identity)
        study.set_user_attr("sampler", spec.tuning.sampler.model_dump())
        study.set_metric_names([f"valid_{spec.tuning.metric}"])
    return study


def link_parent_run(study: optuna.Study, run_id: str, tracking_uri: str) -> None:
    """Record on the study every MLflow parent run that used it (the latest also alone, for resuming)."""
    runs = list(study.user_attrs.get(PARENT_RUNS_ATTR, []))
    study.set_user_attr(PARENT_RUNS_ATTR, [*runs, run_id] if run_id not in runs else runs)
    study.set_user_attr(PARENT_RUN_ATTR, run_id)
    try:  # never a password in the study's attributes
        shown = make_url(tracking_uri).render_as_string(hide_password=True)
    except ArgumentError:
        shown = tracking_uri
    study.set_user_attr(TRACKING_ATTR, shown)


def make_sampler(spec: Spec, *, seed: int) -> optuna.samplers.TPESampler:
    """TPE with every option explicit; the seed is offset by the trials already run, so a resumed
    process does not replay the start-up points of the first one."""
    options = spec.tuning.sampler
    return optuna.samplers.TPESampler(
        seed=seed,
        multivariate=options.multivariate,
        constant_liar=options.constant_liar,
        n_startup_trials=options.n_startup_trials,
    )


def make_pruner(spec: Spec) -> optuna.pruners.BasePruner:
    pruning = spec.tuning.pruning
    if not pruning.enabled:
        return optuna.pruners.NopPruner()
    return optuna.pruners.MedianPruner(n_startup_trials=pruning.startup_trials, n_warmup_steps=pruning.warmup_rounds)


def suggest_params(trial: optuna.Trial, spec: Spec) -> XGBoostParams:
    values: dict[str, int | float] = {}
    for name, bounds in spec.tuning.space.items():
        if name in INTEGER_PARAMS:
            values[name] = trial.suggest_int(name, int(bounds.low), int(bounds.high), log=bounds.log)
        else:
            values[name] = trial.suggest_float(name, bounds.low, bounds.high, log=bounds.log)
    return spec.tuning.params.model_copy(update=values)


def best_params(spec: Spec, study: optuna.Study) -> XGBoostParams:
    return spec.tuning.params.model_copy(update=study.best_params)


class PruningCallback(xgb.callback.TrainingCallback):
    """Reports the validation metric every `interval` boosting rounds and stops hopeless trials.

    Every report and pruning check is a round trip to the study's database; reporting each round
    made a SQLite-backed trial several times slower than the training itself.
    """

    def __init__(self, trial: optuna.Trial, metric: str, *, interval: int = 1):
        self.trial, self.metric, self.interval = trial, metric, interval

    def after_iteration(
        self, model: xgb.Booster, epoch: int, evals_log: xgb.callback.TrainingCallback.EvalsLog
    ) -> bool:
        if (epoch + 1) % self.interval:
            return False
        latest = evals_log["valid"][self.metric][-1]  # a (mean, std) pair only under xgboost.cv, which is not used
        self.trial.report(float(latest[0] if isinstance(latest, tuple) else latest), step=epoch)
        if self.trial.should_prune():
            self.trial.set_user_attr("n_trees", epoch + 1)
            raise optuna.TrialPruned(f"pruned at round {epoch}")
        return False


def pruning_active(spec: Spec, train_rows: int) -> bool:
    """Whether trials report to the pruner: only when the spec enables it and the data is large enough that a
    trial's rounds cost more than the pruner's storage round trips (below PRUNING_MIN_ROWS a whole trial takes
    about as long as a few reports; measured on German Credit, 600 rows: pruning made the study slower)."""
    return spec.tuning.pruning.enabled and train_rows >= PRUNING_MIN_ROWS


def make_objective(
    spec: Spec, train: xgb.DMatrix, valid: xgb.DMatrix, *, nthread: int, progress: Any = None
) -> Callable[[optuna.Trial], float]:
    """The objective: the spec's metric on the validation sample, with early stopping and (on data large enough
    for it to pay) pruning; on large data each round is noted on the `progress` line."""
    monotone, metric = spec.features.monotone_vector(), spec.tuning.metric
    prune = pruning_active(spec, train.num_row())
    rounds_shown = progress is not None and train.num_row() >= SMALL_DATA_ROWS

    def objective(trial: optuna.Trial) -> float:
        trial.set_user_attr(OWNER, owner_token())  # so a re-run can fail this trial at once if we are killed
        params = suggest_params(trial, spec).model_copy(update={"nthread": nthread})
        callbacks: list[xgb.callback.TrainingCallback] = (
            [PruningCallback(trial, metric, interval=spec.tuning.pruning.interval)] if prune else []
        )
        if rounds_shown:
            callbacks.append(RoundProgress(progress, step=0, prefix=f"trial {trial.number} "))
        booster = fit_booster(
            train, valid, params, monotone=monotone, seed=spec.tuning.seed, metric=metric, callbacks=callbacks
        )
        trial.set_user_attr("n_trees", booster.num_boosted_rounds())
        return best_score(booster)

    return objective


def progress_line(name: str, done: int, wanted: int) -> str:
    """Where a study stands before this invocation: what is left to run, or that nothing is and how to add more."""
    if done >= wanted:
        return f"study '{name}': {done} of {wanted} trials done; nothing to run (--trials {done + 10} adds 10 more)"
    return f"study '{name}': {done} of {wanted} trials done, {wanted - done} to run"


def fail_dead_trials(study: optuna.Study, ref: StudyRef) -> int:
    """Fail the RUNNING trials whose process is known to be dead (killed on this host); how many.

    Optuna's heartbeat check fails a killed trial only once its grace period has passed; a re-run right
    after a kill would otherwise count it as running and stop one trial short of the requested total.
    The objective names its process first thing; a trial killed in the instant before that (and before its
    first heartbeat, which Optuna's check also needs) stays RUNNING: `optuna` cannot tell it from a live one."""
    running = study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.RUNNING,))
    dead = [t for t in running if owner_is_dead(t.user_attrs.get(OWNER))]
    if not dead:
        return 0
    storage = open_storage(ref)
    study_id = storage.get_study_id_from_name(ref.name)
    for trial in dead:
        trial_id = storage.get_trial_id_from_study_id_trial_number(study_id, trial.number)
        try:
            storage.set_trial_state_values(trial_id, state=optuna.trial.TrialState.FAIL)
        except optuna.exceptions.UpdateFinishedTrialError:
            continue  # failed by the heartbeat check meanwhile
        log.info("trial %d failed: the process running it is gone", trial.number)
    return len(dead)


def finished_trials(study: optuna.Study) -> int:
    return len(study.get_trials(deepcopy=False, states=FINISHED))
