"""`creditflow report NAME [--version N] OUT.html`: the life page of a version, written to OUT (never over an
existing file unless --overwrite), stored beside the version's monitoring history and linked from its description."""

from __future__ import annotations

import io
import json
import sys
from pathlib import Path

import click
import pandas as pd

from features.errors import DataError
from features.outputs import written
from monitoring.history import COMPLETE, experiment_name
from monitoring.life_page import LifeData, Window, life_page
from monitoring.life_store import BACKTEST_PATH, ESTIMATES_PATH, load_history
from pipelines.commands.options import tracking_option
from pipelines.core import tags
from pipelines.core.records import VersionInfo
from pipelines.tracking import Tracker

PAGE = "monitoring/life.html"
LABEL = "Life page:"  # the version description's paragraph the report owns


@click.command("report")
@click.argument("name")
@click.argument("out", type=click.Path(dir_okay=False))
@click.option("--version", default=None, help="Version number (default: the champion).")
@click.option("--overwrite", is_flag=True, help="Replace OUT if it exists.")
@tracking_option
def report_command(name: str, out: str, version: str | None, overwrite: bool, tracking_uri: str | None) -> None:
    """The life page of a model version (OUT.html): every window's verdict, drift, outcomes, estimates, vintage
    back-test and challenger, as time series with the policy's limits; self-contained."""
    path = Path(out)
    if path.suffix.lower() not in (".html", ".htm"):
        raise DataError(f"{out}: the life page is HTML, name it *.html")
    tracker = Tracker(tracking_uri)
    found = tracker.resolve(f"{name}/{version}" if version else name)
    data = gather(tracker, found)
    page = life_page(data)
    with written(path, overwrite=overwrite) as temporary:
        temporary.write_text(page, encoding="utf-8")
    link_page(tracker, found, page)
    click.echo(f"{found.name} v{found.version}: life page of {len(data.windows)} window(s) written to {out}")
    sys.stdout.flush()


def gather(tracker: Tracker, version: VersionInfo) -> LifeData:
    """Everything the page shows, from the window runs and the outcome history of `version`."""
    experiment = experiment_name(version)
    where = {tags.MONITORING_MODEL: version.name, tags.MONITORING_VERSION: version.version}
    runs = tracker.find_runs(experiment, {**where, tags.MONITORING_ROLE: "window", **COMPLETE})
    if not runs:
        raise DataError(f"{version.name} version {version.version} has no monitored window: run creditflow monitor")
    runs = sorted(runs, key=lambda r: r.tags[tags.MONITORING_WINDOW])
    windows = []
    for run in runs:
        summary = json.loads(tracker.read_text(run.run_id, "monitoring/summary.json") or "{}")
        windows.append(
            Window(run.tags[tags.MONITORING_WINDOW], run.tags.get(tags.MONITORING_STATUS, "ok"), run.metrics,
                   summary.get("reasons", []))
        )  # fmt: skip
    settings = json.loads(tracker.run_params(runs[-1].run_id).get(tags.MONITORING_SETTINGS, "{}"))
    history = load_history(tracker, version)
    data = LifeData(
        version.name,
        version.version,
        tracker.model_version(version.name, version.version).tags.get(tags.MONITORING_STATUS, "-"),
        windows,
        settings,
        estimates=history[ESTIMATES_PATH],
    )
    if not history[BACKTEST_PATH].empty:
        data.counts_backtest = history[BACKTEST_PATH]
    challenger = tracker.read_text(runs[-1].run_id, "monitoring/challenger.csv")
    if challenger:
        data.challenger = pd.read_csv(io.StringIO(challenger))
        data.challenger_window = f"Challenger against the champion, window {windows[-1].label}"
    return data


def link_page(tracker: Tracker, version: VersionInfo, page: str) -> None:
    """Store the page on the version's history run and link it from the version's description."""
    experiment = experiment_name(version)
    where = {tags.MONITORING_MODEL: version.name, tags.MONITORING_VERSION: version.version}
    history = tracker.find_runs(experiment, {**where, tags.MONITORING_ROLE: "history"})
    if not history:
        return
    run_id = history[-1].run_id
    tracker.write_text(run_id, page, PAGE)
    link = f"#/experiments/{tracker.experiment_of(run_id)}/runs/{run_id}/artifactPath/{PAGE}"
    tracker.describe_version_part(
        version.name, version.version, LABEL, f"[the life page]({link}) (artifact `{PAGE}` of run {run_id})."
    )
