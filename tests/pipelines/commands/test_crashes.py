"""`creditflow run` killed (kill -9, SIGTERM) at each stage: the next command leaves nothing RUNNING and nothing
half-registered (issue 12, item 5). Each test runs the pipeline in a subprocess that kills itself at the named stage."""

import os
import signal
import subprocess
import sys
import time

import mlflow
import pytest
from click.testing import CliRunner

from pipelines.cli import cli
from tests.conftest import REPO
from tests.pipelines.conftest import relaxed_german_spec

MODEL = "german_credit"

# Runs `creditflow run SPEC`, SIGKILLing itself when the named stage is reached.
KILL_AT = """
import os, signal, sys
import pipelines.commands.run as run
from pipelines.governance.local.store import LocalStore

def die(*args, **kwargs):
    os.kill(os.getpid(), signal.SIGKILL)

stage, spec = sys.argv[1], sys.argv[2]
if stage == "training":
    run.train_candidate = die
elif stage == "registration":  # the version exists, its audit record is about to be written
    LocalStore.append = die
elif stage == "model-card":
    run.record_model_card = die
sys.argv = ["creditflow", "run", spec]
from pipelines.cli import main
main()
"""


def running(uri):
    client = mlflow.MlflowClient(uri)
    ids = [e.experiment_id for e in client.search_experiments()]
    return [r.info.run_id for r in client.search_runs(ids, filter_string="attributes.status = 'RUNNING'")]


def env():
    return {**os.environ, "PYTHONPATH": str(REPO)}


@pytest.mark.slow
@pytest.mark.parametrize("stage", ["training", "registration", "model-card"])
def test_a_run_killed_at_any_stage_leaves_nothing_running_after_the_next_command(governed, tmp_path, stage):
    spec = relaxed_german_spec(tmp_path)
    killed = subprocess.run(
        [sys.executable, "-c", KILL_AT, stage, str(spec)], cwd=tmp_path, env=env(), capture_output=True, timeout=120
    )
    assert killed.returncode == -signal.SIGKILL, killed.stderr[-2000:]
    assert running(governed)  # the debris the issue found

    status = CliRunner().invoke(cli, ["status", MODEL])
    assert status.exit_code == 0, status.output
    assert running(governed) == []
    client = mlflow.MlflowClient(governed)
    assert f"{MODEL}.lock" not in [m.name for m in client.search_registered_models()]
    versions = {str(v.version): v.tags for v in client.search_model_versions(f"name = '{MODEL}'")}
    if stage == "training":
        assert sorted(versions) == ["1", "2"]
    elif stage == "registration":
        assert versions["3"]["registration.status"] == "abandoned" and "marked german_credit version 3 abandoned" in (
            status.output
        )
    else:  # registered and recorded; only the model card is missing
        assert "registration.status" not in versions["3"]
        review = ["review", MODEL, "3", "--approve", "--comment", "ok"]
        assert CliRunner().invoke(cli, review, env={"CREDITFLOW_USER": "bob"}).exit_code == 0


@pytest.mark.slow
def test_sigterm_ends_the_run_killed_and_exits_143(governed, tmp_path):
    spec = relaxed_german_spec(tmp_path)
    process = subprocess.Popen(
        [sys.executable, "-m", "pipelines.cli", "run", str(spec)],
        cwd=tmp_path,
        env=env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 60
    while not running(governed) and time.monotonic() < deadline:
        time.sleep(0.1)
    time.sleep(0.5)
    process.send_signal(signal.SIGTERM)
    _, err = process.communicate(timeout=60)
    assert process.returncode == 128 + signal.SIGTERM, err[-2000:]
    assert "error: interrupted by signal SIGTERM" in err
    assert running(governed) == []
    client = mlflow.MlflowClient(governed)
    experiment = client.get_experiment_by_name(MODEL).experiment_id
    latest = client.search_runs([experiment], order_by=["attributes.start_time DESC"], max_results=1)[0]
    assert latest.info.status == "KILLED"


@pytest.mark.slow
def test_a_full_disk_during_run_is_one_line_and_the_run_is_closed_failed(tracking_uri, tmp_path, monkeypatch):
    """Issue 28: a full disk used to end in two tracebacks and a run left RUNNING."""
    import errno

    import pipelines.commands.run as run

    def full_disk(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device", str(tmp_path / "evidence.json"))

    monkeypatch.setattr(run, "record_training", full_disk)
    result = CliRunner().invoke(cli, ["run", str(relaxed_german_spec(tmp_path))], catch_exceptions=False)
    assert result.exit_code == 2, result.output
    assert "error: No space left on device" in result.output and "the command stopped" in result.output
    assert "Traceback" not in result.output and not running(tracking_uri)
    client = mlflow.MlflowClient(tracking_uri)
    runs = client.search_runs([e.experiment_id for e in client.search_experiments()])
    assert [r.info.status for r in runs if r.info.run_name.endswith("-run")] == ["FAILED"]
