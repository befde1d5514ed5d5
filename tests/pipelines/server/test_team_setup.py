"""Issue 24.6: `server init` works with the administrator's password in PGPASSWORD, a pgpass file (PGPASSFILE or
~/.pgpass) or the URL (checked on a private cluster that asks for passwords), creates the validation worker's
service user, and a failed init leaves nothing behind, so a re-run completes."""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
import tempfile
from pathlib import Path
from unittest import mock

import psycopg2
import pytest
from click.testing import CliRunner
from sqlalchemy.engine import make_url

from pipelines.cli import cli
from pipelines.server.setup import VALIDATOR_PASSWORD_ENV, ServerConfig, check_databases, server_environment
from tests.pipelines.server.conftest import PG_ADMIN, connect, drop, free_port

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


PG_BIN = Path("/usr/lib/postgresql/15/bin")
ADMIN_PASSWORD = f"pg-{secrets.token_hex(8)}"


@pytest.fixture(scope="module")
def password_postgres():
    """A private PostgreSQL cluster that checks passwords (scram-sha-256; the shared one trusts every local
    connection, where a password is never read): the administrator `pgadmin`, on a free port, removed afterwards."""
    if not (PG_BIN / "initdb").exists() or shutil.which("runuser") is None or os.geteuid() != 0:
        pytest.skip("needs PostgreSQL 15's initdb and runuser (to run it as the postgres user)")
    folder = Path(tempfile.mkdtemp(prefix="cfpw-"))  # pytest's folders are root's alone: postgres cannot enter them
    shutil.chown(folder, "postgres")
    (folder / "pw").write_text(ADMIN_PASSWORD + "\n")
    shutil.chown(folder / "pw", "postgres")
    port = free_port()
    as_postgres = ["runuser", "-u", "postgres", "--"]
    subprocess.run(
        [*as_postgres, str(PG_BIN / "initdb"), "-D", str(folder / "data"), "-U", "pgadmin", "-N"]
        + ["--auth=scram-sha-256", f"--pwfile={folder / 'pw'}"],
        check=True,
        capture_output=True,
    )
    options = f"-p {port} -k {folder} -c listen_addresses=127.0.0.1"
    ctl = [*as_postgres, str(PG_BIN / "pg_ctl"), "-D", str(folder / "data")]
    subprocess.run([*ctl, "-o", options, "-l", str(folder / "log"), "-w", "start"], check=True, capture_output=True)
    try:
        yield f"postgresql://pgadmin@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run([*ctl, "-m", "immediate", "stop"], capture_output=True)
        shutil.rmtree(folder, ignore_errors=True)


@pytest.mark.parametrize("way", ["PGPASSWORD", "PGPASSFILE", "~/.pgpass", "URL"])
def test_init_reads_the_administrators_password_every_documented_way(password_postgres, tmp_path, way):
    url, env = password_postgres, {"PGPASSWORD": None, "PGPASSFILE": None, "HOME": str(tmp_path / "home")}
    (tmp_path / "home").mkdir()
    port = make_url(url).port
    line = f"127.0.0.1:{port}:*:pgadmin:{ADMIN_PASSWORD}\n"
    if way == "PGPASSWORD":
        env["PGPASSWORD"] = ADMIN_PASSWORD
    elif way == "URL":
        url = make_url(url).set(password=ADMIN_PASSWORD).render_as_string(hide_password=False)
    else:
        pgpass = tmp_path / ("pgpass" if way == "PGPASSFILE" else "home/.pgpass")
        pgpass.write_text(line)
        pgpass.chmod(0o600)  # libpq ignores a pgpass file others can read
        if way == "PGPASSFILE":
            env["PGPASSFILE"] = str(pgpass)

    no_password = _init(tmp_path / "none", "cfpw_none", password_postgres, PGPASSWORD=None, PGPASSFILE=None)
    assert no_password.exit_code == 2 and len(no_password.output.splitlines()) == 1, no_password.output
    assert "cannot connect to PostgreSQL" in no_password.output

    prefix = f"cfpw_{secrets.token_hex(3)}"
    done = _init(tmp_path / "server", prefix, url, **env)
    assert done.exit_code == 0, done.output
    config = ServerConfig.load(tmp_path / "server")
    environment = server_environment(tmp_path / "server")
    check_databases(config, environment)  # the server's role logs in with its generated password, from its pgpass
    for uri in (config.backend_store_uri.replace("+psycopg2", ""), config.optuna_storage_uri.replace("+psycopg2", "")):
        psycopg2.connect(uri, passfile=environment["PGPASSFILE"], connect_timeout=5).close()
    with pytest.raises(psycopg2.OperationalError, match="password"):  # the generated roles do need it
        psycopg2.connect(config.backend_store_uri.replace("+psycopg2", ""), passfile=os.devnull, connect_timeout=5)

    again = _init(tmp_path / "again", prefix, url, **env)  # a second init on the same prefix: refused, nothing touched
    assert again.exit_code == 2 and "already in PostgreSQL" in again.output, again.output
    check_databases(config, environment)
