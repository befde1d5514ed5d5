"""Optuna tuning of the XGBoost credit model: storage, study, sampler, pruner and objective.

No MLflow here: trial results reach MLflow through a callback that the caller wires to the
tracking adapter. Data is loaded, validated, split and turned into matrices once, outside the
objective; each trial only trains.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import optuna
import xgboost as xgb
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError

from features.errors import CreditflowError
from features.spec import INTEGER_PARAMS, Spec, XGBoostParams
from pipelines.training.train import best_score, fit_booster

PARENT_RUN_ATTR = "mlflow_parent_run_id"
FINGERPRINT_ATTR = "creditflow_fingerprint"
FINISHED = (optuna.trial.TrialState.COMPLETE, optuna.trial.TrialState.PRUNED)

log = logging.getLogger("creditflow")


class TuningError(CreditflowError):
    """Bad tuning input: storage, study or budget."""


@dataclass(frozen=True)
class StudyRef:
    """Where a study lives; picklable, so worker processes can open it too."""

    storage_url: str
    name: str
    heartbeat_seconds: int


def default_storage_url(tracking_uri: str) -> str:
    """A SQLite file beside a local SQLite tracking store, else ./optuna.db."""
    if tracking_uri.startswith("sqlite:///"):
        database = Path(tracking_uri.removeprefix("sqlite:///")).resolve()
        return f"sqlite:///{database.parent / 'optuna.db'}"
    return f"sqlite:///{Path('optuna.db').resolve()}"


def open_storage(ref: StudyRef) -> optuna.storages.RDBStorage:
    """RDB storage with heartbeats, so a killed trial is failed instead of RUNNING forever, and run again
    (the same parameters, at most twice) by whichever worker finds it stale: on SQLite beside one machine's
    store, or on PostgreSQL shared by workers on several machines (team mode)."""
    try:
        url = make_url(ref.storage_url)
    except ArgumentError:
        raise TuningError(f"malformed storage URL: {ref.storage_url}") from None
    if url.drivername.startswith("sqlite") and url.database and not Path(url.database).parent.is_dir():
        raise TuningError(f"storage folder does not exist: {Path(url.database).parent}")
    if url.drivername == "postgresql":
        url = url.set(drivername="postgresql+psycopg2")  # SQLAlchemy 2.1 would pick psycopg 3, which we do not ship
    try:
        return optuna.storages.RDBStorage(
            url.render_as_string(hide_password=False),
            heartbeat_interval=ref.heartbeat_seconds,
            grace_period=2 * ref.heartbeat_seconds,
            heartbeat_stale_trial_callback=optuna.storages.RetryHeartbeatStaleTrialCallback(max_retry=2),
        )
    except (SQLAlchemyError, ImportError, ValueError) as exc:
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise TuningError(f"cannot open Optuna storage {url.render_as_string(hide_password=True)}: {reason}") from None


def fingerprint(spec: Spec) -> str:
    """What makes two studies comparable: the spec's name, metric, search space and fixed params."""
    content = {
        "name": spec.name,
        "metric": spec.tuning.metric,
        "space": {k: v.model_dump() for k, v in sorted(spec.tuning.space.items())},
        "params": spec.tuning.params.model_dump(exclude={"nthread"}),
    }
    return hashlib.sha256(json.dumps(content, sort_keys=True).encode()).hexdigest()[:16]


def load_or_create_study(spec: Spec, ref: StudyRef, sampler_seed_base: int = 0) -> optuna.Study:
    """The study named `ref.name`, created if new; refused if it belongs to another spec or space."""
    storage = open_storage(ref)
    existing = {s.study_name: s for s in storage.get_all_studies()}
    if ref.name in existing and existing[ref.name].user_attrs.get(FINGERPRINT_ATTR) != fingerprint(spec):
        raise TuningError(
            f"study '{ref.name}' in {ref.storage_url} was made for a different spec or search "
            "space; choose another --study name"
        )
    done = len(storage.get_all_trials(existing[ref.name]._study_id)) if ref.name in existing else 0
    study = optuna.create_study(
        storage=storage,
        study_name=ref.name,
        direction=spec.tuning.direction,
        load_if_exists=True,
        sampler=make_sampler(spec, spec.tuning.seed + sampler_seed_base + done),
        pruner=make_pruner(spec),
    )
    if ref.name not in existing:
        study.set_user_attr(FINGERPRINT_ATTR, fingerprint(spec))
        study.set_user_attr("sampler", spec.tuning.sampler.model_dump())
    return study


def make_sampler(spec: Spec, seed: int) -> optuna.samplers.TPESampler:
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
    values = {}
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

    def __init__(self, trial: optuna.Trial, metric: str, interval: int = 1):
        self.trial, self.metric, self.interval = trial, metric, interval

    def after_iteration(self, model, epoch: int, evals_log) -> bool:
        if (epoch + 1) % self.interval:
            return False
        self.trial.report(float(evals_log["valid"][self.metric][-1]), step=epoch)
        if self.trial.should_prune():
            self.trial.set_user_attr("n_trees", epoch + 1)
            raise optuna.TrialPruned(f"pruned at round {epoch}")
        return False


def make_objective(spec: Spec, train: xgb.DMatrix, valid: xgb.DMatrix, nthread: int) -> Callable[[optuna.Trial], float]:
    """The objective: the spec's metric on the validation sample, with early stopping and pruning."""
    monotone, metric = spec.features.monotone_vector(), spec.tuning.metric

    def objective(trial: optuna.Trial) -> float:
        params = suggest_params(trial, spec).model_copy(update={"nthread": nthread})
        pruning = spec.tuning.pruning
        callbacks = [PruningCallback(trial, metric, pruning.interval)] if pruning.enabled else None
        booster = fit_booster(train, valid, params, monotone, spec.tuning.seed, metric, callbacks)
        trial.set_user_attr("n_trees", booster.num_boosted_rounds())
        return best_score(booster)

    return objective


def finished_trials(study: optuna.Study) -> int:
    return len(study.get_trials(deepcopy=False, states=FINISHED))
