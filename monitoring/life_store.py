"""A version's outcome history in the tracking store: one `monitoring.role=outcomes` run per version holding the
vintage counts (cohort, band, months on book: loans, defaults, summed PD) and the label-free estimates per cohort
with their back-tests. Counts only: no id, no row. Replaced whole after each `monitor --outcomes`."""

from __future__ import annotations

import tempfile

import pandas as pd

from features.data import read_table
from monitoring.history import experiment_name
from pipelines.core import tags
from pipelines.core.records import VersionInfo
from pipelines.tracking import Tracker

COUNTS_PATH = "monitoring/vintage_counts.csv"
ESTIMATES_PATH = "monitoring/estimates.csv"
BACKTEST_PATH = "monitoring/vintage_backtest.csv"  # the back-test of the counts, as the latest window judged it
ROLE = "outcomes"


def _where(version: VersionInfo) -> dict[str, str]:
    return {tags.MONITORING_MODEL: version.name, tags.MONITORING_VERSION: version.version, tags.MONITORING_ROLE: ROLE}


def load_history(tracker: Tracker, version: VersionInfo) -> dict[str, pd.DataFrame]:
    """The stored tables by artifact path (empty frames for a version without outcomes yet)."""
    runs = tracker.find_runs(experiment_name(version), _where(version))
    out = {COUNTS_PATH: pd.DataFrame(), ESTIMATES_PATH: pd.DataFrame(), BACKTEST_PATH: pd.DataFrame()}
    if not runs:
        return out
    run_id = runs[-1].run_id
    stored = set(tracker.list_artifacts(run_id, "monitoring"))
    with tempfile.TemporaryDirectory() as folder:
        for path in out:
            if path in stored:
                out[path] = read_table(tracker.download_artifacts(run_id, path, folder))
    for frame in out.values():
        if "cohort" in frame.columns:
            frame["cohort"] = frame["cohort"].astype(str)
    return out


def save_history(tracker: Tracker, version: VersionInfo, tables: dict[str, pd.DataFrame]) -> str:
    """Write the tables as the version's new outcomes run, then delete the old one."""
    experiment = experiment_name(version)
    old = tracker.find_runs(experiment, _where(version))
    with tracker.run(experiment, run_name=f"{version.name} v{version.version} outcomes", tags=_where(version)) as run:
        for path, frame in tables.items():
            run.table(frame, path)
    for stale in old:
        if stale.run_id != run.run_id:
            tracker.delete_run(stale.run_id)
    return run.run_id
