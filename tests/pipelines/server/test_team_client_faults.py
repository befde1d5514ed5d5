"""Issue 24.5, client faults against a real team server, with `creditflow` run as a user runs it (its own process,
MLflow's HTTP timeout and retries as `creditflow` sets them):

- the server killed in the middle of `creditflow run`: one `error:` line, exit 2, no traceback, within the bound
  that MLFLOW_HTTP_REQUEST_TIMEOUT / MAX_RETRIES / BACKOFF_FACTOR set;
- the client killed in the middle of a run: the server closes the run FAILED once its heartbeat stopped for
  CREDITFLOW_HEARTBEAT_TIMEOUT seconds, audited as `creditflow-server`."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

from pipelines.server.heartbeats import TIMEOUT_ENV
from tests.conftest import REPO
from tests.pipelines.server.conftest import start, stop, wait_until_up

pytestmark = pytest.mark.slow
CLIENT_BOUND = 40  # seconds: what the client's MLflow settings allow a dead server (see pipelines/cli.py main)


def run_in_background(server, spec, **env) -> subprocess.Popen:
    variables = {k: v for k, v in os.environ.items() if not k.startswith("MLFLOW_HTTP_REQUEST")}  # creditflow's own
    variables.update(server.env("ds1"), PYTHONPATH=str(REPO), **env)
    return subprocess.Popen(
        [sys.executable, "-m", "pipelines.cli", "run", str(spec), "--tracking-uri", server.uri],
        env=variables,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )


def running_run(server, experiment: str, client: subprocess.Popen, seconds: float = 300) -> str:
    """The id of the experiment's RUNNING run once the client has begun logging to it."""
    mlflow_client = server.client("rev1")
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        assert client.poll() is None, client.communicate()
        found = mlflow_client.get_experiment_by_name(experiment)
        runs = mlflow_client.search_runs([found.experiment_id], "attributes.status = 'RUNNING'") if found else []
        if runs:
            return runs[0].info.run_id
        time.sleep(0.3)
    raise AssertionError(f"no run of {experiment} began in {seconds} s")


def spec_named(server, tmp_path, name: str):
    spec = tmp_path / f"{name}.yaml"
    spec.write_text((server.folder / "german_credit.yaml").read_text().replace("name: german_credit", f"name: {name}"))
    return spec


def restart(server, **env: str) -> None:
    stop(server.process)
    previous = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        with (server.folder / "server.log").open("a") as log:
            server.process = start(server.folder, log)
    finally:
        for key, value in previous.items():
            os.environ.pop(key, None) if value is None else os.environ.__setitem__(key, value)
    wait_until_up(server.uri, server.process, server.folder / "server.log")


def test_a_killed_client_s_run_is_closed_failed_by_the_server(team_server, tmp_path):
    server = team_server
    restart(server, **{TIMEOUT_ENV: "6"})
    try:
        client = run_in_background(server, spec_named(server, tmp_path, "beats"), CREDITFLOW_HEARTBEAT_INTERVAL="1")
        run_id = running_run(server, "beats", client)
        time.sleep(2)  # a beat or two
        os.killpg(client.pid, signal.SIGKILL)
        client.communicate(timeout=30)  # reaped, and its pipes closed
        killed = time.monotonic()
        reader = server.client("rev1")
        while reader.get_run(run_id).info.status == "RUNNING" and time.monotonic() - killed < 60:
            time.sleep(0.5)
        assert reader.get_run(run_id).info.status == "FAILED"
        assert time.monotonic() - killed >= 4  # not before the heartbeat was stale (6 s after the last beat)
        (row,) = [r for r in server.audit() if r["action"] == "close_run" and r["target"] == run_id]
        assert row["username"] == "creditflow-server" and "heartbeat stopped" in row["reason"]
    finally:
        restart(server)


def test_the_server_killed_mid_run_ends_the_client_in_one_line_exit_2_within_its_bound(team_server, tmp_path):
    server = team_server
    client = run_in_background(server, spec_named(server, tmp_path, "orphan"))
    try:
        running_run(server, "orphan", client)
        time.sleep(1)
        os.killpg(server.process.pid, signal.SIGKILL)  # the server's whole process group, as a crash would
        server.process.wait(timeout=30)
        killed = time.monotonic()
        out, err = client.communicate(timeout=300)
        took = time.monotonic() - killed
    finally:
        if client.poll() is None:
            os.killpg(client.pid, signal.SIGKILL)
            client.communicate(timeout=30)
        restart(server)
    errors = [line for line in err.splitlines() if line.startswith("error:")]
    assert client.returncode == 2, err[-3000:]
    assert "Traceback" not in err, err[-3000:]
    assert len(errors) == 1 and server.uri in errors[0], err[-3000:]
    assert took < CLIENT_BOUND, f"{took:.1f} s: {err[-2000:]}"
    print(f"the client ended {took:.1f} s after the server was killed: {errors[0]}")
