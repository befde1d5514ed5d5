"""Issue 24.8 against a real team server: basic-auth's per-request look-ups are served from the caches of
pipelines/server/auth_cache.py (the auth database is no longer read for every logged batch), and security does not
regress: a revoked role or a changed password takes effect at the next request served by the same process (the
fixture's one uvicorn worker); in another worker within CREDITFLOW_AUTH_CACHE_SECONDS."""

from __future__ import annotations

import secrets
import time

import pytest
import requests

from tests.pipelines.server.conftest import connect

pytestmark = pytest.mark.slow
STATS_FLUSH = 11  # PostgreSQL 15 flushes an idle backend's statistics within 10 s


def _auth_transactions(prefix: str) -> int:
    conn = connect()
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT pg_stat_clear_snapshot()")
            query = "SELECT xact_commit + xact_rollback FROM pg_stat_database WHERE datname = %s"
            cur.execute(query, (f"{prefix}_auth",))
            return int(cur.fetchone()[0])
    finally:
        conn.close()


def _log_batch(team_server, user: str, run_id: str, index: int, password: str | None = None):
    auth = (user, password or team_server.passwords[user])
    body = {"run_id": run_id, "metrics": [{"key": "m", "value": index, "timestamp": 0, "step": index}]}
    return requests.post(f"{team_server.uri}/api/2.0/mlflow/runs/log-batch", json=body, auth=auth, timeout=30)


def _new_run(team_server, user: str) -> str:
    client = team_server.client(user)
    experiment = client.get_experiment_by_name("auth-cache") or client.get_experiment(
        client.create_experiment("auth-cache")
    )
    return client.create_run(experiment.experiment_id).info.run_id


def test_logging_a_batch_no_longer_reads_the_auth_database_each_time(team_server):
    run_id = _new_run(team_server, "ds2")
    assert _log_batch(team_server, "ds2", run_id, 0).status_code == 200  # warms the caches
    time.sleep(STATS_FLUSH)
    before = _auth_transactions(team_server.prefix)
    batches = 60
    for index in range(1, batches + 1):
        assert _log_batch(team_server, "ds2", run_id, index).status_code == 200
    time.sleep(STATS_FLUSH)
    used = _auth_transactions(team_server.prefix) - before
    # uncached: a get_user for the admin check, one for the grants, the grants and the gate's user and roles, at
    # least 3 per batch; cached: a handful per bound for every user the window saw (the validation worker polls too)
    assert used < batches / 2, f"{used} auth-database transactions for {batches} logged batches"


def test_a_revoked_role_and_a_changed_password_take_effect_at_the_next_request(team_server):
    from mlflow.server import get_app_client

    name, password = f"cache{secrets.token_hex(3)}", f"pw-{secrets.token_hex(8)}"
    added = team_server.cli(
        "admin", "server", "user", "add", name, "--role", "data-scientist", CREDITFLOW_NEW_USER_PASSWORD=password
    )
    assert added.exit_code == 0, added.output
    team_server.passwords[name] = password
    run_id = _new_run(team_server, "ds1")
    for index in range(3):  # cached: credentials, user, grants, role
        assert _log_batch(team_server, name, run_id, index).status_code == 200

    team_server.client("admin")  # the admin's credentials for basic-auth's client
    admin = get_app_client("basic-auth", tracking_uri=team_server.uri)
    role = next(r for r in admin.list_roles("default") if r.name == "creditflow-data-scientist")
    admin.unassign_role(name, role.id)
    refused = _log_batch(team_server, name, run_id, 10)
    assert refused.status_code == 403, refused.text  # READ only now: no grace period on this worker

    admin.assign_role(name, role.id)
    assert _log_batch(team_server, name, run_id, 11).status_code == 200
    new_password = f"pw2-{secrets.token_hex(8)}"
    admin.update_user_password(name, new_password)
    assert _log_batch(team_server, name, run_id, 12).status_code == 401  # the old password, cached a moment ago
    assert _log_batch(team_server, name, run_id, 13, password=new_password).status_code == 200
