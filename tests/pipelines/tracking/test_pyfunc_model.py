"""The logged model served by `mlflow models serve`: raw application JSON in, PD/decision/reasons out,
and a 400 with a message (never a 500) for a malformed request."""

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import mlflow
import pandas as pd
import pytest
from click.testing import CliRunner

from pipelines.cli import cli

# Starts `mlflow models serve` on the store `creditflow run` made (tests/pipelines/conftest.py).
pytestmark = pytest.mark.slow

MODEL = "german_credit"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_server(extra_env: dict[str, str], log: Path | None = None) -> tuple[subprocess.Popen, str]:
    """`mlflow models serve` of the champion on a free loopback port, in its own process group."""
    port, bin_dir = free_port(), str(Path(sys.executable).parent)
    env = {**os.environ, **extra_env, "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}"}  # uvicorn
    stderr = log.open("w") if log else subprocess.DEVNULL
    try:
        process = subprocess.Popen(
            [
                str(Path(bin_dir) / "mlflow"),
                "models",
                "serve",
                "-m",
                f"models:/{MODEL}@champion",
                "--env-manager",
                "local",
                "-h",
                "127.0.0.1",
                "-p",
                str(port),
            ],
            env=env,
            stdout=subprocess.DEVNULL,
            start_new_session=True,
            stderr=stderr,
        )
    finally:
        if log:
            stderr.close()  # the server holds its own descriptor
    return process, f"http://127.0.0.1:{port}"


def wait_until_up(process: subprocess.Popen, url: str, seconds: float = 120) -> bool:
    """True once /ping answers, False if the server exits first (model download + uvicorn: ~12 s)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"{url}/ping", timeout=1).close()
            return True
        except OSError:
            if process.poll() is not None:
                return False
            time.sleep(0.5)
    raise AssertionError(f"server neither answered nor exited within {seconds} s")


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)  # uvicorn's worker too
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)


def promote_version_1() -> None:
    runner = CliRunner()
    assert (
        runner.invoke(cli, ["review", MODEL, "1", "--approve", "--reviewer", "bob", "--comment", "ok"]).exit_code == 0
    )
    assert runner.invoke(cli, ["promote", MODEL, "1"]).exit_code == 0


@pytest.fixture
def server(governed):
    promote_version_1()
    process, url = start_server({"CREDITFLOW_SERVE_VERIFY": MODEL})
    try:
        assert wait_until_up(process, url), "mlflow models serve exited"
        yield url
    finally:
        stop(process)


def test_a_server_asked_to_verify_refuses_to_start_on_an_unverified_champion(governed):
    promote_version_1()
    mlflow.MlflowClient(governed).set_registered_model_alias(MODEL, "champion", "2")  # around creditflow
    process, url = start_server({"CREDITFLOW_SERVE_VERIFY": MODEL}, log=Path("serve.log"))
    try:
        assert wait_until_up(process, url) is False
        assert process.returncode != 0
        assert (
            "refusing to serve german_credit@champion: alias champion is on version 2 but the last recorded "
            "promote put it on version 1"
        ) in Path("serve.log").read_text()
    finally:
        stop(process)


def post(url: str, body: str) -> tuple[int, dict]:
    request = urllib.request.Request(
        f"{url}/invocations", data=body.encode(), headers={"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            return answer.status, json.loads(answer.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def records(frame: pd.DataFrame) -> str:
    return json.dumps({"dataframe_records": frame.to_dict(orient="records")})


def test_the_served_champion_answers_raw_rows_and_refuses_malformed_requests(server):
    rows = pd.read_csv("german_ids.csv").drop(columns=["creditability"]).head(3)

    status, answer = post(server, records(rows))
    assert status == 200
    first = answer["predictions"][0]
    assert 0 <= first["probability_of_default"] <= 1 and first["decision"] in ("approve", "decline")
    assert {"reason_1", "reason_2", "reason_3", "reason_4"} <= set(first)

    gap = rows.astype({"duration_in_month": float})
    gap.loc[0, "duration_in_month"] = None  # a missing value in an integer column is scored as missing
    status, answer = post(server, records(gap))
    assert status == 200 and len(answer["predictions"]) == 3

    status, answer = post(
        server, json.dumps({"dataframe_records": rows.to_dict(orient="records"), "params": {"reason_method": "approx"}})
    )
    assert status == 200

    for body, message in [
        (records(rows.drop(columns=["credit_amount"])), "credit_amount"),
        (records(rows.assign(credit_amount="a lot")), "column 'credit_amount' must be numeric, got 'a lot'"),
        ("{not json", "Invalid input"),
        (
            json.dumps({"dataframe_records": rows.to_dict(orient="records"), "params": {"reason_method": "bogus"}}),
            "reason_method must be one of exact, approx, none",
        ),
    ]:
        status, answer = post(server, body)
        assert status == 400, (status, answer)
        assert message in answer["message"]
