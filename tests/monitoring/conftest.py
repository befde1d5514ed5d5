"""Monitoring tests watch `consumer_loans` version 1 of the session store (tests/conftest.py `consumer_store`),
each in a private copy of it."""

from __future__ import annotations

from pathlib import Path

import mlflow
import pytest
from click.testing import CliRunner

from features.synthetic import BookOptions, generate_book, scenario_options
from pipelines.cli import cli
from tests.conftest import use_store

MODEL = "consumer_loans"
LAST = "2025-12"  # the generated books cover 2024-01 .. 2025-12


def invoke(*args):
    return CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)


@pytest.fixture
def store(consumer_store, tmp_path, monkeypatch) -> str:
    yield use_store(consumer_store / "mlflow.db", tmp_path, monkeypatch)
    mlflow.set_tracking_uri(None)


def book(path: Path, scenario: str | None = None, labelled: bool = False, seed: int = 11, rows: int = 24_000) -> Path:
    frame = generate_book(BookOptions(rows=rows, seed=seed, **(scenario_options(scenario) if scenario else {})))
    if not labelled:
        frame = frame.drop(columns="default_12m")
    frame.to_parquet(path)
    return path


def window_runs(uri: str, **tags) -> list:
    client = mlflow.MlflowClient(uri)
    experiment = client.get_experiment_by_name(f"{MODEL}-monitoring")
    if experiment is None:
        return []
    condition = " and ".join(f"tags.`monitoring.{k}` = '{v}'" for k, v in {"role": "window", **tags}.items())
    return client.search_runs([experiment.experiment_id], condition)
