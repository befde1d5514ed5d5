"""Optuna trials as MLflow runs: one nested run per finished trial under the study's parent run.

The tuning loop (pipelines/training/tuning_session.py) never imports MLflow; it is handed a `TrialSink`
and calls the recorder it opens, as optuna-integration's MLflowCallback would.
"""

from __future__ import annotations

import logging
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass

import optuna

from pipelines.core import tags
from pipelines.tracking import Tracker

log = logging.getLogger("creditflow")
FINISHED = (optuna.trial.TrialState.COMPLETE, optuna.trial.TrialState.PRUNED)


@dataclass(frozen=True)
class TrialSink:
    """Where trial runs go: picklable, so each worker process records its own trials."""

    tracking_uri: str
    experiment_id: str
    parent_run_id: str
    study_name: str

    def recorder(self, metric: str) -> "TrialRecorder":
        return TrialRecorder(Tracker(self.tracking_uri), self, metric)


class TrialRecorder:
    """Optuna callback: one nested MLflow run per finished trial, logged in one batch.

    Logging happens on a background thread, overlapping the next trial's training (XGBoost
    releases the GIL); `close` waits for it and re-raises any logging error.
    """

    def __init__(self, tracker: Tracker, sink: TrialSink, metric: str):
        self.tracker, self.sink, self.metric = tracker, sink, metric
        self.pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="trial-runs")
        self.pending: list[Future] = []
        self.finished = 0  # complete or pruned trials of this process

    def __call__(self, study: optuna.Study, trial: optuna.trial.FrozenTrial) -> None:
        self.finished += trial.state in FINISHED
        self.pending.append(self.pool.submit(record_trial, self.tracker, self.sink, self.metric, trial))
        value = "-" if trial.value is None else f"{trial.value:.4f}"
        log.info(
            "trial %d %s: %s %s, %s trees",
            trial.number,
            trial.state.name.lower(),
            self.metric,
            value,
            trial.user_attrs.get("n_trees", "-"),
        )

    def close(self) -> None:
        self.pool.shutdown(wait=True)
        for future in self.pending:
            future.result()


def record_trial(tracker: Tracker, sink: TrialSink, metric: str, trial: optuna.trial.FrozenTrial) -> None:
    metrics = {"n_trees": float(trial.user_attrs["n_trees"])} if "n_trees" in trial.user_attrs else {}
    if trial.value is not None:
        metrics[metric] = trial.value
    elif trial.intermediate_values:  # a pruned trial: its last reported validation value
        metrics[metric] = trial.intermediate_values[max(trial.intermediate_values)]
    run_tags = {
        tags.OPTUNA_STUDY: sink.study_name,
        tags.OPTUNA_TRIAL_NUMBER: str(trial.number),
        tags.OPTUNA_STATE: trial.state.name,
    }
    status = "FAILED" if trial.state == optuna.trial.TrialState.FAIL else "FINISHED"
    tracker.log_child_run(
        sink.experiment_id,
        sink.parent_run_id,
        f"trial-{trial.number}",
        params=trial.params,
        metrics=metrics,
        tags=run_tags,
        status=status,
    )


def sync_trials(tracker: Tracker, sink: TrialSink, metric: str, study: optuna.Study) -> int:
    """Record ended trials of the study that no run records yet (a killed process's trial, failed
    later by the heartbeat check) under this parent run; returns how many."""
    recorded = tracker.tag_values(sink.experiment_id, {tags.OPTUNA_STUDY: sink.study_name}, tags.OPTUNA_TRIAL_NUMBER)
    ended = [t for t in study.get_trials(deepcopy=False) if t.state.is_finished() and str(t.number) not in recorded]
    for trial in ended:
        record_trial(tracker, sink, metric, trial)
    return len(ended)
