"""Runs and their artifacts: the pipeline's runs, nested trial runs, monitoring windows, audit records."""

from __future__ import annotations

import logging
import os
import tempfile
import urllib.parse
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

import mlflow
from mlflow.entities import Metric, Param, ViewType
from mlflow.exceptions import MlflowException

from pipelines.core.tags import EXPERIMENT_KIND, MODEL_DEVELOPMENT, OWNER
from pipelines.owner import describe, interruptible, owner_is_dead, owner_token
from pipelines.tracking.common import Connection, RunSummary, StoredRun, TrackingError, _now_ms
from pipelines.tracking.logger import RunLogger

log = logging.getLogger("creditflow")


class Runs(Connection):
    """Tracking: experiments, runs, artifacts."""

    @contextmanager
    def run(self, experiment: str, *, run_name: str, tags: dict[str, str] | None = None) -> Iterator[RunLogger]:
        """An MLflow run that ends FAILED if the body raises and KILLED on SIGTERM or Ctrl-C; it carries its
        owner (pid, host) so that the next command closes it if this process is killed outright.

        Under `mlflow run`, MLFLOW_RUN_ID names the project's run and is reused, in whatever
        experiment `mlflow run --experiment-name` chose.
        """
        if not os.environ.get("MLFLOW_RUN_ID"):
            experiment_id = self._guard(lambda: self._experiment_id(experiment))
            self.close_dead_runs(experiment_id)
            mlflow.set_experiment(experiment_id=experiment_id)
        active = self._guard(lambda: mlflow.start_run(run_name=run_name, tags={**(tags or {}), OWNER: owner_token()}))
        logger = RunLogger(self.client, active.info.run_id)
        with interruptible():
            try:
                yield logger
            except BaseException as exc:
                _end_quietly("KILLED" if isinstance(exc, KeyboardInterrupt) else "FAILED")  # Interrupted is one
                raise
            self._guard(lambda: mlflow.end_run(status="FINISHED"))

    def close_dead_runs(self, experiment_id: str) -> list[str]:
        """Close (KILLED) the runs of an experiment left RUNNING by a process that is dead; their ids."""
        try:
            running = self.client.search_runs(
                [experiment_id], filter_string="attributes.status = 'RUNNING'", max_results=1000
            )
        except MlflowException:
            return []
        closed = []
        for found in running:
            owner = found.data.tags.get(OWNER)
            if owner is not None and owner_is_dead(owner):
                try:
                    self.client.set_terminated(found.info.run_id, status="KILLED")
                except MlflowException as exc:  # a team server refuses another user's run: leave it
                    log.warning("could not close run %s: %s", found.info.run_id, str(exc).splitlines()[0])
                    continue
                log.info("closed run %s: left RUNNING by %s, which is gone", found.info.run_id, describe(owner))
                closed.append(found.info.run_id)
        return closed

    def close_dead_runs_of(self, experiments: list[str]) -> list[str]:
        """`close_dead_runs` over experiments named (those that do not exist are skipped)."""
        closed = []
        for name in experiments:
            found = self._guard(lambda: self.client.get_experiment_by_name(name))
            if found is not None:
                closed += self.close_dead_runs(found.experiment_id)
        return closed

    def run_tags(self, run_id: str) -> dict[str, str] | None:
        """A run's tags, or None if the run does not exist (or was deleted)."""
        try:
            found = self.client.get_run(run_id)
        except MlflowException:
            return None
        return None if found.info.lifecycle_stage == "deleted" else dict(found.data.tags)

    def run_metrics(self, run_id: str) -> dict[str, float]:
        """A run's latest metric values (empty when the run is gone)."""
        try:
            return dict(self.client.get_run(run_id).data.metrics)
        except MlflowException:
            return {}

    def run_params(self, run_id: str) -> dict[str, str]:
        """A run's params (empty when the run is gone)."""
        try:
            return dict(self.client.get_run(run_id).data.params)
        except MlflowException:
            return {}

    def run_state(self, run_id: str) -> tuple[str, str] | None:
        """(status, owner token) of a run, or None if it does not exist."""
        try:
            found = self.client.get_run(run_id)
        except MlflowException:
            return None
        return found.info.status, found.data.tags.get(OWNER, "")

    def experiment_of(self, run_id: str) -> str:
        return self.client.get_run(run_id).info.experiment_id

    def end_if_running(self, run_id: str, status: str) -> bool:
        """Close a run a killed process left RUNNING; False if it is unknown or already ended."""
        try:
            if self.client.get_run(run_id).info.status != "RUNNING":
                return False
        except MlflowException:
            return False
        self.client.set_terminated(run_id, status=status)
        return True

    def log_child_run(
        self,
        experiment_id: str,
        parent_run_id: str,
        name: str,
        params: dict[str, Any],
        metrics: dict[str, float],
        tags: dict[str, str],
        status: str,
    ) -> str:
        """A finished nested run under `parent_run_id`, its values logged in one batch."""
        run = self.client.create_run(
            experiment_id, run_name=name, tags={"mlflow.parentRunId": parent_run_id, OWNER: owner_token(), **tags}
        )
        now = _now_ms()
        self.client.log_batch(
            run.info.run_id,
            metrics=[Metric(k, float(v), now, 0) for k, v in metrics.items()],
            params=[Param(k, str(v)) for k, v in params.items()],
        )
        self.client.set_terminated(run.info.run_id, status=status)
        return run.info.run_id

    def tag_values(self, experiment_id: str, where: dict[str, str], tag: str) -> set[str]:
        """The values of `tag` over the runs of an experiment whose tags match `where`."""
        condition = " and ".join(f"tags.`{k}` = '{v}'" for k, v in where.items())
        runs = self.client.search_runs([experiment_id], filter_string=condition, max_results=50_000)
        return {r.data.tags[tag] for r in runs if tag in r.data.tags}

    def download_artifacts(self, run_id: str, path: str, destination: str) -> str:
        """Copy a run's artifact (file or folder) to `destination`; return the local path."""
        return self._guard(lambda: self.client.download_artifacts(run_id, path, destination))

    def list_artifacts(self, run_id: str, folder: str) -> list[str]:
        return [a.path for a in self._guard(lambda: self.client.list_artifacts(run_id, folder))]

    def find_runs(self, experiment: str, tags: dict[str, str], *, status: str | None = None) -> list[RunSummary]:
        """Active runs of an experiment whose tags match `tags` (and with `status` if given), oldest first."""
        found = self._guard(lambda: self.client.get_experiment_by_name(experiment))
        if found is None:
            return []
        status_clause = [f"attributes.status = '{status}'"] if status else []
        condition = " and ".join([f"tags.`{k}` = '{v}'" for k, v in tags.items()] + status_clause)
        runs = self._guard(
            lambda: self.client.search_runs(
                [found.experiment_id],
                filter_string=condition,
                max_results=50_000,
                order_by=["attributes.start_time ASC"],
            )
        )
        return [RunSummary(r.info.run_id, dict(r.data.tags), dict(r.data.metrics)) for r in runs]

    def delete_run(self, run_id: str) -> None:
        """Soft-delete a run (MLflow keeps it restorable until garbage collection)."""
        self._guard(lambda: self.client.delete_run(run_id))

    def log_series_run(
        self, experiment: str, name: str, tags: dict[str, str], series: list[tuple[int, dict[str, float]]]
    ) -> str:
        """A finished run holding metric values at several steps (a trend), logged in batches."""
        experiment_id = self._guard(lambda: self._experiment_id(experiment))
        run = self._guard(lambda: self.client.create_run(experiment_id, run_name=name, tags=tags))
        now = _now_ms()
        items = [Metric(k, float(v), now, step) for step, values in series for k, v in values.items()]
        for start in range(0, len(items), 1000):
            self._guard(lambda: self.client.log_batch(run.info.run_id, metrics=items[start : start + 1000]))
        self._guard(lambda: self.client.set_terminated(run.info.run_id, status="FINISHED"))
        return run.info.run_id

    def log_record(self, experiment: str, run_name: str, values: dict[str, Any]) -> str:
        """One finished run holding `values` as params: MLflow never lets a param change once logged.
        Values must fit a param (the caller checks): a hash-chained record must be stored as sealed. The record is
        read back and compared; a record the store did not keep as written (or could not write) is rolled back:
        its run closed FAILED and deleted, and the error says so, so no unreadable record is left behind."""
        experiment_id = self._guard(lambda: self._experiment_id(experiment))
        run = self._guard(lambda: self.client.create_run(experiment_id, run_name=run_name, tags={OWNER: owner_token()}))
        run_id = run.info.run_id
        written = {k: str(v) for k, v in values.items()}
        try:
            self._guard(lambda: self.client.log_batch(run_id, params=[Param(k, v) for k, v in written.items()]))
            stored = dict(self._guard(lambda: self.client.get_run(run_id)).data.params)
            if stored != written:
                differ = sorted(k for k in written.keys() | stored.keys() if stored.get(k) != written.get(k))
                raise TrackingError(
                    f"the tracking store did not keep audit record {run_name} as written (field(s) "
                    f"{', '.join(differ)} read back different): it was rolled back, nothing was recorded"
                )
            self._guard(lambda: self.client.set_terminated(run_id, status="FINISHED"))
        except BaseException:
            self._roll_back(run_id)
            raise
        return run_id

    def _roll_back(self, run_id: str) -> None:
        """Close and delete a record's run that could not be written whole (best effort: the error that led here
        is the one reported)."""
        try:
            self.client.set_terminated(run_id, status="FAILED")
            self.client.delete_run(run_id)
        except Exception as exc:  # the store failing again: the first error is the one to report
            log.warning("could not roll back the record run %s: %s", run_id, exc)

    def records(self, experiment: str) -> list[StoredRun]:
        """Every run of `experiment` that holds params, deleted runs included, oldest first. Runs without
        params (a record whose process died before writing it) are closed if their owner is dead and skipped."""
        found = self._guard(lambda: self.client.get_experiment_by_name(experiment))
        if found is None:
            return []
        runs = self._guard(
            lambda: self.client.search_runs(
                [found.experiment_id],
                run_view_type=ViewType.ALL,
                max_results=50_000,
                order_by=["attributes.start_time ASC"],
            )
        )
        stored = []
        for r in runs:
            if not r.data.params:
                if r.info.status == "RUNNING" and owner_is_dead(r.data.tags.get(OWNER)):
                    self._guard(lambda: self.client.set_terminated(r.info.run_id, status="KILLED"))
                continue
            deleted = r.info.lifecycle_stage == "deleted"
            stored.append(StoredRun(r.info.run_id, dict(r.data.params), int(r.info.start_time or 0), deleted))
        return stored

    def experiment_state(self, name: str) -> str | None:
        """'active' or 'deleted' for an experiment, None if there is none of that name."""
        found = self._guard(lambda: self.client.get_experiment_by_name(name))
        return None if found is None else str(found.lifecycle_stage)

    def restore_experiment(self, name: str) -> None:
        found = self._guard(lambda: self.client.get_experiment_by_name(name))
        if found is not None:
            self._guard(lambda: self.client.restore_experiment(found.experiment_id))

    def rename_experiment(self, name: str, new_name: str) -> None:
        found = self._guard(lambda: self.client.get_experiment_by_name(name))
        if found is not None:
            self._guard(lambda: self.client.rename_experiment(found.experiment_id, new_name))

    def download_model(self, model_uri: str, destination: str) -> str:
        """The model folder (MLmodel, artifacts/) of a `models:/`, `runs:/` or artifact URI, copied locally."""
        with _quiet_download():
            return self._guard(
                lambda: mlflow.artifacts.download_artifacts(
                    artifact_uri=model_uri, dst_path=destination, tracking_uri=self.uri
                )
            )

    def read_text(self, run_id: str, path: str) -> str | None:
        """A text artifact of a run, or None if it does not exist."""
        try:
            with tempfile.TemporaryDirectory() as folder, _quiet_download():
                return Path(self.client.download_artifacts(run_id, path, folder)).read_text()
        except (MlflowException, OSError):
            return None

    def ui_link(self, run_id: str, path: str) -> str:
        """The artifact's page in MLflow's UI: an http URL a browser opens on a tracking server, else the UI's
        relative link (what `mlflow ui` on the local store serves)."""
        link = f"#/experiments/{self.experiment_of(run_id)}/runs/{run_id}/artifactPath/{path}"
        return f"{self.uri.rstrip('/')}/{link}" if self.uri.startswith(("http://", "https://")) else link

    def artifact_location(self, run_id: str, path: str) -> str:
        """Where a run's artifact lives: a local path for a local artifact store (open it in a browser), its page in
        the server's UI on a tracking server (not an `mlflow-artifacts:/` URI no browser opens), or a URI."""
        if self.uri.startswith(("http://", "https://")):
            return self.ui_link(run_id, path)
        uri = f"{self._guard(lambda: self.client.get_run(run_id)).info.artifact_uri.rstrip('/')}/{path}"
        return urllib.parse.unquote(urllib.parse.urlparse(uri).path) if uri.startswith("file://") else uri

    def write_text(self, run_id: str, text: str, path: str) -> None:
        self._guard(lambda: self.client.log_text(run_id, text, path))

    def _experiment_id(self, name: str) -> str:
        found = self.client.get_experiment_by_name(name)
        if found is not None:
            return found.experiment_id
        kind = {EXPERIMENT_KIND: MODEL_DEVELOPMENT}  # the UI opens it on its runs, not on traces
        return self.client.create_experiment(name, artifact_location=self._artifact_root(name), tags=kind)

    def _artifact_root(self, name: str) -> str | None:
        """Artifacts of a local SQLite store go to ./mlartifacts beside it.

        MLflow's default would be ./mlruns, whose mere presence flips a later MLflow default
        to the refused file store.
        """
        if not self.uri.startswith("sqlite:///"):
            return None
        database = Path(self.uri.removeprefix("sqlite:///")).resolve()
        return (database.parent / "mlartifacts" / name).as_uri()


def _end_quietly(status: str) -> None:
    """End the active run; a store that fails now must not hide the error that ended the run."""
    try:
        mlflow.end_run(status=status)
    except Exception as exc:  # noqa: BLE001 - reported, then the original error propagates
        log.warning("could not mark the run %s: %s", status, exc)


@contextmanager
def _quiet_download() -> Iterator[None]:
    """No progress bar on stderr for a model download (a few dozen small files; it would interleave with
    command output) unless the user asked for one."""
    key = "MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR"
    if key in os.environ:
        yield
        return
    os.environ[key] = "false"
    try:
        yield
    finally:
        os.environ.pop(key, None)
