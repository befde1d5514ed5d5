"""Monitoring runs in MLflow: their experiment and tags, and the per-version history run that charts the trend.

One run per (model, version, window), tagged `monitoring.model/version/window` and `monitoring.role=window`,
with its metrics at step = months since the reference's first month. MLflow draws a line only within
one run, so a `monitoring.role=history` run per version holds every window's headline metrics at its
step; it is rebuilt from the window runs after each `creditflow monitor`, so it never duplicates.
"""

from __future__ import annotations

from pipelines.core import tags
from pipelines.core.records import VersionInfo
from pipelines.tracking import Tracker

HEADLINE = (
    "score_psi",
    "max_psi",
    "drift_share",
    "drifted_columns",
    "status_level",
    "rows",
    "outcome.auc",
    "outcome.ks",
    "outcome.bad_rate",
    "outcome.mean_pd",
)


def experiment_name(version: VersionInfo) -> str:
    return f"{version.name}-monitoring"


def model_uri(version: VersionInfo) -> str:
    """The watched version as a URI `mlflow.pyfunc.load_model` and `creditflow score` accept."""
    return f"models:/{version.name}/{version.version}"


def window_tags(version: VersionInfo, window: str) -> dict[str, str]:
    return {
        tags.MONITORING_MODEL: version.name,
        tags.MONITORING_VERSION: version.version,
        tags.MONITORING_WINDOW: window,
        tags.MONITORING_ROLE: "window",
    }


# Set once everything is logged: under `mlflow run` an alert (exit 1) marks the run FAILED, so the run
# status cannot tell a complete window from a broken one; this tag can.
COMPLETE = {tags.MONITORING_COMPLETE: "true"}


def rebuild_history(tracker: Tracker, version: VersionInfo) -> str | None:
    """Replace the version's history run with one holding each monitored window's headline and PSI metrics."""
    experiment = experiment_name(version)
    where = {tags.MONITORING_MODEL: version.name, tags.MONITORING_VERSION: version.version}
    windows = tracker.find_runs(experiment, {**where, tags.MONITORING_ROLE: "window", **COMPLETE})
    if not windows:
        return None
    series = []
    for run in sorted(windows, key=lambda r: r.tags[tags.MONITORING_WINDOW]):
        step = int(float(run.tags.get(tags.MONITORING_STEP, 0)))
        wanted = {k: v for k, v in run.metrics.items() if k in HEADLINE or k.startswith("drift.")}
        series.append((step, wanted))
    old = tracker.find_runs(experiment, {**where, tags.MONITORING_ROLE: "history"})
    new = tracker.log_series_run(
        experiment,
        f"{version.name} v{version.version} history",
        {
            **where,
            tags.MONITORING_ROLE: "history",
            tags.MONITORING_WINDOWS: ",".join(r.tags[tags.MONITORING_WINDOW] for r in windows),
        },
        series,
    )
    for run in old:
        tracker.delete_run(run.run_id)
    return new
