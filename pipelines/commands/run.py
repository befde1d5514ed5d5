"""`creditflow run`, `tune` and `train`: load and check the spec and data, (tune,) train, evaluate, log, register."""

from __future__ import annotations

import logging
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

import click
import optuna

from features.errors import CreditflowError
from pipelines.commands.options import tracking_option, tuning_options
from pipelines.core import tags
from pipelines.evidence.record import (
    record_model,
    record_model_card,
    record_training,
    record_verdicts,
    register_candidate,
)
from pipelines.evidence.study import record_study, record_study_plots
from pipelines.governance.store import store_of
from pipelines.reports.card_evidence import draw_review_charts, summary_line
from pipelines.reports.render import render_once
from pipelines.tracking import Tracker
from pipelines.tracking.common import resolve_tracking_uri
from pipelines.tracking.trials import TrialSink, sync_trials
from pipelines.training.challenger import challenger_job
from pipelines.training.challenger_process import ChallengerWorker, challenger_process
from pipelines.training.evaluation import evaluating
from pipelines.training.study_storage import StudyRef, TuningError, default_storage_url, open_storage
from pipelines.training.tune import (
    PARENT_RUN_ATTR,
    PRUNING_MIN_ROWS,
    best_params,
    choose_study,
    fail_dead_trials,
    finished_trials,
    link_parent_run,
    load_or_create_study,
    progress_line,
    pruning_active,
)
from pipelines.training.tuning_session import Budget, check_budget, run_study
from pipelines.training.workflow import Prepared, prepare, train_candidate

if TYPE_CHECKING:
    import pandas as pd
    import xgboost as xgb

    from features.tuning_spec import XGBoostParams
    from pipelines.tracking import RunLogger
    from pipelines.training.evaluation import Evaluation

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


@click.command("run")
@click.argument("spec", type=click.Path(dir_okay=False))
@tracking_option
@tuning_options
@click.option("--strict", is_flag=True, help="Exit 1 when any gate failed (the version is still registered).")
def run_command(spec: str, tracking_uri: str | None, strict: bool, **tuning: Any) -> None:
    """The whole pipeline on SPEC: validate, tune (if tuning.trials > 0), train, evaluate, register a
    version pending approval."""
    passed = run_pipeline(spec, tracking_uri=tracking_uri, register=True, tune=TuneOptions(**tuning))
    if strict and not passed:
        sys.exit(1)


@click.command("tune")
@click.argument("spec", type=click.Path(dir_okay=False))
@tracking_option
@tuning_options
def tune_command(spec: str, tracking_uri: str | None, **tuning: Any) -> None:
    """Tune SPEC's model with Optuna (one nested run per trial), retrain the best trial, evaluate and log it."""
    run_pipeline(spec, tracking_uri=tracking_uri, register=False, tune=TuneOptions(**tuning, required=True))


@click.command("train")
@click.argument("spec", type=click.Path(dir_okay=False))
@tracking_option
def train_command(spec: str, tracking_uri: str | None) -> None:
    """Validate, train (with the spec's params, no tuning) and evaluate SPEC's model and log it, without
    registering it."""
    run_pipeline(spec, tracking_uri=tracking_uri, register=False, tune=None)


def run_pipeline(spec_path: str, *, tracking_uri: str | None, register: bool, tune: TuneOptions | None) -> bool:
    """Validate, (tune,) train, evaluate and log SPEC; register a version if asked. Returns whether every gate passed.

    Every bad input (spec, data, tuning budget, storage, study) is refused before MLflow is written.
    """
    started = time.perf_counter()
    # a server's governance store may govern the policy (a team server's): asked before the spec is read; a local
    # store is opened only once the spec and data are known good
    server = resolve_tracking_uri(tracking_uri).startswith(("http://", "https://"))
    store = store_of(Tracker(tracking_uri)) if server else None
    policies = store.policies(Path(spec_path).parent) if store is not None else None
    log.info("reading and checking the data of %s", spec_path)
    prepared = prepare(spec_path, policies=policies)
    sizes = ", ".join(f"{k} {len(v)}" for k, v in prepared.split.samples().items())
    log.info("data %s: %d rows (%s)", prepared.data.source, len(prepared.checked.target), sizes)
    _log_screening(prepared)
    with challenger_process(prepared.spec, len(prepared.split.train)) as worker:  # its imports overlap the tuning
        tracker = store.tracker if store else Tracker(tracking_uri)
        author = store.acting_user() if store else None  # a team server's login: the author it records
        team = store is not None and store.validated_by_server
        return _train_and_record(prepared, tracker, register, tune, worker, started, author=author, team=team)


def _train_and_record(
    prepared: Prepared,
    tracker: Tracker,
    register: bool,
    tune: TuneOptions | None,
    worker: ChallengerWorker | None,
    started: float,
    *,
    author: str | None = None,
    team: bool = False,
) -> bool:
    plan = _tuning_plan(prepared, tracker.uri, tune)
    study = load_or_create_study(prepared, plan[0], storage=plan[2]) if plan else None
    name = prepared.spec.name
    verb = "run" if register else ("tune" if plan else "train")
    run_tags = {tags.OPTUNA_STUDY: plan[0].name, tags.OPTUNA_ROLE: "study"} if plan else None
    with tracker.run(name, run_name=f"{name}-{verb}", tags=run_tags) as run:
        params = None
        if plan and study is not None:
            params = _tune(tracker, prepared, study, plan[0], plan[1], run)
        candidate = train_candidate(prepared, params=params, fitted=_sender(worker, prepared))
        log.info("trained %d trees", candidate.booster.num_boosted_rounds())
        with evaluating(prepared, candidate, worker=worker) as evaluation:
            # while the mitigated challenger trains (none of this needs it): the figures rendered (matplotlib holds the
            # GIL, the challenger's XGBoost fits do not), the study's plots, the model, the evidence and the review
            # page's charts; without a challenger there is nothing to overlap, so the first reader renders them
            if evaluation.challenger_pending:
                render_once(evaluation.figures.values())
            if study is not None:  # tuned
                record_study_plots(run, study)
            log.info("logging the model and the run's evidence to MLflow")
            model_uri = record_model(run, prepared, candidate)
            record_training(run, prepared, candidate, evaluation, author=author)
            if register:
                draw_review_charts(prepared.spec, evaluation)
        record_verdicts(run, evaluation)
        version = register_candidate(tracker, prepared, run.run_id, model_uri, evaluation) if register else None
        # a team server froze the run at registration: its validator writes the review page from the frozen files
        page = None
        if version and not team:
            page = record_model_card(tracker, run, prepared, candidate, evaluation, version)
    _report(prepared, tracker.uri, run.run_id, version, evaluation, time.perf_counter() - started, team=team)
    if page:
        click.echo(f"review page: {page}")
    return evaluation.all_passed


def _sender(
    worker: ChallengerWorker | None, prepared: Prepared
) -> Callable[[pd.DataFrame, XGBoostParams, xgb.Booster], None] | None:
    """What sends the challenger's job to its process as soon as the candidate's trees are fitted, before the
    fairness verdict (which discards it unless it asks for the challenger); None without a process."""
    if worker is None:
        return None

    def send(model_input: pd.DataFrame, params: XGBoostParams, booster: xgb.Booster) -> None:
        worker.submit(challenger_job(prepared, model_input, params, booster.num_boosted_rounds()))

    return send


def _tuning_plan(
    prepared: Prepared, tracking_uri: str, tune: TuneOptions | None
) -> tuple[StudyRef, Budget, optuna.storages.RDBStorage] | None:
    """The study, budget and opened storage (set up once per command) to tune with, or None to train the spec's
    params as they are."""
    spec = prepared.spec
    if tune is None:
        return None
    trials = spec.tuning.trials if tune.trials is None else tune.trials
    if trials == 0 and not tune.required:
        return None  # `run` on a spec that asks for no tuning, or `run --trials 0`: the spec's params as they are
    if tune.trials is None and trials == 0:
        raise TuningError("no trial budget: set tuning.trials in the spec or pass --trials")
    budget = Budget(trials, tune.timeout or spec.tuning.timeout, tune.workers)
    check_budget(budget)
    ref = StudyRef(
        tune.storage or default_storage_url(tracking_uri), tune.study or spec.name, spec.tuning.heartbeat_seconds
    )
    storage = open_storage(ref)
    if tune.study is None:  # a study made for another objective is never resumed: a new one is named
        ref, line = choose_study(prepared, ref, storage)
        if line:
            log.warning(line)
    return ref, budget, storage


def _log_screening(prepared: Prepared) -> None:
    """Rows dropped for their outcome, and the leakage screen's findings before any training (a leak is seen
    before minutes of tuning)."""
    if prepared.dropped:
        counts = ", ".join(f"{value} {n:,}" for value, n in prepared.dropped.items())
        log.info(
            "dropped %d rows whose outcome is neither positive nor negative (%s)",
            sum(prepared.dropped.values()),
            counts,
        )
    screen = prepared.leakage
    for line in screen.reasons() + screen.acknowledged():
        log.warning(line)
    if not screen.findings:
        log.info("leakage screen before training: no finding")


def _tune(
    tracker: Tracker, prepared: Prepared, study: optuna.Study, ref: StudyRef, budget: Budget, run: RunLogger
) -> XGBoostParams:
    previous = study.user_attrs.get(PARENT_RUN_ATTR)
    if previous and previous != run.run_id and _no_running_trials(study, ref):
        tracker.end_if_running(previous, "KILLED")  # its process died; the heartbeat check failed its trial
    link_parent_run(study, run.run_id, tracker.uri)
    sink = TrialSink(tracker.uri, tracker.experiment_of(run.run_id), run.run_id, ref.name)
    pruning = "on" if pruning_active(prepared.spec, len(prepared.split.train)) else "off"
    if prepared.spec.tuning.pruning.enabled and pruning == "off":
        pruning += f" (below {PRUNING_MIN_ROWS:,} training rows a trial costs less than its pruning reports)"
    log.info(
        "%s (%s, %d workers, pruning %s)",
        progress_line(ref.name, finished_trials(study), budget.trials),
        ref.storage_url,
        budget.workers,
        pruning,
    )
    run_study(prepared, study, ref, budget, sink)
    sync_trials(tracker, sink, prepared.spec.tuning.metric, study)
    record_study(run, study, prepared.spec, ref, budget)
    if not study.best_trials:
        raise CreditflowError(f"study '{ref.name}' has no completed trial to train from")
    return best_params(prepared.spec, study)


def _no_running_trials(study: optuna.Study, ref: StudyRef) -> bool:
    optuna.storages.fail_stale_trials(study)
    fail_dead_trials(study, ref)
    return not study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.RUNNING,))


def _report(
    prepared: Prepared,
    uri: str,
    run_id: str,
    version: str | None,
    evaluation: Evaluation,
    seconds: float,
    *,
    team: bool = False,
) -> None:
    """A short verdict per gate; the measurements, limits and intervals are on the review page."""
    name, main, m = prepared.spec.name, evaluation.main, evaluation.metrics
    click.echo(
        f"{main} AUC {m[f'{main}_auc']:.3f} ({m[f'{main}_auc_low']:.3f}-{m[f'{main}_auc_high']:.3f})  "
        f"Gini {m[f'{main}_gini']:.3f}  KS {m[f'{main}_ks']:.3f}  Brier {m[f'{main}_brier']:.4f}  "
        f"(logistic baseline AUC {m[f'baseline_{main}_auc']:.3f})"
    )
    governing = prepared.spec.governing
    click.echo(f"policy {governing.label if governing else 'none'}, cutoff {prepared.spec.policy.cutoff:g}")
    for result in evaluation.results:
        why = "" if result.passed else f": {summary_line(result)}"
        click.echo(f"{result.tag}: {result.status}{why}")
    if evaluation.challenger is not None:
        row = evaluation.challenger.comparison.set_index("model")
        click.echo(
            f"mitigated challenger: {main} AUC {row.loc['challenger', 'auc']:.3f} (original "
            f"{row.loc['original', 'auc']:.3f}), fairness {row.loc['challenger', 'fairness']}"
        )
    if evaluation.challenger_skipped:
        click.echo(f"mitigated challenger: not trained: {evaluation.challenger_skipped}")
    for note in evaluation.all_notes:
        click.echo(f"note: {note}")
    click.echo(f"run {run_id} in experiment '{name}' ({seconds:.1f} s)")
    if version:
        click.echo(f"registered model '{name}' version {version}: approval.status=pending")
        if team:
            click.echo(
                "the server's validator recomputes the evidence and writes the review page; review it at "
                f"{uri.rstrip('/')}/#/models/{name}/versions/{version} "
                f"(creditflow status {name} shows when it is validated)"
            )
        else:
            click.echo(f"review it: mlflow ui --backend-store-uri {uri}  then open Models > {name} > Version {version}")
