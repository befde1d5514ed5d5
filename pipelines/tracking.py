"""The one module that talks to MLflow: tracking runs, logging evidence, logging and registering models.

Everything else in creditflow hands plain Python values to this adapter, so tracking and registry
behaviour can be read and tested in one place.
"""

from __future__ import annotations

import io
import os
import socket
import tempfile
import time
import urllib.error
import urllib.request
import uuid
import warnings
from contextlib import contextmanager
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any, Iterator

import mlflow
import pandas as pd
from mlflow import MlflowClient
from mlflow.entities import Metric, Param, RunTag, ViewType
from mlflow.exceptions import MlflowException

from features.errors import CreditflowError

DEFAULT_TRACKING_URI = "sqlite:///mlflow.db"
_MODEL_PACKAGES = ("mlflow", "xgboost", "xgboost-cpu", "pandas", "numpy", "cloudpickle")
_MAX_PARAM_CHARS = 6000


class TrackingError(CreditflowError):
    """The tracking store cannot be reached or refused an operation."""


class UnknownModelError(CreditflowError):
    """A registered model, version or alias that does not exist."""


@dataclass(frozen=True)
class VersionInfo:
    """One registered model version as creditflow reads it: tags and aliases included."""

    name: str
    version: str
    tags: dict[str, str]
    aliases: tuple[str, ...]
    run_id: str | None
    source: str
    created_ms: int

    @property
    def uri(self) -> str:
        return f"models:/{self.name}/{self.version}"


def parse_model_ref(ref: str, default_alias: str = "champion") -> tuple[str, str | None, str | None]:
    """`NAME`, `NAME@ALIAS`, `NAME/VERSION` or `models:/...` of those → (name, alias, version).

    A bare NAME means its `default_alias`.
    """
    text = ref.removeprefix("models:/").strip()
    if "@" in text:
        name, alias = text.split("@", 1)
        version = None
    elif "/" in text:
        name, version = text.rsplit("/", 1)
        alias = None
    else:
        name, alias, version = text, default_alias, None
    if not name or (alias is not None and not alias) or (version is not None and not version.isdigit()):
        raise UnknownModelError(f"model reference {ref!r}: expected NAME, NAME@ALIAS or NAME/VERSION")
    return name, alias, version


def resolve_tracking_uri(value: str | None) -> str:
    """`--tracking-uri`, else MLFLOW_TRACKING_URI, else ./mlflow.db (never the refused ./mlruns file store)."""
    return value or os.environ.get("MLFLOW_TRACKING_URI") or DEFAULT_TRACKING_URI


@dataclass(frozen=True)
class RunSummary:
    run_id: str
    tags: dict[str, str]
    metrics: dict[str, float]


@dataclass
class RunLogger:
    """Logs to one run, batching params and metrics into single calls."""

    client: MlflowClient
    run_id: str

    def params(self, values: dict[str, Any]) -> None:
        items = [Param(k, str(v)[:_MAX_PARAM_CHARS]) for k, v in values.items()]
        for start in range(0, len(items), 100):  # MLflow accepts at most 100 params per batch
            self.client.log_batch(self.run_id, params=items[start:start + 100])

    def metrics(self, values: dict[str, float], step: int = 0) -> None:
        now = _now_ms()
        items = [Metric(k, float(v), now, step) for k, v in values.items()]
        for start in range(0, len(items), 1000):
            self.client.log_batch(self.run_id, metrics=items[start:start + 1000])

    def tags(self, values: dict[str, Any]) -> None:
        self.client.log_batch(self.run_id, tags=[RunTag(k, str(v)) for k, v in values.items()])

    def text(self, text: str, path: str) -> None:
        self.client.log_text(self.run_id, text, path)

    def table(self, frame: pd.DataFrame, path: str) -> None:
        self.client.log_text(self.run_id, frame.to_csv(index=False), path)

    def frame(self, frame: pd.DataFrame, path: str) -> None:
        """A data frame as a Parquet artifact (dtypes kept, unlike CSV)."""
        with tempfile.TemporaryDirectory() as folder:
            local = Path(folder) / Path(path).name
            frame.to_parquet(local, index=False)
            self.client.log_artifact(self.run_id, str(local), str(Path(path).parent) or None)

    def file(self, local: str, folder: str) -> None:
        self.client.log_artifact(self.run_id, local, folder)

    def figure(self, figure: Any, path: str) -> None:
        buffer = io.BytesIO()
        figure.savefig(buffer, format="png", dpi=110, bbox_inches="tight")
        with tempfile.TemporaryDirectory() as folder:
            local = Path(folder) / Path(path).name
            local.write_bytes(buffer.getvalue())
            self.client.log_artifact(self.run_id, str(local), str(Path(path).parent) or None)

    def model(self, python_model: Any, artifacts: dict[str, str], code_paths: list[str],
              input_example: pd.DataFrame, output_example: pd.DataFrame, params: dict[str, Any] | None = None) -> str:
        """Log a pyfunc model with signature, example and explicit requirements; return its URI."""
        with warnings.catch_warnings():
            # Integer columns are typed `long` on purpose: MLflow refuses int64 -> double, and raw
            # application data arrives with int64 columns. Its generic hint about it is noise here.
            warnings.filterwarnings("ignore", message="Hint: Inferred schema contains integer")
            signature = mlflow.models.infer_signature(input_example, output_example, params)
        signature = _integers_accept_missing(signature)
        info = mlflow.pyfunc.log_model(
            name="model", python_model=python_model, artifacts=artifacts, code_paths=code_paths,
            signature=signature, input_example=input_example, pip_requirements=model_requirements(),
        )
        return info.model_uri


class Tracker:
    """A connection to one tracking store and model registry."""

    def __init__(self, tracking_uri: str | None = None):
        self.uri = resolve_tracking_uri(tracking_uri)
        mlflow.set_tracking_uri(self.uri)
        self.client = MlflowClient(self.uri)

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
            mlflow.end_run(status="FAILED")
            raise
        mlflow.end_run(status="FINISHED")

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

    def log_child_run(self, experiment_id: str, parent_run_id: str, name: str, params: dict[str, Any],
                      metrics: dict[str, float], tags: dict[str, str], status: str) -> str:
        """A finished nested run under `parent_run_id`, its values logged in one batch."""
        run = self.client.create_run(experiment_id, run_name=name, tags={"mlflow.parentRunId": parent_run_id, **tags})
        now = _now_ms()
        self.client.log_batch(run.info.run_id, metrics=[Metric(k, float(v), now, 0) for k, v in metrics.items()],
                              params=[Param(k, str(v)) for k, v in params.items()])
        self.client.set_terminated(run.info.run_id, status=status)
        return run.info.run_id

    def tag_values(self, experiment_id: str, where: dict[str, str], tag: str) -> set[str]:
        """The values of `tag` over the runs of an experiment whose tags match `where`."""
        condition = " and ".join(f"tags.`{k}` = '{v}'" for k, v in where.items())
        runs = self.client.search_runs([experiment_id], filter_string=condition, max_results=50_000)
        return {r.data.tags[tag] for r in runs if tag in r.data.tags}

    def describe_version(self, model_name: str, version: str, description: str) -> None:
        self._guard(lambda: self.client.update_model_version(model_name, version, description=description))

    def model_version(self, name: str, version: str) -> VersionInfo:
        found = self._registry(lambda: self.client.get_model_version(name, str(version)), name,
                               f"model {name!r} has no version {version}")
        return self._version_info(found)

    def version_by_alias(self, name: str, alias: str) -> VersionInfo:
        found = self._registry(lambda: self.client.get_model_version_by_alias(name, alias), name,
                               f"model {name!r} has no alias {alias!r}")
        return self._version_info(found)

    def resolve(self, ref: str, default_alias: str = "champion") -> VersionInfo:
        """The version a model reference (see `parse_model_ref`) points at, or a one-line error."""
        name, alias, version = parse_model_ref(ref, default_alias)
        return self.version_by_alias(name, alias) if alias else self.model_version(name, version)

    def model_versions(self, name: str) -> list[VersionInfo]:
        """Every version of a registered model, oldest first, with aliases (search omits them, mlflow 16734)."""
        model = self._registry(lambda: self.client.get_registered_model(name), name, f"unknown model {name!r}")
        aliases: dict[str, list[str]] = {}
        for alias, version in (model.aliases or {}).items():
            aliases.setdefault(str(version), []).append(alias)
        found = self._guard(lambda: self.client.search_model_versions(f"name = '{name}'"))
        infos = [self._version_info(v, tuple(sorted(aliases.get(str(v.version), [])))) for v in found]
        return sorted(infos, key=lambda v: int(v.version))

    def set_version_tags(self, name: str, version: str, tags: dict[str, str]) -> None:
        for key, value in tags.items():
            self._guard(lambda: self.client.set_model_version_tag(name, str(version), key, str(value)))

    def download_artifacts(self, run_id: str, path: str, destination: str) -> str:
        """Copy a run's artifact (file or folder) to `destination`; return the local path."""
        return self._guard(lambda: self.client.download_artifacts(run_id, path, destination))

    def list_artifacts(self, run_id: str, folder: str) -> list[str]:
        return [a.path for a in self._guard(lambda: self.client.list_artifacts(run_id, folder))]

    def load_python_model(self, uri: str) -> Any:
        """The PythonModel object of a logged pyfunc model (e.g. CreditModel with its scorer loaded)."""
        return self._guard(lambda: mlflow.pyfunc.load_model(uri).unwrap_python_model())

    def find_runs(self, experiment: str, tags: dict[str, str], status: str | None = None) -> list[RunSummary]:
        """Active runs of an experiment whose tags match `tags` (and with `status` if given), oldest first."""
        found = self._guard(lambda: self.client.get_experiment_by_name(experiment))
        if found is None:
            return []
        status_clause = [f"attributes.status = '{status}'"] if status else []
        condition = " and ".join([f"tags.`{k}` = '{v}'" for k, v in tags.items()] + status_clause)
        runs = self._guard(lambda: self.client.search_runs([found.experiment_id], filter_string=condition,
                                                           max_results=50_000, order_by=["attributes.start_time ASC"]))
        return [RunSummary(r.info.run_id, dict(r.data.tags), dict(r.data.metrics)) for r in runs]

    def delete_run(self, run_id: str) -> None:
        """Soft-delete a run (MLflow keeps it restorable until garbage collection)."""
        self._guard(lambda: self.client.delete_run(run_id))

    def log_series_run(self, experiment: str, name: str, tags: dict[str, str],
                       series: list[tuple[int, dict[str, float]]]) -> str:
        """A finished run holding metric values at several steps (a trend), logged in batches."""
        experiment_id = self._guard(lambda: self._experiment_id(experiment))
        run = self._guard(lambda: self.client.create_run(experiment_id, run_name=name, tags=tags))
        now = _now_ms()
        items = [Metric(k, float(v), now, step) for step, values in series for k, v in values.items()]
        for start in range(0, len(items), 1000):
            self._guard(lambda: self.client.log_batch(run.info.run_id, metrics=items[start:start + 1000]))
        self._guard(lambda: self.client.set_terminated(run.info.run_id, status="FINISHED"))
        return run.info.run_id

    def probe(self, timeout: float = 3.0) -> None:
        """Fail in seconds, not minutes, when an HTTP tracking server does not answer (MLflow retries
        each request with backoff for minutes before giving up)."""
        if not self.uri.startswith(("http://", "https://")):
            return
        try:
            urllib.request.urlopen(f"{self.uri.rstrip('/')}/health", timeout=timeout).close()
        except (urllib.error.URLError, OSError, socket.timeout) as exc:
            reason = getattr(exc, "reason", exc)
            raise TrackingError(f"tracking store {self.uri} is unreachable: {reason}") from None

    def aliases(self, name: str) -> dict[str, str]:
        """alias -> version of a registered model."""
        model = self._registry(lambda: self.client.get_registered_model(name), name, f"unknown model {name!r}")
        return {alias: str(version) for alias, version in (model.aliases or {}).items()}

    def set_alias(self, name: str, alias: str, version: str) -> None:
        self._guard(lambda: self.client.set_registered_model_alias(name, alias, str(version)))

    def delete_alias(self, name: str, alias: str) -> None:
        self._guard(lambda: self.client.delete_registered_model_alias(name, alias))

    @contextmanager
    def registry_lock(self, name: str, wait_s: float = 60.0, stale_s: float = 300.0) -> Iterator[None]:
        """Mutual exclusion between creditflow processes changing model `name`'s aliases.

        The lock is a registered model named `<name>.lock`: its creation is atomic in every
        tracking store (unique name), so exactly one process holds it. A lock older than
        `stale_s` (its holder was killed) is broken.
        """
        lock, token = f"{name}.lock", f"creditflow lock on {name}, pid {os.getpid()}, token {uuid.uuid4().hex}"
        deadline = time.monotonic() + wait_s
        while True:
            try:
                self.client.create_registered_model(lock, description=token)
                break
            except MlflowException as exc:
                if exc.error_code != "RESOURCE_ALREADY_EXISTS":
                    raise self._error(exc) from None
            self._break_stale_lock(lock, stale_s)
            if time.monotonic() > deadline:
                raise TrackingError(f"model {name!r} is locked by another creditflow command (registered model {lock!r})")
            time.sleep(0.2)
        try:
            yield
        finally:
            self._release(lock, token)

    def _release(self, lock: str, token: str) -> None:
        """Delete the lock if it is still ours (it is not if it was broken as stale and taken again)."""
        try:
            if self.client.get_registered_model(lock).description == token:
                self.client.delete_registered_model(lock)
        except MlflowException:
            pass  # broken as stale meanwhile: nothing of ours to release

    def _break_stale_lock(self, lock: str, stale_s: float) -> None:
        try:
            held = self.client.get_registered_model(lock)
            if _now_ms() - int(held.creation_timestamp or 0) > stale_s * 1000:
                self.client.delete_registered_model(lock)
        except MlflowException:
            pass  # released meanwhile

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
        runs = self._guard(lambda: self.client.search_runs([found.experiment_id], run_view_type=ViewType.ALL,
                                                           max_results=50_000, order_by=["attributes.start_time ASC"]))
        return [{**r.data.params, "_run_id": r.info.run_id, "_deleted": str(r.info.lifecycle_stage == "deleted")}
                for r in runs]

    def download_model(self, model_uri: str, destination: str) -> str:
        """The model folder (MLmodel, artifacts/) of a `models:/`, `runs:/` or artifact URI, copied locally."""
        return self._guard(lambda: mlflow.artifacts.download_artifacts(artifact_uri=model_uri, dst_path=destination,
                                                                        tracking_uri=self.uri))

    def read_text(self, run_id: str, path: str) -> str | None:
        """A text artifact of a run, or None if it does not exist."""
        try:
            with tempfile.TemporaryDirectory() as folder:
                return Path(self.client.download_artifacts(run_id, path, folder)).read_text()
        except (MlflowException, OSError):
            return None

    def write_text(self, run_id: str, text: str, path: str) -> None:
        self._guard(lambda: self.client.log_text(run_id, text, path))

    def _registry(self, call, name: str, missing: str):
        try:
            return call()
        except MlflowException as exc:
            if exc.error_code == "RESOURCE_DOES_NOT_EXIST" or "not found" in str(exc.message).lower():
                known = self._known_model(name)
                raise UnknownModelError(missing if known else f"unknown model {name!r}") from None
            raise self._error(exc) from None

    def _known_model(self, name: str) -> bool:
        try:
            self.client.get_registered_model(name)
            return True
        except MlflowException:
            return False

    @staticmethod
    def _version_info(found: Any, aliases: tuple[str, ...] | None = None) -> VersionInfo:
        return VersionInfo(name=found.name, version=str(found.version), tags=dict(found.tags or {}),
                           aliases=tuple(found.aliases or ()) if aliases is None else aliases,
                           run_id=found.run_id, source=found.source, created_ms=int(found.creation_timestamp or 0))

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

    def register(self, model_name: str, model_uri: str, tags: dict[str, str]) -> str:
        """Create a new model version with all its tags in one call; return the version number."""
        version = self._guard(lambda: mlflow.register_model(model_uri, model_name, tags=tags))
        return str(version.version)

    def _guard(self, call):
        try:
            return call()
        except MlflowException as exc:
            raise self._error(exc) from None

    def _error(self, exc: MlflowException) -> TrackingError:
        first_line = str(exc.message).strip().splitlines()[0] if exc.message else type(exc).__name__
        return TrackingError(f"tracking store {self.uri}: {first_line}")


def _integers_accept_missing(signature: Any) -> Any:
    """Integer input columns typed `any` instead of `long`: an integer column with a missing value
    arrives as float (a JSON null, a CSV gap), which MLflow's `long` refuses before the model runs.
    The model's own FeatureTransform checks these columns are numeric and answers a one-line error."""
    from mlflow.models import ModelSignature
    from mlflow.types.schema import AnyType, ColSpec, DataType, Schema

    columns = [ColSpec(AnyType(), c.name, required=c.required) if c.type in (DataType.long, DataType.integer) else c
               for c in signature.inputs.inputs]
    return ModelSignature(Schema(columns), signature.outputs, signature.params)


def model_requirements() -> list[str]:
    """Pinned requirements of the scoring model (inferring them costs ~3 s per model)."""
    pins = []
    for package in _MODEL_PACKAGES:
        try:
            pins.append(f"{package}=={metadata.version(package)}")
        except metadata.PackageNotFoundError:
            continue
    return pins


def _now_ms() -> int:
    return int(time.time() * 1000)
