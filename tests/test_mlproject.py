"""MLproject's entry points under `mlflow run`: a bad parameter ends the project's run FAILED, never RUNNING."""

from __future__ import annotations

import subprocess

import mlflow
import pytest

from tests.doc_walk import environment, fresh_copy


@pytest.mark.slow
def test_a_missing_input_file_ends_the_mlflow_run_failed(tmp_path):
    folder = fresh_copy(tmp_path / "clone")
    (tmp_path / "bin").mkdir()
    env = environment(folder, tmp_path / "bin")
    command = [
        "mlflow", "run", ".", "-e", "score", "--env-manager", "local", "--experiment-name", "scoring",
        "-P", "model_uri=models:/german_credit/1", "-P", "input=applicants.parquet", "-P", "output=scored.parquet",
    ]  # fmt: skip
    done = subprocess.run(command, cwd=folder, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode != 0
    assert "error: " in done.stderr and "Traceback" not in done.stderr.split("mlflow.projects")[0]
    client = mlflow.MlflowClient(f"sqlite:///{folder / 'mlflow.db'}")
    [run] = client.search_runs([client.get_experiment_by_name("scoring").experiment_id])
    assert run.info.status == "FAILED"
    mlflow.set_tracking_uri(None)
