"""Running a study to its requested total: in this process or in K worker processes, each trial handed to a
`TrialSink` (the caller records it as a nested MLflow run under the study's parent run).

Workers are separate processes on one shared Optuna storage (several machines can do the same by
pointing at one database). XGBoost threads per worker times workers never exceed the cores:
oversubscribed OpenMP threads make XGBoost ~100x slower on a small machine.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import sys
import time
from dataclasses import dataclass
from typing import Any, Protocol

import optuna
import xgboost as xgb

from pipelines.progress import Progress
from pipelines.runtime import cores, xgboost_threads
from pipelines.training.study_storage import StudyRef, TuningError
from pipelines.training.tune import FINISHED, fail_dead_trials, finished_trials, load_or_create_study, make_objective
from pipelines.training.workflow import Prepared, fit_transform, prepare, train_valid_matrices

log = logging.getLogger("creditflow")
WORKER_SEED_STRIDE = 7919  # distinct sampler seeds per worker, so workers do not propose the same points


@dataclass(frozen=True)
class Budget:
    trials: int  # total finished (complete or pruned) trials the study should reach
    timeout: float | None  # seconds for this invocation
    workers: int


class TrialSink(Protocol):
    """Where trial results go (pipelines/tracking/trials.py records them as nested MLflow runs). Picklable, so
    each worker process opens its own recorder: an Optuna callback with a count of `finished` trials."""

    def recorder(self, metric: str) -> Any: ...


def check_budget(budget: Budget) -> None:
    if budget.trials < 1:
        raise TuningError(f"--trials must be at least 1, got {budget.trials}")
    if budget.timeout is not None and budget.timeout <= 0:
        raise TuningError(f"--timeout must be positive, got {budget.timeout}")
    cores = os.cpu_count() or 1
    if not 1 <= budget.workers <= cores:
        raise TuningError(f"--workers must be between 1 and the {cores} cores of this machine, got {budget.workers}")


def threads_per_worker(prepared: Prepared, workers: int) -> int:
    """Each worker's XGBoost threads: the data-size rule of pipelines/runtime.py within its share of the cores."""
    share = max(1, cores() // workers)
    return xgboost_threads(len(prepared.split.train), prepared.spec.tuning.params.nthread, limit=share)


@dataclass(frozen=True)
class Share:
    """One process's part of a study: stop at `total` in the study, or after `quota` of its own
    finished trials, or at `deadline` (this machine's monotonic clock)."""

    total: int
    quota: int
    deadline: float | None


def run_study(prepared: Prepared, study: optuna.Study, ref: StudyRef, budget: Budget, sink: TrialSink) -> None:
    """Run trials until the study holds `budget.trials` finished trials or the timeout passes.

    `study` is the caller's open study (its storage is set up once); worker processes open their own.
    Local workers split what is missing into fixed quotas, so two workers cannot both start the
    last trial; the shared count still stops them early when other machines work on the study.
    """
    deadline = time.monotonic() + budget.timeout if budget.timeout else None
    nthread = threads_per_worker(prepared, budget.workers)
    optuna.storages.fail_stale_trials(study)  # a killed process's trial must not count as running
    fail_dead_trials(study, ref)  # ... even within the heartbeat grace period, when it was killed on this host
    missing = max(0, budget.trials - finished_trials(study))
    shares = [
        Share(budget.trials, missing // budget.workers + (index < missing % budget.workers), deadline)
        for index in range(budget.workers)
    ]
    if budget.workers == 1:
        _optimize(prepared, study, shares[0], sink, nthread)
        return
    context = multiprocessing.get_context("spawn")  # fork would copy XGBoost's OpenMP state
    processes = [
        context.Process(
            target=_worker,
            args=(str(prepared.spec_path), ref, share, sink, nthread, index),
            name=f"tune-worker-{index}",
        )
        for index, share in enumerate(shares)
        if share.quota
    ]
    try:
        for process in processes:
            process.start()
        for process in processes:
            process.join()
    finally:  # interrupted (SIGTERM, Ctrl-C): workers must not outlive the command and its parent run
        for process in processes:
            if process.is_alive():
                process.terminate()
                process.join()
    failed = [p.name for p in processes if p.exitcode != 0]
    if failed:
        raise TuningError(
            f"tuning worker(s) failed: {', '.join(failed)}; finished trials are kept in {ref.storage_url}"
        )


def _worker(spec_path: str, ref: StudyRef, share: Share, sink: TrialSink, nthread: int, worker: int) -> None:
    logging.basicConfig(level=logging.INFO, format=f"[worker {worker}] %(message)s", stream=sys.stderr)
    prepared = prepare(spec_path)
    study = load_or_create_study(prepared, ref, sampler_seed_base=worker * WORKER_SEED_STRIDE)
    _optimize(prepared, study, share, sink, nthread)


def _optimize(prepared: Prepared, study: optuna.Study, share: Share, sink: TrialSink, nthread: int) -> None:
    optuna.logging.set_verbosity(optuna.logging.WARNING)  # one line per trial comes from the recorder
    _, model_input = fit_transform(prepared)
    train, valid = train_valid_matrices(prepared, model_input, nthread=nthread)
    recorder = sink.recorder(prepared.spec.tuning.metric)
    progress = Progress("trials", share.total, "trials", initial=min(finished_trials(study), share.total))
    objective = make_objective(prepared.spec, train, valid, nthread=nthread, progress=progress)
    try:
        while (
            recorder.finished < share.quota
            and _wanted(study, share.total)
            and (share.deadline is None or time.monotonic() < share.deadline)
        ):
            study.optimize(
                objective,
                n_trials=1,
                callbacks=[recorder],
                catch=(xgb.core.XGBoostError,),
                gc_after_trial=False,
                show_progress_bar=False,
            )
            progress.set(min(finished_trials(study), share.total), _best(study))
    finally:
        progress.close(_best(study))
        recorder.close()


def _best(study: optuna.Study) -> str:
    completed = study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.COMPLETE,))
    return f"best {study.best_value:.4f}" if completed else ""


def _wanted(study: optuna.Study, total: int) -> bool:
    """Whether another trial is needed; trials running elsewhere count."""
    busy = study.get_trials(deepcopy=False, states=(*FINISHED, optuna.trial.TrialState.RUNNING))
    return len(busy) < total
