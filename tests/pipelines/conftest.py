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
from pipelines.core.tags import AUDIT_HEAD
from tests.conftest import GERMAN_SPEC, use_store, write_policy, write_spec

# A loose policy (as a risk function could write one) so that every gate passes on German Credit: the rules
# under test are governance's.
RELAXED = {
    "version": "1",  # the tests read "relaxed v1" (the shipped policy it copies is at version 2)
    "limits.fairness.min_air": 0.01,
    "limits.fairness.min_declines": 0,  # groups of one applicant are judged here: none has ten declines
    "limits.fairness.max_dp_difference": 1.0,
    "limits.fairness.max_eo_difference": 1.0,
    "limits.fairness.min_group_size": 1,
    "limits.performance.minimum": {"auc": 0.5},
}
AUTHOR = "alice"


def relaxed_german_spec(folder: Path, **changes) -> Path:
    """German Credit with an applicant id column (`data.id`), judged under the relaxed policy."""
    frame = pd.read_csv(GERMAN_SPEC.parent / "data" / "german_credit.csv")
    frame.insert(0, "applicant_id", [f"A{i:04d}" for i in range(len(frame))])
    frame.to_csv(folder / "german_ids.csv", index=False)
    write_policy(folder, "relaxed", **RELAXED)
    values = {
        "policy.name": "relaxed",
        "policy.performance.minimum": {"auc": 0.5},
        "policy.fairness.n_boot": 20,
        "data.source": str(folder / "german_ids.csv"),
        "data.id": "applicant_id",
    }
    return write_spec(folder, **{**values, **changes})


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


@pytest.fixture(scope="session")
def honest_store(tmp_path_factory, store_template) -> Path:
    """German Credit under the shipped policy, author alice: version 1 fails the fairness gate honestly (with the
    less-discriminatory alternative in its evidence), version 2 declares no sensitive attribute (not assessed)."""
    folder = tmp_path_factory.mktemp("honest")
    shutil.copy(store_template, folder / "mlflow.db")
    uri = f"sqlite:///{folder / 'mlflow.db'}"
    mitigation = {"enabled": True, "max_iter": 5, "max_rows": 600}
    versions = [
        {"policy.fairness.n_boot": 20, "policy.fairness.mitigation": mitigation},
        {"data.sensitive": [], "policy.fairness.n_boot": 20},
    ]
    with mock.patch.dict(os.environ, {"CREDITFLOW_USER": AUTHOR, "MLFLOW_TRACKING_URI": uri}):
        for changes in versions:
            spec = write_spec(folder, **changes)  # one file name per spec: written just before its run
            result = CliRunner().invoke(cli, ["run", str(spec), "--tracking-uri", uri], catch_exceptions=False)
            assert result.exit_code == 0, result.output
    mlflow.set_tracking_uri(None)
    return folder


@pytest.fixture
def honest(tmp_path, honest_store, monkeypatch) -> str:
    """A private copy of the honest store and its artifacts (its review pages are re-rendered); returns its URI."""
    monkeypatch.setenv("CREDITFLOW_USER", "carol")
    monkeypatch.setenv("CREDITFLOW_POLICY_DIR", str(honest_store / "policies"))  # the project's policy folder
    yield use_store(honest_store / "mlflow.db", tmp_path, monkeypatch, artifacts=True)
    mlflow.set_tracking_uri(None)


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items):
    """Running the pipeline once per session still runs it: every test using the store is `slow`."""
    for item in items:
        if {"registered_store", "honest_store"} & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.slow)


def use_governed_store(registered_store: Path, folder: Path, monkeypatch) -> str:
    """A private copy of the two-version store in `folder` (artifacts stay in the session folder), made the
    default for what the test runs, as user carol; its URI."""
    shutil.copy(registered_store / "german_ids.csv", folder / "german_ids.csv")
    monkeypatch.setenv("CREDITFLOW_USER", "carol")
    monkeypatch.setenv("CREDITFLOW_POLICY_DIR", str(registered_store / "policies"))  # the project's policy folder
    return use_store(registered_store / "mlflow.db", folder, monkeypatch)


@pytest.fixture
def governed(tmp_path, registered_store, monkeypatch) -> str:
    """A private copy of the two-version store for this test; returns its URI."""
    yield use_governed_store(registered_store, tmp_path, monkeypatch)
    mlflow.set_tracking_uri(None)


def registry_snapshot(uri: str) -> list:
    """Every registered model's versions with tags, and its aliases: what a failed command must not change. The
    trail's anchor (`audit.head`) is left out: a refusal is recorded, and every record moves the anchor."""
    client = mlflow.MlflowClient(uri)
    state = []
    for model in client.search_registered_models():
        detail = client.get_registered_model(model.name)
        versions = client.search_model_versions(f"name = '{model.name}'")
        state.append(
            (
                model.name,
                sorted((k, str(v)) for k, v in detail.aliases.items()),
                sorted((v.version, sorted(_governed(v.tags)), v.source) for v in versions),
            )
        )
    return sorted(state)


def _governed(values: dict[str, str]) -> list[tuple[str, str]]:
    return [(k, v) for k, v in values.items() if k != AUDIT_HEAD]
