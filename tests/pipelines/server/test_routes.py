"""Every write MLflow serves is classified by its canonical path (pipelines/server/routes.py): judged, free, or
refused; a non-canonical path is refused before MLflow sees it; an unknown write is refused by default."""

from __future__ import annotations

import pytest

from pipelines.server.routes import classify, unclassified

RUN = "a" * 32


@pytest.mark.parametrize(
    "method, path, kind, action",
    [
        ("POST", "/api/2.0/mlflow/model-versions/set-tag", "registry", "set_version_tag"),
        ("POST", "/ajax-api/2.0/mlflow/registered-models/alias", "registry", "set_alias"),
        ("DELETE", "/api/2.0/mlflow/registered-models/delete", "registry", "delete_model"),
        ("PATCH", "/api/2.0/mlflow/model-versions/update", "registry", "update_version"),
        ("POST", "/api/3.0/mlflow/users/permissions/grant", "permissions", "users/permissions/grant"),
        ("PATCH", "/api/2.0/mlflow/users/update-password", "password", "update_password"),
        ("PUT", "/api/2.0/mlflow-artifacts/artifacts/1/models/m-0a1b/artifacts/MLmodel", "frozen", "put_artifact"),
        ("DELETE", f"/api/2.0/mlflow-artifacts/artifacts/1/{RUN}/artifacts/x", "frozen", "delete_artifact"),
        ("DELETE", "/api/2.0/mlflow/logged-models/m-0a1b", "frozen", "delete_logged_model"),
        ("POST", "/api/2.0/mlflow/runs/delete", "frozen", "delete_run"),
        ("POST", "/api/2.0/mlflow/runs/log-batch", "frozen", "log_batch"),
        ("POST", "/ajax-api/2.0/mlflow/upload-artifact", "frozen", "upload_artifact"),
        ("POST", "/api/2.0/mlflow/runs/create", "free", "runs/create"),
        ("PATCH", "/api/2.0/mlflow/logged-models/m-0a1b/tags", "free", "logged-models/m-0a1b/tags"),
        ("POST", "/api/2.0/mlflow/gateway/secrets/create", "refused", "not_served"),
        ("POST", "/api/2.0/mlflow/webhooks", "refused", "not_served"),
        ("POST", "/api/2.0/mlflow/experiments/delete", "refused", "delete_experiment"),
        ("POST", "/api/2.0/mlflow/something-new", "refused", "unknown"),
        ("PUT", "/api/2.0/mlflow-artifacts/artifacts/1/traces/t/artifacts/x", "refused", "unknown_artifact"),
    ],
)
def test_every_write_is_classified(method, path, kind, action):
    route = classify(method, path, RUN)
    assert (route.kind, route.action) == (kind, action)


@pytest.mark.parametrize(
    "path",
    [
        "/api/2.0/mlflow-artifacts/artifacts/1//models/m-0a1b/artifacts/MLmodel",  # issue 24: deleted the champion's
        "/api/2.0/mlflow-artifacts/artifacts/1/./models/m-0a1b/artifacts/MLmodel",
        "/api/2.0/mlflow-artifacts/artifacts/1/x/../models/m-0a1b/artifacts/MLmodel",
        "/api/2.0/mlflow-artifacts/artifacts/1/%2e/models/m-0a1b/artifacts/MLmodel",  # as sent, still encoded
        "/ajax-api/2.0//mlflow/model-versions/set-tag",
    ],
)
def test_a_non_canonical_path_is_refused_with_400(path):
    for method in ("PUT", "DELETE", "POST"):
        route = classify(method, path)
        assert (route.kind, route.status) == ("refused", 400), route


def test_the_ui_upload_names_its_run_as_run_uuid_or_run_id():
    """The gate passes `run_uuid` (what MLflow's UI sends) as the run; see gate._run_id."""
    from pipelines.server.gate import _run_id

    assert _run_id({"run_uuid": RUN, "path": "model_card/model_card.html"}) == RUN
    assert _run_id({"run_id": RUN}) == RUN


@pytest.mark.parametrize("method, path", [("GET", "/api/2.0/mlflow/model-versions/get"), ("GET", "/health")])
def test_reads_are_not_judged(method, path):
    assert classify(method, path) is None


def test_every_write_route_of_mlflows_app_is_classified():
    """The Flask routes of this MLflow (the team server test checks the running app's, FastAPI's included)."""
    from mlflow.server import app

    rules = [(m, r.rule) for r in app.url_map.iter_rules() for m in r.methods or ()]
    assert unclassified(rules) == []
    assert unclassified([("POST", "/api/2.0/mlflow/brand-new/<thing>")]) == ["POST /api/2.0/mlflow/brand-new/<thing>"]
