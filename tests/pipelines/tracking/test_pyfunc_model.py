"""The logged model served by `mlflow models serve`: raw application JSON in, PD/decision/reasons out,
and a 400 with a one-line message (never a 500, never a native stack trace) for a malformed request, including
one that carries the target, a sensitive attribute or PII."""

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
from types import SimpleNamespace

import mlflow
import pandas as pd
import pytest
from click.testing import CliRunner

from features.spec import load_spec
from pipelines.cli import cli
from pipelines.scoring.scorer import ARTIFACT_FILES
from tests.conftest import GERMAN_SPEC

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
    review = ["review", MODEL, "1", "--approve", "--comment", "ok"]
    assert runner.invoke(cli, review, env={"CREDITFLOW_USER": "bob"}).exit_code == 0
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


def applicant_rows(count: int = 3) -> pd.DataFrame:
    """Raw application rows as a lender's system sends them: no target, no sensitive columns."""
    return pd.read_csv("german_ids.csv").drop(columns=["creditability", *SENSITIVE]).head(count)


SENSITIVE = ["personal_status_and_sex", "age_in_years", "foreign_worker"]  # the columns sex, age_band... come from
NESTED = '{"dataframe_records": ' + "[" * 100_000 + "]" * 100_000 + "}"  # deeper than Python's recursion limit


def with_value(rows: pd.DataFrame, column: str, value) -> str:
    """A JSON body whose first row has `value` in `column` (json writes inf as Infinity)."""
    records = rows.to_dict(orient="records")
    records[0][column] = value
    return json.dumps({"dataframe_records": records})


# body maker -> a message the 400 must hold; none of them may embed a native stack trace
MALFORMED = {
    "nested": (lambda rows: NESTED, "the request body is nested too deeply to parse"),
    "true": (
        lambda rows: with_value(rows, "credit_amount", True),
        "column 'credit_amount' must be numeric",
    ),
    "Infinity": (lambda rows: with_value(rows, "credit_amount", float("inf")), "must be a finite number within"),
    "1e300": (lambda rows: with_value(rows, "duration_in_month", 1e300), "must be a finite number within"),
    "target": (
        lambda rows: records(rows.assign(creditability="good", foreign_worker="yes")),
        "the request carries column(s) the model must not receive: creditability (target), "
        "foreign_worker (sensitive attribute)",
    ),
    "mapping": (lambda rows: with_value(rows, "purpose", {"a": 1}), "column 'purpose' must hold single values"),
    "sex": (
        lambda rows: records(rows.assign(sex="female")),
        "the request carries column(s) the model must not receive: sex (sensitive attribute)",
    ),
}


def invoke_in_process(model, body: str) -> tuple[int, str]:
    """The scoring server's request path (parse the body, enforce the signature, predict) without HTTP."""
    from mlflow.exceptions import MlflowException
    from mlflow.pyfunc import scoring_server

    try:
        answer = scoring_server.invocations(body, "application/json", model, model.metadata.get_input_schema())
        return answer.status, answer.response
    except MlflowException as error:
        return error.get_http_status_code(), error.message


@pytest.mark.parametrize("case", list(MALFORMED))
def test_a_malformed_request_is_a_400_with_a_clean_message(governed, case):
    from mlflow.pyfunc import scoring_server  # noqa: F401  imported first, as in the server

    model = mlflow.pyfunc.load_model(f"models:/{MODEL}/1")
    make, message = MALFORMED[case]
    status, answer = invoke_in_process(model, make(applicant_rows()))
    assert status == 400 and message in answer, answer
    assert "Stack trace" not in answer and "[bt]" not in answer
    assert invoke_in_process(model, records(applicant_rows()))[0] == 200


def values_of(rows: pd.DataFrame) -> set[str]:
    """What the request holds that an answer must not repeat: every text value, and numbers of 3 digits or more."""
    found = set()
    for value in rows.to_numpy().ravel():
        text = str(value)
        if (isinstance(value, str) and len(text) >= 4) or (not isinstance(value, str) and len(text) >= 3):
            found.add(text)
    return found


PII = {"applicant_name": "Jane Quinlan-Doe", "phone": "+44 7700 900461", "email": "jane.q@example.org"}
# refused requests made of real applicant rows, PII and sensitive values included: the answer names columns only
ECHOING = {
    "target and sensitive": lambda rows: rows.assign(creditability="good", personal_status_and_sex="female : x y"),
    "PII columns": lambda rows: rows.assign(**PII, foreign_worker="yes"),
    "missing column": lambda rows: rows.drop(columns=["credit_amount"]).assign(**PII),
    "text for a number": lambda rows: rows.assign(duration_in_month="forty-eight months", **PII),
    "nested value": lambda rows: rows.assign(purpose=[{"secret": "Jane Quinlan-Doe"}] * len(rows), **PII),
}


@pytest.mark.parametrize("case", list(ECHOING))
def test_a_refused_request_never_echoes_a_value(governed, case):
    """Issue 29, item 7: MLflow prefixes every 400 with the request ("Failed to predict data '...'"); the served
    model's answer names the columns and the reason, never a value."""
    from mlflow.pyfunc import scoring_server  # noqa: F401  imported first, as in the server

    model = mlflow.pyfunc.load_model(f"models:/{MODEL}/1")
    rows = ECHOING[case](applicant_rows())
    body = json.dumps({"dataframe_records": rows.to_dict(orient="records")})
    status, answer = invoke_in_process(model, body)
    assert status == 400, answer
    echoed = sorted(v for v in values_of(rows) | set(PII.values()) | {"Jane Quinlan-Doe"} if v in answer)
    assert echoed == [], answer
    assert "column" in answer


def test_the_logged_model_names_the_columns_it_refuses(governed):
    local = Path(mlflow.artifacts.download_artifacts(f"models:/{MODEL}/1"))
    settings = json.loads((local / "artifacts" / "settings.json").read_text())
    assert settings["refused_columns"] == {
        "creditability": "target",
        "sex": "sensitive attribute",
        "age_band": "sensitive attribute",
        "foreign_worker": "sensitive attribute",
        "personal_status_and_sex": "sensitive attribute",
        "age_in_years": "sensitive attribute",
    }
    schema = mlflow.models.Model.load(local).get_input_schema()
    # issue 27 item 6: the signature (the MLflow UI's model page) lists only what the model takes
    spec = load_spec(GERMAN_SPEC)
    assert schema.input_names() == spec.features.all() and schema.optional_input_names() == []


# a request carrying a column the model must not receive, and the refusal naming it (with its role)
REFUSED_REQUESTS = {
    "sex": (lambda rows: rows.assign(sex="female"), "sex (sensitive attribute)"),
    "target": (lambda rows: rows.assign(creditability="good"), "creditability (target)"),
    "source of a sensitive attribute": (
        lambda rows: rows.assign(personal_status_and_sex="male : single"),
        "personal_status_and_sex (sensitive attribute)",
    ),
}


@pytest.mark.parametrize("case", list(REFUSED_REQUESTS))
def test_load_model_refuses_a_column_the_signature_does_not_name_but_the_model_refuses(governed, case):
    """MLflow drops a column its signature does not name before the model sees it: with only the features in the
    signature, `sex` must still be refused by name, never scored as if it had not been sent."""
    from mlflow.exceptions import MlflowException

    model = mlflow.pyfunc.load_model(f"models:/{MODEL}/1")
    make, named = REFUSED_REQUESTS[case]
    with pytest.raises(MlflowException, match="must not receive") as refused:
        model.predict(make(applicant_rows()))
    assert named in refused.value.message
    assert len(model.predict(applicant_rows())) == 3  # the features alone are scored


def test_the_request_guard_is_installed_once_a_credit_model_loads(governed):
    """If MLflow renamed the function the guard wraps, nothing would be refused: say so here."""
    from pipelines.tracking.request_guard import guard_installed

    mlflow.pyfunc.load_model(f"models:/{MODEL}/1")
    assert guard_installed()


def test_a_pii_column_is_refused_and_a_model_logged_before_ignores_extra_columns(governed, tmp_path):
    from mlflow.exceptions import MlflowException

    from pipelines.tracking.pyfunc_model import CreditModel

    local = Path(mlflow.artifacts.download_artifacts(f"models:/{MODEL}/1", dst_path=str(tmp_path)))
    settings_path = local / "artifacts" / "settings.json"
    context = SimpleNamespace(artifacts={k: str(local / "artifacts" / v) for k, v in ARTIFACT_FILES.items()})
    settings = json.loads(settings_path.read_text())
    rows = applicant_rows().assign(applicant_name="Jane Doe")

    settings_path.write_text(json.dumps({**settings, "refused_columns": {"applicant_name": "PII"}}))
    model = CreditModel()
    model.load_context(context)
    with pytest.raises(MlflowException, match=r"must not receive: applicant_name \(PII\)"):
        model.predict(None, rows)

    del settings["refused_columns"]  # as written before the key existed
    settings_path.write_text(json.dumps(settings))
    model.load_context(context)
    assert len(model.predict(None, rows)) == 3


def test_the_served_champion_answers_raw_rows_and_refuses_malformed_requests(server):
    rows = applicant_rows()

    status, answer = post(server, records(rows))
    assert status == 200
    first = answer["predictions"][0]
    assert 0 <= first["probability_of_default"] <= 1 and first["decision"] in ("approve", "refer", "decline")
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
        (records(rows.assign(credit_amount="a lot")), "column 'credit_amount' must be numeric"),
        ("{not json", "the request body could not be parsed"),
        (
            json.dumps({"dataframe_records": rows.to_dict(orient="records"), "params": {"reason_method": "bogus"}}),
            "reason_method must be one of exact, approx, none",
        ),
    ]:
        status, answer = post(server, body)
        assert status == 400, (status, answer)
        assert message in answer["message"]

    for case, (make, message) in MALFORMED.items():  # over HTTP too: a RecursionError used to be a 500
        status, answer = post(server, make(rows))
        assert status == 400 and message in answer["message"], (case, status, answer)
        assert "[bt]" not in answer["message"] and "stack_trace" not in answer, case
