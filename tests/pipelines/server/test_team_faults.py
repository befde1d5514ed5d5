"""Bad input and faults against a real team server: each a one-line error or a 403 with the reason, recorded in
the audit log; nothing half-registered; the audit log cannot be rewritten, and a rewritten one is detected."""

from __future__ import annotations

import json
from unittest import mock

import psycopg2
import pytest
import requests
from mlflow.server import get_app_client

from pipelines.server.store import GovernanceStore, create_schema
from pipelines.tracking.registry import Registry
from tests.pipelines.server.conftest import PG_ADMIN, connect, free_port

pytestmark = pytest.mark.slow


def one_line_error(result, exit_code, text):
    assert result.exit_code == exit_code, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:") and text in lines[0], result.output


@pytest.mark.parametrize("user, password", [("ds1", "not-the-password"), ("nobody", "nobody-password-1")])
def test_wrong_password_or_unknown_user(team_server, user, password):
    server = team_server
    env = {"MLFLOW_TRACKING_USERNAME": user, "MLFLOW_TRACKING_PASSWORD": password}
    one_line_error(server.cli(None, "status", "german_credit", **env), 2, "refused the credentials (401")
    before = len(server.audit())
    response = requests.post(
        f"{server.uri}/api/2.0/mlflow/model-versions/set-tag",
        auth=(user, password),
        json={"name": "german_credit", "version": "1", "key": "approval.status", "value": "approved"},
        timeout=30,
    )
    assert response.status_code == 401
    # issue 24.4: anyone can claim any name; an unauthenticated refusal is counted, never an audit row
    assert len(server.audit()) == before
    counted = server.rest("ds2", "GET", "/api/2.0/creditflow/audit?model=none").json()["anonymous_refusals"]
    assert counted >= 1


def test_an_expired_login_is_refused_at_once(team_server):
    server = team_server
    server.passwords["temp1"] = "temp1-password-123"
    added = server.cli(
        "admin",
        "server",
        "user",
        "add",
        "temp1",
        "--role",
        "reviewer",
        CREDITFLOW_NEW_USER_PASSWORD="temp1-password-123",
    )
    assert added.exit_code == 0, added.output
    assert server.cli("temp1", "status", "german_credit").exit_code == 0
    with mock.patch.dict("os.environ", server.env("admin")):
        get_app_client("basic-auth", tracking_uri=server.uri).update_user_password("temp1", "rotated-password-456")
    one_line_error(server.cli("temp1", "status", "german_credit"), 2, "wrong password or expired login")


def test_a_server_that_is_down(team_server):
    uri = f"http://127.0.0.1:{free_port()}"
    result = team_server.cli("ds1", "status", "german_credit", uri=uri)
    one_line_error(result, 2, "is unreachable")


def test_a_tampered_artifact_upload_is_refused(team_server):
    server = team_server
    (version,) = server.register("tampered")
    location = server.client("ds1").get_logged_model(server.model_id).artifact_location
    path = location.removeprefix("mlflow-artifacts:/")
    url = f"/api/2.0/mlflow-artifacts/artifacts/{path}/MLmodel"
    original = server.rest("ds1", "GET", url).content
    put = server.rest("ds1", "PUT", url, data=b"flavors: {}\n")  # uvicorn serves uploads outside Flask
    assert put.status_code == 403 and "frozen" in put.json()["message"]
    delete = server.rest("ds1", "DELETE", url)  # Flask serves deletes
    assert delete.status_code == 403 and "frozen" in delete.json()["message"]
    assert server.rest("ds1", "GET", url).content == original
    rows = [(r["username"], r["action"], r["decision"]) for r in server.audit() if r["target"].endswith("MLmodel")]
    assert rows[-2:] == [("ds1", "put_artifact", "refused"), ("ds1", "delete_artifact", "refused")]
    run_id = server.base_tags["lineage.run_id"]
    run_file = f"/api/2.0/mlflow-artifacts/artifacts/{path.split('/')[0]}/{run_id}/artifacts/plots/extra.txt"
    server.client("rev1").set_model_version_tag("tampered", version, "approval.status", "approved")
    put = server.rest("ds1", "PUT", run_file, data=b"after the approval")
    assert put.status_code == 403 and "is the evidence of german_credit version 1" in put.json()["message"]
    deleted = server.rest("ds1", "POST", "/api/2.0/mlflow/runs/delete", json={"run_id": run_id})
    assert deleted.status_code == 403 and "cannot be deleted" in deleted.json()["message"]


def test_the_audit_log_is_append_only_for_the_server_and_its_owner(team_server):
    server = team_server
    passfile = str(server.folder / "server" / "pgpass")
    as_server = psycopg2.connect(
        f"postgresql://{server.prefix}_server@127.0.0.1:5432/{server.prefix}_governance", passfile=passfile
    )
    with pytest.raises(psycopg2.errors.InsufficientPrivilege), as_server.cursor() as cur:
        cur.execute("UPDATE audit_log SET decision = 'allowed' WHERE decision = 'refused'")
    as_server.close()
    superuser = connect(f"{server.prefix}_governance")
    with pytest.raises(psycopg2.errors.RaiseException, match="append-only"), superuser.cursor() as cur:
        cur.execute("DELETE FROM audit_log WHERE seq = 1")
    superuser.close()


@pytest.fixture
def scratch_governance_db():
    name = f"cft_scratch_{free_port()}"
    admin = connect()
    with admin.cursor() as cur:
        cur.execute(f'CREATE DATABASE "{name}"')
    conn = psycopg2.connect(PG_ADMIN, dbname=name)
    create_schema(conn, owner="postgres", writer="postgres")
    conn.close()
    yield psycopg2.extensions.make_dsn(PG_ADMIN, dbname=name)
    with admin.cursor() as cur:
        cur.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
    admin.close()


def test_a_rewritten_audit_row_breaks_the_chain(scratch_governance_db):
    store = GovernanceStore(scratch_governance_db, max_connections=2)
    for action in ("register", "review", "promote"):
        store.append({"username": "u", "route": "r", "action": action, "payload_digest": "d", "decision": "allowed"})
    assert store.verify() == []
    conn = psycopg2.connect(scratch_governance_db)
    with conn.cursor() as cur:  # what someone with the owner's rights and the triggers off could do
        cur.execute("ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only")
        cur.execute("UPDATE audit_log SET username = 'someone-else' WHERE seq = 1")
        cur.execute("DELETE FROM audit_log WHERE seq = 2")
    conn.commit()
    conn.close()
    problems = store.verify()
    assert (
        problems[0]
        == "record 1 (register by someone-else, row 1) does not match its digest: edited after it was written"
    )
    assert "record 3 (promote by u, row 3) follows a record that is not in the trail: a gap" in problems[1]
    store.close()


def pg_down(prefix: str, allow: bool) -> None:
    """The team server's databases stop answering (as when PostgreSQL stops), or answer again."""
    conn = connect()
    with conn.cursor() as cur:
        for name in ("mlflow", "auth", "governance"):
            cur.execute(f'ALTER DATABASE "{prefix}_{name}" ALLOW_CONNECTIONS {str(allow).lower()}')
        if not allow:
            cur.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = ANY(%s)",
                ([f"{prefix}_{n}" for n in ("mlflow", "auth", "governance")],),
            )
    conn.close()


def test_postgres_stopping_mid_run_leaves_nothing_half_registered(team_server, tmp_path):
    server = team_server
    spec = tmp_path / "pgdown.yaml"
    spec.write_text((server.folder / "german_credit.yaml").read_text().replace("name: german_credit", "name: pgdown"))
    register = Registry.register

    def stop_then_register(self, *args, **kwargs):
        pg_down(server.prefix, allow=False)
        return register(self, *args, **kwargs)

    try:
        with mock.patch.object(Registry, "register", stop_then_register):
            failed = server.cli("ds1", "run", spec)
    finally:
        pg_down(server.prefix, allow=True)
    assert failed.exit_code == 2 and "Traceback" not in failed.output  # (MLflow's own log lines go before it)
    errors = [line for line in failed.output.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "database is unavailable" in errors[0], failed.output
    assert server.client("ds1").search_model_versions("name = 'pgdown'") == []
    again = server.cli("ds1", "run", spec)
    assert again.exit_code == 0, again.output
    assert [v.version for v in server.client("ds1").search_model_versions("name = 'pgdown'")] == ["1"]
    (registered,) = [r for r in server.audit("pgdown") if r["action"] == "register"]
    assert json.loads(registered["detail"]).get("evidence")
