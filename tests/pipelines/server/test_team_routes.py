"""Issue 24.1 against a real team server: every route the running app serves is classified; the double-slash
DELETE and MLflow's UI upload route (`run_uuid`) are refused and audited; `./` and `%2e` variants answer 4xx, never
500; an anonymous caller writes no audit row (it is counted)."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.slow


def _model_file(server) -> tuple[str, bytes]:
    (version,) = server.register("routes")
    location = server.client("ds1").get_logged_model(server.model_id).artifact_location
    path = location.removeprefix("mlflow-artifacts:/")
    url = f"/api/2.0/mlflow-artifacts/artifacts/{path}/MLmodel"
    return path, server.rest("ds1", "GET", url).content


def test_the_running_app_has_no_unclassified_write_route(team_server):
    found = team_server.rest("ds1", "GET", "/api/2.0/creditflow/routes")
    assert found.status_code == 200 and found.json()["unclassified"] == []


def test_path_tricks_on_a_registered_models_files_are_refused_and_audited(team_server):
    server = team_server
    path, original = _model_file(server)
    experiment, rest = path.split("/", 1)
    tricks = [
        ("DELETE", f"/api/2.0/mlflow-artifacts/artifacts/{experiment}//{rest}/MLmodel"),  # took scoring down
        ("PUT", f"/api/2.0/mlflow-artifacts/artifacts/{experiment}/./{rest}/MLmodel"),
        ("PUT", f"/api/2.0/mlflow-artifacts/artifacts/{experiment}/%2e/{rest}/MLmodel"),
        ("DELETE", f"/ajax-api/2.0/mlflow-artifacts/artifacts/{experiment}//{rest}/MLmodel"),
    ]
    for method, url in tricks:
        answer = server.rest("ds1", method, url, data=b"flavors: {}\n")
        assert 400 <= answer.status_code < 500, (method, url, answer.status_code, answer.text)
    assert server.rest("ds1", "GET", f"/api/2.0/mlflow-artifacts/artifacts/{path}/MLmodel").content == original
    refused = [r for r in server.audit() if r["username"] == "ds1" and r["decision"] == "refused"]
    assert sum("MLmodel" in r["route"] for r in refused) >= len(tricks)


def test_the_ui_upload_route_cannot_replace_a_registered_runs_review_page(team_server):
    server = team_server
    server.register("ui_upload")
    run_id = server.base_tags["lineage.run_id"]
    answer = server.rest(
        "ds1",
        "POST",
        f"/ajax-api/2.0/mlflow/upload-artifact?run_uuid={run_id}&path=model_card/model_card.html",
        data=b"<h1>forged-ui</h1>",
    )
    assert answer.status_code == 403 and "frozen" in answer.json()["message"]
    row = [r for r in server.audit() if r["action"] == "upload_artifact"][-1]
    assert (row["username"], row["decision"], row["target"]) == ("ds1", "refused", run_id)
    logged = server.rest(
        "ds1",
        "POST",
        "/api/2.0/mlflow/runs/log-metric",
        json={"run_id": run_id, "key": "holdout_auc", "value": 0.99, "timestamp": 0},
    )
    assert logged.status_code == 403, logged.text


def test_an_unknown_or_unused_write_is_refused_and_anonymous_callers_write_no_rows(team_server):
    server = team_server
    webhook = server.rest("ds1", "POST", "/api/2.0/mlflow/webhooks", json={"name": "x", "url": "https://x"})
    assert webhook.status_code == 403  # basic-auth or the gate refuses it ("not offered by ...")
    before = len(server.audit())
    import requests

    for _ in range(5):
        anonymous = requests.post(
            f"{server.uri}/api/2.0/mlflow/model-versions/set-tag",
            auth=("mallory", "x" * 12),
            json={"name": "routes", "version": "1", "key": "approval.status", "value": "ok"},
            timeout=30,
        )
        assert anonymous.status_code == 401
    assert len(server.audit()) == before
    counted = server.rest("ds1", "GET", "/api/2.0/creditflow/audit?model=none").json()["anonymous_refusals"]
    assert counted >= 5
    password = server.rest(
        "ds1", "PATCH", "/api/2.0/mlflow/users/update-password", json={"username": "ds2", "password": "y" * 16}
    )
    assert password.status_code == 403
    row = server.audit()[-1]
    assert (row["username"], row["action"], row["decision"]) == ("ds1", "update_password", "refused")
