"""Runs and their artifacts: the pipeline's runs, nested trial runs, monitoring windows, audit records."""

from __future__ import annotations

import os
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

import mlflow
from mlflow.entities import Metric, Param, ViewType
from mlflow.exceptions import MlflowException

from pipelines.tracking.common import _MAX_PARAM_CHARS, Connection, RunSummary, _now_ms
from pipelines.tracking.logger import RunLogger


class Runs(Connection):
    """Tracking: experiments, runs, artifacts."""

    @contextmanager
    def run(self, experiment: str, run_name: str, tags: dict[str, str] | None = None) -> Iterator[RunLogger]:
        """An MLflow run that ends FAILED if the body raises.

        Under `mlflow run`, MLFLOW_RUN_ID names the project's run and is reused, in whatever
        experiment `mlflow run --experiment-name` chose.
        """
        if not os.environ.get("MLFLOW_RUN_ID"):
            experiment_id = self._guard(lambda: self._experiment_id(experiment))
            mlflow.set_experiment(experiment_id=experiment_id)
        active = self._guard(lambda: mlflow.start_run(run_name=run_name, tags=tags))
        logger = RunLogger(self.client, active.info.run_id)
        try:
            yield logger
        except BaseException:
            try:
                mlflow.end_run(status="FAILED")
            except MlflowException:
                pass  # the store is gone (the error being raised says why): the run stays RUNNING there
            raise
        self._guard(lambda: mlflow.end_run(status="FINISHED"))

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
        run = self.client.create_run(experiment_id, run_name=name, tags={"mlflow.parentRunId": parent_run_id, **tags})
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

    def find_runs(self, experiment: str, tags: dict[str, str], status: str | None = None) -> list[RunSummary]:
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
        """One finished run holding `values` as params: MLflow never lets a param change once logged."""
        experiment_id = self._guard(lambda: self._experiment_id(experiment))
        run = self._guard(lambda: self.client.create_run(experiment_id, run_name=run_name))
        params = [Param(k, str(v)[:_MAX_PARAM_CHARS]) for k, v in values.items()]
        self._guard(lambda: self.client.log_batch(run.info.run_id, params=params))
        self._guard(lambda: self.client.set_terminated(run.info.run_id, status="FINISHED"))
        return run.info.run_id

    def records(self, experiment: str) -> list[dict[str, str]]:
        """The params of every run of `experiment`, deleted runs included (marked `_deleted`)."""
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
        return [
            {**r.data.params, "_run_id": r.info.run_id, "_deleted": str(r.info.lifecycle_stage == "deleted")}
            for r in runs
        ]

    def download_model(self, model_uri: str, destination: str) -> str:
        """The model folder (MLmodel, artifacts/) of a `models:/`, `runs:/` or artifact URI, copied locally."""
        return self._guard(
            lambda: mlflow.artifacts.download_artifacts(
                artifact_uri=model_uri, dst_path=destination, tracking_uri=self.uri
            )
        )

    def read_text(self, run_id: str, path: str) -> str | None:
        """A text artifact of a run, or None if it does not exist."""
        try:
            with tempfile.TemporaryDirectory() as folder:
                return Path(self.client.download_artifacts(run_id, path, folder)).read_text()
        except (MlflowException, OSError):
            return None

    def write_text(self, run_id: str, text: str, path: str) -> None:
        self._guard(lambda: self.client.log_text(run_id, text, path))

    def _experiment_id(self, name: str) -> str:
        found = self.client.get_experiment_by_name(name)
        if found is not None:
            return found.experiment_id
        return self.client.create_experiment(name, artifact_location=self._artifact_root(name))

    def _artifact_root(self, name: str) -> str | None:
        """Artifacts of a local SQLite store go to ./mlartifacts beside it.

        MLflow's default would be ./mlruns, whose mere presence flips a later MLflow default
        to the refused file store.
        """
        if not self.uri.startswith("sqlite:///"):
            return None
        database = Path(self.uri.removeprefix("sqlite:///")).resolve()
        return (database.parent / "mlartifacts" / name).as_uri()
