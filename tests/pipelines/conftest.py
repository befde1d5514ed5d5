"""A tracking store with two registered German Credit versions (author alice), made once per session
through `creditflow run` and copied into each governance test: running the pipeline costs ~15 s."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from unittest import mock

import mlflow
import pandas as pd
import pytest
from click.testing import CliRunner

from pipelines.cli import cli
from tests.conftest import GERMAN_SPEC, use_store, write_spec

# Loose policy so that every gate passes on German Credit (the rules under test are governance's).
RELAXED = {
    "policy.fairness.min_air": 0.01,
    "policy.fairness.max_dp_difference": 1.0,
    "policy.fairness.max_eo_difference": 1.0,
    "policy.fairness.min_group_size": 1,
    "policy.fairness.n_boot": 20,
    "policy.performance.minimum": {"auc": 0.5},
}
AUTHOR = "alice"


def relaxed_german_spec(folder: Path) -> Path:
    """German Credit with an applicant id column (`data.id`) and the relaxed policy."""
    frame = pd.read_csv(GERMAN_SPEC.parent / "data" / "german_credit.csv")
    frame.insert(0, "applicant_id", [f"A{i:04d}" for i in range(len(frame))])
    frame.to_csv(folder / "german_ids.csv", index=False)
    return write_spec(folder, **RELAXED, **{"data.source": str(folder / "german_ids.csv"), "data.id": "applicant_id"})


@pytest.fixture(scope="session")
def registered_store(tmp_path_factory, store_template) -> Path:
    folder = tmp_path_factory.mktemp("governed")
    shutil.copy(store_template, folder / "mlflow.db")
    uri = f"sqlite:///{folder / 'mlflow.db'}"
    spec = relaxed_german_spec(folder)
    with mock.patch.dict(os.environ, {"CREDITFLOW_USER": AUTHOR, "MLFLOW_TRACKING_URI": uri}):
        for _ in range(2):
            result = CliRunner().invoke(cli, ["run", str(spec), "--tracking-uri", uri], catch_exceptions=False)
            assert result.exit_code == 0, result.output
    mlflow.set_tracking_uri(None)
    return folder


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items):
    """Running the pipeline once per session still runs it: every test using the store is `slow`."""
    for item in items:
        if "registered_store" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.slow)


def use_governed_store(registered_store: Path, folder: Path, monkeypatch) -> str:
    """A private copy of the two-version store in `folder` (artifacts stay in the session folder), made the
    default for what the test runs, as user carol; its URI."""
    shutil.copy(registered_store / "german_ids.csv", folder / "german_ids.csv")
    monkeypatch.setenv("CREDITFLOW_USER", "carol")
    return use_store(registered_store / "mlflow.db", folder, monkeypatch)


@pytest.fixture
def governed(tmp_path, registered_store, monkeypatch) -> str:
    """A private copy of the two-version store for this test; returns its URI."""
    yield use_governed_store(registered_store, tmp_path, monkeypatch)
    mlflow.set_tracking_uri(None)


def registry_snapshot(uri: str) -> list:
    """Every registered model's versions with tags, and its aliases: what a failed command must not change."""
    client = mlflow.MlflowClient(uri)
    state = []
    for model in client.search_registered_models():
        detail = client.get_registered_model(model.name)
        versions = client.search_model_versions(f"name = '{model.name}'")
        state.append(
            (
                model.name,
                sorted((k, str(v)) for k, v in detail.aliases.items()),
                sorted((v.version, sorted(v.tags.items()), v.source) for v in versions),
            )
        )
    return sorted(state)
