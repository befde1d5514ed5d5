"""Logging to one run: params, metrics, tags, artifacts and the pyfunc model."""

from __future__ import annotations

import tempfile
import warnings
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

import mlflow
import pandas as pd
from mlflow import MlflowClient
from mlflow.entities import Metric, Param, RunTag

from pipelines.tracking.common import _MAX_PARAM_CHARS, _now_ms

_MODEL_PACKAGES = ("mlflow", "xgboost", "xgboost-cpu", "pandas", "numpy", "cloudpickle")


@dataclass
class RunLogger:
    """Logs to one run, batching params and metrics into single calls."""

    client: MlflowClient
    run_id: str

    def params(self, values: dict[str, Any]) -> None:
        items = [Param(k, str(v)[:_MAX_PARAM_CHARS]) for k, v in values.items()]
        for start in range(0, len(items), 100):  # MLflow accepts at most 100 params per batch
            self.client.log_batch(self.run_id, params=items[start : start + 100])

    def metrics(self, values: dict[str, float], *, step: int = 0) -> None:
        now = _now_ms()
        items = [Metric(k, float(v), now, step) for k, v in values.items()]
        for start in range(0, len(items), 1000):
            self.client.log_batch(self.run_id, metrics=items[start : start + 1000])

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

    def image(self, png: bytes, path: str) -> None:
        """A rendered image (PNG bytes) as an artifact at `path`."""
        with tempfile.TemporaryDirectory() as folder:
            local = Path(folder) / Path(path).name
            local.write_bytes(png)
            self.client.log_artifact(self.run_id, str(local), str(Path(path).parent) or None)

    def model(
        self,
        python_model: str,
        artifacts: dict[str, str],
        code_paths: list[str],
        input_example: pd.DataFrame,
        output_example: pd.DataFrame,
        *,
        params: dict[str, Any] | None = None,
    ) -> str:
        """Log a pyfunc model (`python_model`: the path of its models-from-code file) with signature, example and
        explicit requirements; return its URI. The signature names exactly the example's columns: what the
        model takes (the model itself refuses a request carrying a column it must not receive)."""
        with warnings.catch_warnings():
            # Integer columns are typed `long` on purpose: MLflow refuses int64 -> double, and raw
            # application data arrives with int64 columns. Its generic hint about it is noise here.
            warnings.filterwarnings("ignore", message="Hint: Inferred schema contains integer")
            signature = mlflow.models.infer_signature(input_example, output_example, params)
        signature = _integers_accept_missing(signature)
        info = mlflow.pyfunc.log_model(
            name="model",
            python_model=python_model,
            artifacts=artifacts,
            code_paths=code_paths,
            signature=signature,
            input_example=input_example,
            pip_requirements=model_requirements(),
        )
        return info.model_uri


def _integers_accept_missing(signature: Any) -> Any:
    """Integer input columns typed `any` instead of `long`: an integer column with a missing value
    arrives as float (a JSON null, a CSV gap), which MLflow's `long` refuses before the model runs.
    The model's own FeatureTransform checks these columns are numeric and answers a one-line error."""
    from mlflow.models import ModelSignature
    from mlflow.types.schema import AnyType, ColSpec, DataType, Schema

    columns = [
        ColSpec(AnyType(), c.name, required=c.required) if c.type in (DataType.long, DataType.integer) else c
        for c in signature.inputs.inputs
    ]
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
