"""What a monitored window leaves in MLflow: the window run's artifacts and description, and the model version's
status tags and description paragraph pointing to the latest window's page."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from features.spec import Spec
from monitoring.assess import Assessment
from monitoring.history import experiment_name, model_uri
from monitoring.page import EVIDENTLY_FILE, PAGE_PATH
from monitoring.windows import is_month
from pipelines.core import tags
from pipelines.core.records import VersionInfo
from pipelines.core.tags import MONITORING_LAST_WINDOW, MONITORING_STATUS
from pipelines.tracking import RunLogger, Tracker

if TYPE_CHECKING:  # Evidently loads with the first report, not at import
    from evidently.core.report import Snapshot

MODEL_URI_TAG = tags.MONITORING_MODEL_URI  # on the window run: the version it watched, as a loadable URI
RUN_NOTE_TAG = "mlflow.note.content"  # MLflow shows this tag as the run's description (Markdown)
DESCRIPTION_LABEL = tags.MONITORING_DESCRIPTION


def log_window(run: RunLogger, result: Assessment, snapshot: Snapshot, step: int, spec: Spec, page: str) -> None:
    """Params, metrics at the window's step, the page, the tables and Evidently's report on the window run."""
    run.params(
        {
            tags.MONITORING_WINDOW: result.window,
            tags.MONITORING_STEP: step,
            tags.MONITORING_SETTINGS: json.dumps(spec.monitoring.model_dump(), sort_keys=True),
        }
    )
    run.metrics(result.metrics, step=step)
    run.text(page, PAGE_PATH)
    run.text(json.dumps(result.summary(), indent=2, default=str), "monitoring/summary.json")
    run.table(result.drift, "monitoring/drift.csv")
    run.table(result.quality, "monitoring/quality.csv")
    for path, table in result.tables.items():
        run.table(table, path)
    if result.outcome is not None:
        run.table(result.outcome.bands, "monitoring/outcome_bands.csv")
        if result.outcome.fairness is not None:
            run.text(json.dumps(result.outcome.fairness.to_dict(), indent=2), "monitoring/fairness.json")
    with tempfile.TemporaryDirectory() as folder:
        for name, save in ((EVIDENTLY_FILE, snapshot.save_html), ("drift_report.json", snapshot.save_json)):
            save(str(Path(folder) / name))  # Evidently writes nothing when given a file object
            run.file(str(Path(folder) / name), "monitoring")


def run_description(version: VersionInfo, result: Assessment) -> dict[str, str]:
    """Tags linking the window run back to its model version: the model URI, and a description that names the
    verdict, links to the version's page in the MLflow UI and points to the window's page."""
    reasons = "".join(f"\n- {r}" for r in result.reasons[:10]) + ("\n- ..." if len(result.reasons) > 10 else "")
    note = (
        f"**{result.status.upper()}**: window {result.window} of [{version.name} version {version.version}]"
        f"(#/models/{version.name}/versions/{version.version}) (`{model_uri(version)}`).{reasons}\n\n"
        f"The full page: artifact `{PAGE_PATH}`; Evidently's column detail: `monitoring/{EVIDENTLY_FILE}`."
    )
    return {MODEL_URI_TAG: model_uri(version), RUN_NOTE_TAG: note}


def tag_version(tracker: Tracker, version: VersionInfo, label: str, status: str, run_id: str) -> None:
    """Status tags and the description paragraph follow the latest window, so re-running an old window does not
    overwrite them."""
    last = tracker.model_version(version.name, version.version).tags.get(MONITORING_LAST_WINDOW)
    if last is not None and is_month(last) and is_month(label) and label < last:
        return
    tracker.set_version_tags(version.name, version.version, {MONITORING_STATUS: status, MONITORING_LAST_WINDOW: label})
    link = f"#/experiments/{tracker.experiment_of(run_id)}/runs/{run_id}/artifactPath/{PAGE_PATH}"
    tracker.describe_version_part(
        version.name,
        version.version,
        DESCRIPTION_LABEL,
        f"latest window {label} is {status.upper()}: [its monitoring page]({link}) (artifact `{PAGE_PATH}` of run "
        f"{run_id} in experiment `{experiment_name(version)}`).",
    )
