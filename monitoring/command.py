"""`creditflow monitor`: load the version and its reference, validate, judge each window, log, tag, report.

Everything that can be refused (model reference, stored reference, data columns and types, window)
is checked before a run is opened, so a failed check never leaves a monitoring run behind.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import re

import click
import numpy as np
import pandas as pd

from features.data import duplicate_warnings, read_table
from features.errors import CreditflowError, DataError
from features.spec import Spec
from monitoring.assess import LEVELS, Assessment, assess
from monitoring.evidently_report import drift_report
from monitoring.history import COMPLETE, experiment_name, model_uri, rebuild_history, window_tags
from monitoring.hitl import FinalDecisions, judge_overrides, load_decisions
from monitoring.inputs import columns_of, read_columns, validate
from monitoring.life import Life, Shadow, Watched, auc_anchor, limits_of, load_shadow, persist, prepare
from monitoring.life import apply as apply_life
from monitoring.page import PageContext, window_page
from monitoring.record import log_window, run_description, tag_version
from monitoring.target import Target, load_target, score
from monitoring.windows import is_month, month_index, months_of, previous_month, select_month, split_months
from pipelines.core import tags
from pipelines.core.clock import today
from pipelines.core.free_text import shown
from pipelines.core.records import VersionInfo
from pipelines.core.tags import MONITORING_STATUS
from pipelines.governance.rules.exceptions import expired_exceptions
from pipelines.governance.store import store_of
from pipelines.progress import Progress
from pipelines.tracking import Tracker

log = logging.getLogger("creditflow")
EXIT = {"ok": 0, "warn": 0, "alert": 1}
LABEL = re.compile(r"^[A-Za-z0-9_.-]+$")  # window labels go into tag filters and run names
DATED = re.compile(r"^\d{4}-\d+$")  # a label written as a month must be one


def monitor(
    model: str,
    *,
    current: str | None,
    reference: str | None,
    window: str | None,
    backfill: str | None,
    force: bool,
    tracking_uri: str | None,
    engine: str = "local",
    outcomes: str | None = None,
    challenger: str | None = None,
    decisions: str | None = None,
) -> int:
    """Monitor one window (`current`) or every month of `backfill`; returns the exit code (1 on any alert).
    `decisions`: underwriters' final decisions, judged against the model's (monitoring/hitl.py)."""
    if (current is None) == (backfill is None):
        raise DataError("give exactly one of --current PATH or --backfill PATH")
    if (outcomes or challenger) and (backfill is not None or engine == "spark"):
        raise DataError("--outcomes and --challenger judge one window in process: use --current (engine local)")
    if engine == "spark" and backfill is not None:
        raise DataError("--backfill runs in process; with --engine spark monitor one window at a time (--window)")
    if decisions is not None and (current is None or engine == "spark"):
        raise DataError("--decisions is judged with --current on the local engine")
    tracker = Tracker(tracking_uri)
    refused = store_of(tracker).monitoring_problems()
    if refused:  # asked before anything is read or logged: the server would refuse the verdict's tags at the end
        raise CreditflowError("; ".join(refused))
    target = load_target(tracker, model, reference)
    final = load_decisions(decisions, current, target.spec) if decisions and current else None
    if engine == "spark":
        assert current is not None  # exactly one of current and backfill, and spark refused backfill
        label = window_label(window)
        from monitoring.spark import judge_window

        status = already_monitored(tracker, target, label, force=force) or record_window(
            tracker, target, label, *judge_window(tracker, target, current, label)
        )
        rebuild_history(tracker, target.version)
        return EXIT[status]
    columns = read_columns(target.spec) | ({final.id_column} if final else set())
    categorical = target.spec.features.categorical
    life: Life | None = None
    if backfill is not None:
        if os.environ.get("MLFLOW_RUN_ID"):
            raise DataError("--backfill logs one MLflow run per month: run it with creditflow, not under `mlflow run`")
        windows = backfill_windows(read_table(backfill, columns=columns, dictionary=categorical), target.spec)
    else:
        assert current is not None  # exactly one of current and backfill
        windows = [current_window(read_table(current, columns=columns, dictionary=categorical), target.spec, window)]
        if outcomes or challenger:  # checked, like everything else, before a run is opened
            life = prepare(_watched(target), current, windows[0][0], outcomes, _shadow(tracker, target, challenger))
    for warning in duplicate_warnings(str(backfill or current), columns):  # read above: the file exists
        click.echo(f"warning: {warning}")
    # every window validated before the first run is opened; the raw frames are dropped as they are replaced
    for i, (label, frame) in enumerate(windows):
        checked = validate(frame, target.spec, f"window {label}")
        windows[i] = (label, checked.assign(**{final.id_column: frame[final.id_column]}) if final else checked)
    statuses = []
    with Progress("monitoring windows", len(windows), "windows") as progress:
        for label, frame in windows:
            progress.update(0, f"window {label}: {len(frame):,} rows")
            statuses.append(run_window(tracker, target, label, frame, force=force, life=life, final=final))
            progress.update(1, f"window {label}: {statuses[-1]}")
    rebuild_history(tracker, target.version)
    return max(EXIT[s] for s in statuses)


def window_label(window: str | None) -> str:
    """`--window`, else the previous calendar month; a label goes into tag filters and run names."""
    label = window or previous_month(dt.date.today())
    if not LABEL.match(label):
        raise DataError(f"--window {shown(label)}: use YYYY-MM, or letters, digits, '.', '_' and '-'")
    if DATED.match(label) and not is_month(label):  # 2026-13, 2026-1: meant as a month, and not one
        raise DataError(f"--window {shown(label)} is not a month: use YYYY-MM with a month 01 to 12")
    return label


def current_window(frame: pd.DataFrame, spec: Spec, window: str | None) -> tuple[str, pd.DataFrame]:
    """The window's rows and label: the previous calendar month unless `--window`; filtered on the time column."""
    label = window_label(window)
    time = spec.data.time
    if time and time in frame.columns and is_month(label):
        return label, select_month(frame, time, label)
    return label, frame


def backfill_windows(frame: pd.DataFrame, spec: Spec) -> list[tuple[str, pd.DataFrame]]:
    time = spec.data.time
    if not time:
        raise DataError("--backfill needs data.time in the model's spec to split the data by month")
    if time not in frame.columns:
        raise DataError(f"--backfill: the data has no time column '{time}'")
    return split_months(frame, time)


def run_window(
    tracker: Tracker,
    target: Target,
    label: str,
    frame: pd.DataFrame,
    *,
    force: bool,
    life: Life | None = None,
    final: FinalDecisions | None = None,
) -> str:
    """Judge and log one window; an already monitored window is skipped unless `force` (then replaced)."""
    done = already_monitored(tracker, target, label, force=force)
    if done is not None:
        return done
    spec = target.spec
    scores = score(target.scorer, frame)
    result = assess(spec, target.reference, frame, target.reference_scores, scores, target.expected, label)
    if final is not None:
        judge_overrides(result, final, spec, target.scorer, frame, scores)
    if life is None:  # the label-free estimate on every window
        life = Life(label, limits_of(spec), [], spec.policy.cutoff)
        life.auc_offset = auc_anchor(target.expected, target.reference_scores)
    apply_life(life, tracker, target.version, result, scores, frame)
    status = record_window(tracker, target, label, result, frame, scores)
    persist(life, tracker, target.version)
    return status


def _watched(target: Target) -> Watched:
    return Watched(target.spec, target.expected, target.reference_scores, target.scorer)


def _shadow(tracker: Tracker, target: Target, challenger: str | None) -> Shadow | None:
    if challenger is None:
        return None
    return load_shadow(target.version, target.spec, challenger, lambda ref: load_target(tracker, ref, None))


def already_monitored(tracker: Tracker, target: Target, label: str, *, force: bool) -> str | None:
    """The recorded status of a window monitored before (said, and skipped), or None to monitor it."""
    version = target.version
    existing = tracker.find_runs(experiment_name(version), {**window_tags(version, label), **COMPLETE})
    if not existing or force:
        return None
    status = existing[-1].tags.get(MONITORING_STATUS, "ok")
    click.echo(
        f"{version.name} v{version.version} window {label}: already monitored (run {existing[-1].run_id}, "
        f"{status}); skipped, use --force to replace it"
    )
    return status


def record_window(
    tracker: Tracker, target: Target, label: str, result: Assessment, rows: pd.DataFrame, scores: np.ndarray
) -> str:
    """Log a judged window (with the Evidently report on `rows`, the window or a sample of it), replace an
    earlier run of it, tag the version and print the verdict; returns the status."""
    version, spec = target.version, target.spec
    experiment, window = experiment_name(version), window_tags(version, label)
    _warn_expired_exceptions(result, version, store_of(tracker).trail(version.name).records)
    snapshot = drift_report(
        target.reference,
        rows,
        target.reference_scores,
        scores,
        columns_of(spec),
        spec.monitoring,
    )
    step = _step(target, label)
    page = window_page(_page_context(target), result, spec.monitoring)
    with tracker.run(
        experiment,
        run_name=f"{version.name} v{version.version} {label}",
        tags={**window, MONITORING_STATUS: result.status, tags.MONITORING_STEP: str(step)},
    ) as run:
        log_window(run, result, snapshot, step, spec, page)
        run.tags({**run_description(version, result), **COMPLETE})
    for old in tracker.find_runs(experiment, window):  # the replaced window, and any run a crash left incomplete
        if old.run_id != run.run_id:
            tracker.delete_run(old.run_id)
    tag_version(tracker, version, label, result.status, run.run_id)
    _echo(version, result, run.run_id)
    return result.status


def _page_context(target: Target) -> PageContext:
    version, spec = target.version, target.spec
    return PageContext(
        version.name,
        version.version,
        model_uri(version),
        target.reference_label,
        spec.policy.fairness,
        f"{target.expected.get('holdout', 'registered')} holdout at registration",
        target.expected,
    )


def _warn_expired_exceptions(result: Assessment, version: VersionInfo, trail: list) -> None:
    """A version past an exception's expiry runs outside what was accepted: a warning on every window."""
    for line in expired_exceptions(version, trail, today()):
        result.reasons.insert(0 if result.status == "ok" else len(result.reasons), f"warn: {line}")
        result.status = "warn" if result.status == "ok" else result.status
    result.metrics["status_level"] = float(LEVELS[result.status])


def _step(target: Target, label: str) -> int:
    """Months since the reference's first month, so cron runs and backfills share one axis; else 0."""
    time = target.spec.data.time
    if time and time in target.reference.columns and is_month(label):
        return month_index(label, months_of(target.reference[time], time).min())
    return 0


def _echo(version: VersionInfo, result: Assessment, run_id: str) -> None:
    m = result.metrics
    click.echo(
        f"{version.name} v{version.version} window {result.window}: {result.status.upper()}  "
        f"({int(m['rows'])} rows, score PSI {m['score_psi']:.3f}, max PSI {m['max_psi']:.3f}, "
        f"drift share {m['drift_share']:.0%})"
    )
    for line in result.reasons + [f"note: {n}" for n in result.notes]:
        click.echo(f"  {line}")
    click.echo(f"  run {run_id} in experiment '{experiment_name(version)}'")
