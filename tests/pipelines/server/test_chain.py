"""The audit log's hash chain and the routes the gate judges, without a server."""

from __future__ import annotations

import pytest

from pipelines.server.chain import GENESIS, chain_problems, link_hash
from pipelines.server.routes import classify


def chain(n: int) -> list[dict]:
    rows, previous = [], GENESIS
    for seq in range(1, n + 1):
        row = {"seq": seq, "time": f"t{seq}", "username": "u", "action": "review", "decision": "allowed"}
        row.update(previous_hash=previous, hash=link_hash(previous, row))
        rows.append(row)
        previous = row["hash"]
    return rows


def test_an_intact_chain_has_no_problems():
    assert chain_problems(chain(4)) == []


def test_a_changed_row_a_removed_row_and_a_reordered_row_are_found():
    changed = chain(3)
    changed[1]["decision"] = "refused"
    assert chain_problems(changed) == ["row 2: hash does not match its content (the row was changed)"]
    removed = chain(3)
    del removed[1]
    assert chain_problems(removed) == ["row 2: missing (next row is 3)", "row 3: previous_hash does not match row 2"]
    swapped = chain(3)
    swapped[1], swapped[2] = swapped[2], swapped[1]
    assert len(chain_problems(swapped)) >= 2


@pytest.mark.parametrize(
    "method, path, kind, action",
    [
        ("POST", "/api/2.0/mlflow/model-versions/set-tag", "registry", "set_version_tag"),
        ("POST", "/ajax-api/2.0/mlflow/registered-models/alias", "registry", "set_alias"),
        ("DELETE", "/api/2.0/mlflow/registered-models/delete", "registry", "delete_model"),
        ("POST", "/api/3.0/mlflow/users/permissions/grant", "permissions", "users/permissions/grant"),
        ("PUT", "/api/2.0/mlflow-artifacts/artifacts/1/models/m-0a1b/artifacts/MLmodel", "frozen", "put_artifact"),
        ("DELETE", f"/api/2.0/mlflow-artifacts/artifacts/1/{'a' * 32}/artifacts/x", "frozen", "delete_artifact"),
        ("DELETE", "/api/2.0/mlflow/logged-models/m-0a1b", "frozen", "delete_logged_model"),
        ("POST", "/api/2.0/mlflow/runs/delete", "frozen", "delete_run"),
    ],
)
def test_judged_requests(method, path, kind, action):
    route = classify(method, path)
    assert (route.kind, route.action) == (kind, action)


@pytest.mark.parametrize(
    "method, path",
    [
        ("GET", "/api/2.0/mlflow/model-versions/get"),
        ("POST", "/api/2.0/mlflow/runs/log-batch"),
        ("PATCH", "/api/2.0/mlflow/logged-models/m-0a1b/tags"),  # MLflow tags a model with its versions
        ("PATCH", "/api/2.0/mlflow/users/update-password"),
        ("GET", "/health"),
    ],
)
def test_requests_the_gate_lets_through(method, path):
    assert classify(method, path) is None
