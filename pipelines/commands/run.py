"""`creditflow run`, `tune` and `train`: load and check the spec and data, (tune,) train, evaluate, log, register."""

from __future__ import annotations

import logging
import sys
import time
from dataclasses import dataclass

import click
import optuna

from features.errors import CreditflowError
from pipelines.commands.options import tracking_option, tuning_options
from pipelines.evidence.record import record_model_card, record_training, register_candidate
from pipelines.evidence.study import record_study
from pipelines.tracking import Tracker
from pipelines.tracking.trials import TrialSink, sync_trials
from pipelines.training.evaluation import evaluate_candidate
from pipelines.training.tune import (
    PARENT_RUN_ATTR,
    PRUNING_MIN_ROWS,
    StudyRef,
    TuningError,
    best_params,
    default_storage_url,
    load_or_create_study,
    pruning_active,
)
from pipelines.training.tuning_session import Budget, check_budget, run_study
from pipelines.training.workflow import Prepared, prepare, train_candidate

log = logging.getLogger("creditflow")


@dataclass(frozen=True)
class TuneOptions:
    """Command-line overrides of the spec's tuning budget; None keeps the spec's value."""

    trials: int | None = None
    timeout: float | None = None
    storage: str | None = None
    study: str | None = None
    workers: int = 1
    required: bool = False  # `tune` must tune; `run` tunes only when the spec or --trials asks


def _tune_options(trials, timeout, storage, study, workers, required=False) -> TuneOptions:
    return TuneOptions(trials, timeout, storage, study, workers, required)


@click.command("run")
@click.argument("spec", type=click.Path(dir_okay=False))
@tracking_option
@tuning_options
@click.option("--strict", is_flag=True, help="Exit 1 when any gate failed (the version is still registered).")
def run_command(spec: str, tracking_uri: str | None, strict: bool, **tuning) -> None:
    """The whole pipeline on SPEC: validate, tune (if tuning.trials > 0), train, evaluate, register a
    version pending approval."""
    passed = run_pipeline(spec, tracking_uri, register=True, tune=_tune_options(**tuning))
    if strict and not passed:
        sys.exit(1)


@click.command("tune")
@click.argument("spec", type=click.Path(dir_okay=False))
@tracking_option
@tuning_options
def tune_command(spec: str, tracking_uri: str | None, **tuning) -> None:
    """Tune SPEC's model with Optuna (one nested run per trial), retrain the best trial, evaluate and log it."""
    run_pipeline(spec, tracking_uri, register=False, tune=_tune_options(**tuning, required=True))


@click.command("train")
@click.argument("spec", type=click.Path(dir_okay=False))
@tracking_option
def train_command(spec: str, tracking_uri: str | None) -> None:
    """Validate, train (with the spec's params, no tuning) and evaluate SPEC's model and log it, without
    registering it."""
    run_pipeline(spec, tracking_uri, register=False, tune=None)


def run_pipeline(spec_path: str, tracking_uri: str | None, register: bool, tune: TuneOptions | None) -> bool:
    """Validate, (tune,) train, evaluate and log SPEC; register a version if asked. Returns whether every gate passed.

    Every bad input (spec, data, tuning budget, storage, study) is refused before MLflow is written.
    """
    started = time.perf_counter()
    log.info("reading and checking the data of %s", spec_path)
    prepared = prepare(spec_path)
    sizes = ", ".join(f"{k} {len(v)}" for k, v in prepared.split.samples().items())
    log.info("data %s: %d rows (%s)", prepared.data.source, len(prepared.checked.target), sizes)
    tracker = Tracker(tracking_uri)
    plan = _tuning_plan(prepared, tracker.uri, tune)
    study = load_or_create_study(prepared.spec, plan[0]) if plan else None
    name = prepared.spec.name
    verb = "run" if register else ("tune" if plan else "train")
    tags = {"optuna.study": plan[0].name, "optuna.role": "study"} if plan else None
    with tracker.run(name, run_name=f"{name}-{verb}", tags=tags) as run:
        params = None
        if plan:
            params = _tune(tracker, prepared, study, *plan, run)
        candidate = train_candidate(prepared, params)
        log.info("trained %d trees", candidate.booster.num_boosted_rounds())
        evaluation = evaluate_candidate(prepared, candidate)
        log.info("logging the run's evidence and the model to MLflow")
        model_uri = record_training(run, prepared, candidate, evaluation)
        version = register_candidate(tracker, prepared, run.run_id, model_uri, evaluation) if register else None
        if version:
            record_model_card(tracker, run, prepared, evaluation, version)
    _report(name, tracker.uri, run.run_id, version, evaluation, time.perf_counter() - started)
    return all(evaluation.gates().values())


def _tuning_plan(prepared: Prepared, tracking_uri: str, tune: TuneOptions | None) -> tuple[StudyRef, Budget] | None:
    """The study and budget to tune with, or None to train the spec's params as they are."""
    spec = prepared.spec
    if tune is None:
        return None
    trials = spec.tuning.trials if tune.trials is None else tune.trials
    if tune.trials is None and trials == 0:
        if tune.required:
            raise TuningError("no trial budget: set tuning.trials in the spec or pass --trials")
        return None  # `run` on a spec that asks for no tuning
    budget = Budget(trials, tune.timeout or spec.tuning.timeout, tune.workers)
    check_budget(budget)
    ref = StudyRef(
        tune.storage or default_storage_url(tracking_uri), tune.study or spec.name, spec.tuning.heartbeat_seconds
    )
    return ref, budget


def _tune(tracker: Tracker, prepared: Prepared, study, ref: StudyRef, budget: Budget, run):
    previous = study.user_attrs.get(PARENT_RUN_ATTR)
    if previous and previous != run.run_id and _no_running_trials(study):
        tracker.end_if_running(previous, "KILLED")  # its process died; the heartbeat check failed its trial
    study.set_user_attr(PARENT_RUN_ATTR, run.run_id)
    sink = TrialSink(tracker.uri, tracker.experiment_of(run.run_id), run.run_id, ref.name)
    pruning = "on" if pruning_active(prepared.spec, len(prepared.split.train)) else "off"
    if prepared.spec.tuning.pruning.enabled and pruning == "off":
        pruning += f" (below {PRUNING_MIN_ROWS:,} training rows a trial costs less than its pruning reports)"
    log.info(
        "study '%s' in %s: %d trials wanted, %d workers, pruning %s",
        ref.name,
        ref.storage_url,
        budget.trials,
        budget.workers,
        pruning,
    )
    run_study(prepared, study, ref, budget, sink)
    sync_trials(tracker, sink, prepared.spec.tuning.metric, study)
    record_study(run, study, prepared.spec, ref, budget)
    if not study.best_trials:
        raise CreditflowError(f"study '{ref.name}' has no completed trial to train from")
    return best_params(prepared.spec, study)


def _no_running_trials(study: optuna.Study) -> bool:
    optuna.storages.fail_stale_trials(study)
    return not study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.RUNNING,))


def _report(name, uri, run_id, version, evaluation, seconds) -> None:
    main, m = evaluation.main, evaluation.metrics
    click.echo(
        f"{main} AUC {m[f'{main}_auc']:.3f}  Gini {m[f'{main}_gini']:.3f}  KS {m[f'{main}_ks']:.3f}  "
        f"Brier {m[f'{main}_brier']:.4f}  (logistic baseline AUC {m[f'baseline_{main}_auc']:.3f})"
    )
    verdict = "passed" if evaluation.passed else "failed: " + "; ".join(evaluation.reasons)
    click.echo(f"validation.performance: {verdict}")
    stability = evaluation.stability
    verdict = "passed" if stability.passed else "failed: " + "; ".join(stability.reasons)
    click.echo(
        f"validation.stability: {verdict}  (score PSI {m[f'{main}_score_psi']:.3f}, max CSI {m[f'{main}_max_csi']:.3f})"
    )
    fairness = evaluation.fairness
    if fairness is None:
        click.echo("validation.fairness: failed: no sensitive attribute declared in data.sensitive")
    else:
        verdict = "passed" if fairness.verdict.passed else "failed: " + "; ".join(fairness.verdict.reasons)
        click.echo(f"validation.fairness: {verdict}")
    if evaluation.challenger is not None:
        row = evaluation.challenger.comparison.set_index("model")
        click.echo(
            f"mitigated challenger: {main} AUC {row.loc['challenger', 'auc']:.3f} (original "
            f"{row.loc['original', 'auc']:.3f}), approval rate {row.loc['challenger', 'approval_rate']:.1%} "
            f"(original {row.loc['original', 'approval_rate']:.1%}), fairness "
            f"{row.loc['challenger', 'fairness']}: see fairness/report.html"
        )
    if evaluation.challenger_skipped:
        click.echo(f"mitigated challenger: not trained: {evaluation.challenger_skipped}")
    for warning in evaluation.warnings + stability.warnings:
        click.echo(f"warning: {warning}")
    click.echo(f"run {run_id} in experiment '{name}' ({seconds:.1f} s)")
    if version:
        click.echo(f"registered model '{name}' version {version}: approval.status=pending")
        click.echo(f"review it: mlflow ui --backend-store-uri {uri}  then open Models > {name} > Version {version}")
