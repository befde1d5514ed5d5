"""Optional reproduction (`validation.reproduce: true` in the governed policy): `creditflow validate` retrains from
the version's recorded spec, seed, data and hyper-parameters and compares holdout PDs with the registered model's;
a model the recorded inputs do not reproduce fails `validation.reproducibility`, and promotion refuses it."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import mlflow
import pytest
from click.testing import CliRunner

from pipelines.cli import cli
from tests.conftest import write_policy
from tests.pipelines.conftest import RELAXED, registry_snapshot

MODEL = "german_credit"
pytestmark = pytest.mark.slow  # each case retrains German Credit once beside the validation


def invoke(*args, user="carol"):
    return CliRunner().invoke(cli, [*map(str, args)], env={"CREDITFLOW_USER": user})


@pytest.fixture
def reproducing(governed, tmp_path, monkeypatch) -> str:
    """The governed store, its `relaxed` policy now asking the validator to reproduce."""
    write_policy(tmp_path, "relaxed", **RELAXED, **{"validation.reproduce": True})
    monkeypatch.setenv("CREDITFLOW_POLICY_DIR", str(tmp_path / "policies"))
    return governed


def _run_params(uri: str, version: str, sql: str, *values: str) -> None:
    """Edit what the version's run logged, in the SQLite store itself (MLflow's API never lets a param change)."""
    run_id = mlflow.MlflowClient(uri).get_model_version(MODEL, version).run_id
    with sqlite3.connect(Path(uri.removeprefix("sqlite:///"))) as db:
        assert db.execute(sql, (*values, run_id)).rowcount > 0


def test_the_registered_model_is_reproduced(reproducing):
    result = invoke("validate", MODEL, 1)
    assert result.exit_code == 0, result.output
    assert "validation.reproducibility=passed (reproducibility passed: retrained from the recorded" in result.output
    tags = mlflow.MlflowClient(reproducing).get_model_version(MODEL, "1").tags
    assert tags["validation.reproducibility"] == "passed"
    page = Path(result.output.split("review page: ")[1].strip()).read_text()
    assert "validation.reproducibility" in page and "max |PD difference|" in page


def test_a_model_its_recorded_seed_does_not_reproduce_fails_and_is_not_promoted(reproducing):
    _run_params(reproducing, "1", "UPDATE params SET value = ? WHERE key = 'seed' AND run_uuid = ?", "4242")
    result = invoke("validate", MODEL, 1)
    assert result.exit_code == 0, result.output  # a verdict recorded, not an error
    line = next(x for x in result.output.splitlines() if "validation.reproducibility=" in x)
    assert "validation.reproducibility=failed" in line and "limit 1e-06" in line
    assert float(line.split("max |PD difference| ")[1].split()[0]) > 1e-6
    tags = mlflow.MlflowClient(reproducing).get_model_version(MODEL, "1").tags
    assert tags["validation.reproducibility"] == "failed"
    assert invoke("review", MODEL, 1, "--approve", "--comment", "read it", user="dave").exit_code == 0
    refused = invoke("promote", MODEL, 1)
    assert refused.exit_code == 1 and "validation.reproducibility" in refused.output, refused.output


def test_a_run_without_recorded_hyper_parameters_is_one_line_exit_2_and_writes_nothing(reproducing):
    before = registry_snapshot(reproducing)
    _run_params(reproducing, "2", "DELETE FROM params WHERE key LIKE ? AND run_uuid = ?", "xgb.%")
    result = invoke("validate", MODEL, 2)
    assert result.exit_code == 2 and result.output.count("\n") == 1, result.output
    assert "its run logged no hyper-parameters or seed: it cannot be reproduced" in result.output
    assert registry_snapshot(reproducing) == before


def test_a_later_validation_without_reproduction_does_not_keep_the_earlier_verdict(reproducing, tmp_path):
    """A `failed` reproducibility from an earlier validation must not stand beside evidence that no longer checked
    it: validated again under a policy version that does not reproduce, the tag says not_assessed."""
    _run_params(reproducing, "1", "UPDATE params SET value = ? WHERE key = 'seed' AND run_uuid = ?", "4242")
    assert invoke("validate", MODEL, 1).exit_code == 0
    write_policy(tmp_path, "relaxed", **{**RELAXED, "version": "1.1"})  # validation.reproduce off again
    result = invoke("validate", MODEL, 1)
    assert result.exit_code == 0, result.output
    tags = mlflow.MlflowClient(reproducing).get_model_version(MODEL, "1").tags
    assert tags["validation.reproducibility"] == "not_assessed"
    assert "validation.reproducibility=not_assessed (the policy does not ask for reproduction)" in result.output
