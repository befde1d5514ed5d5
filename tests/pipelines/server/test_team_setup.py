"""Issue 24.6: `server init` works with the administrator's password in PGPASSWORD or in the URL, creates the
validation worker's service user, and a failed init leaves nothing behind, so a re-run completes."""

from __future__ import annotations

import secrets
from unittest import mock

import pytest
from click.testing import CliRunner
from sqlalchemy.engine import make_url

from pipelines.cli import cli
from pipelines.server.setup import VALIDATOR_PASSWORD_ENV, server_environment
from tests.pipelines.server.conftest import PG_ADMIN, connect, drop

pytestmark = pytest.mark.slow
ADMIN = {"MLFLOW_AUTH_ADMIN_PASSWORD": "admin-" + "x" * 12}


def _leftovers(prefix: str) -> list[str]:
    conn = connect()
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT datname FROM pg_database WHERE datname LIKE %s", (f"{prefix}%",))
            found = [r[0] for r in cur.fetchall()]
            cur.execute("SELECT rolname FROM pg_roles WHERE rolname LIKE %s", (f"{prefix}%",))
            return found + [r[0] for r in cur.fetchall()]
    finally:
        conn.close()


def _init(folder, prefix, url=PG_ADMIN, **env):
    return CliRunner().invoke(
        cli, ["server", "init", url, "--folder", str(folder), "--prefix", prefix], env={**ADMIN, **env}
    )


def test_init_with_pgpassword_or_a_url_password_and_a_failed_init_leaves_nothing(tmp_path):
    connect().close()
    prefix = f"cfs_{secrets.token_hex(3)}"
    try:
        with mock.patch("pipelines.server.roles.create_auth_database", side_effect=RuntimeError("disk full")):
            failed = _init(tmp_path / "server", prefix, PGPASSWORD="not-used-by-trust-auth")
        assert failed.exit_code == 2 and "nothing was left behind: disk full" in failed.output, failed.output
        assert len(failed.output.splitlines()) == 1
        assert _leftovers(prefix) == [] and not (tmp_path / "server").exists()

        done = _init(tmp_path / "server", prefix, PGPASSWORD="not-used-by-trust-auth")
        assert done.exit_code == 0, done.output
        environment = server_environment(tmp_path / "server")
        assert "PGPASSWORD" not in environment and len(environment[VALIDATOR_PASSWORD_ENV]) >= 12
        drop(prefix)

        with_password = make_url(PG_ADMIN).set(password="in-the-url").render_as_string(hide_password=False)
        again = _init(tmp_path / "again", prefix, with_password)
        assert again.exit_code == 0, again.output
        assert "shows in the process list" in again.output
    finally:
        drop(prefix)
