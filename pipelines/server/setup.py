"""`creditflow server init` and `start`: a team server's databases, roles, configuration and process.

`init` takes a PostgreSQL URL of a role that may create roles and databases (e.g. `postgres`) and makes:

| database | owner | holds |
| --- | --- | --- |
| `<prefix>_mlflow` | `<prefix>_server` | MLflow's tracking store and model registry |
| `<prefix>_auth` | `<prefix>_server` | basic-auth: users, password hashes, roles and grants |
| `<prefix>_governance` | `<prefix>_owner` (no login) | the audit log and the governed policy (server: read, append) |
| `<prefix>_optuna` | `<prefix>_optuna` | shared Optuna studies (tuning workers log in as `<prefix>_optuna`) |

Passwords are generated and written only to a pgpass file (mode 0600) that libpq reads: no password is in a URL,
a configuration file or a command line. The folder gets `basic_auth.ini` (auth database, default permission
READ, `auth_cache_ttl_seconds = 10`), `server.env` (secrets and settings for the server process, 0600; the failed-login
limits `CREDITFLOW_LOGIN_*` with their defaults, see pipelines/server/throttle.py) and
`server.json` (what `start` runs). The admin user is created in the auth database at `init`, with the password
given once (MLflow refuses to start an auth server without an admin password): `start` never needs it.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import psycopg2
from psycopg2 import sql

from features.errors import CreditflowError
from pipelines.server.auth_cache import AUTH_CACHE_SECONDS_ENV, DEFAULT_SECONDS
from pipelines.server.store import create_schema
from pipelines.server.throttle import LoginLimits

CONFIG, ENV, INI, PGPASS = "server.json", "server.env", "basic_auth.ini", "pgpass"
VALIDATOR_PASSWORD_ENV = "CREDITFLOW_VALIDATOR_PASSWORD"
_PREFIX = re.compile(r"^[a-z][a-z0-9_]{0,30}$")


@dataclass(frozen=True)
class ServerConfig:
    """What `server start` runs (server.json): URLs carry no password."""

    folder: str
    backend_store_uri: str
    auth_db_uri: str
    governance_db_uri: str
    optuna_storage_uri: str
    artifacts_destination: str
    host: str
    port: int
    admin: str

    @property
    def tracking_uri(self) -> str:
        return f"http://{self.host}:{self.port}"

    @classmethod
    def load(cls, folder: Path) -> "ServerConfig":
        path = folder / CONFIG
        if not path.is_file():
            raise CreditflowError(f"{path} not found: run `creditflow server init` first")
        return cls(**json.loads(path.read_text()))


def init_server(
    admin_url: str, folder: Path, *, prefix: str, host: str, port: int, admin: str, admin_password: str
) -> ServerConfig:
    """Create the roles, databases, schema, admin user and configuration files of a new team server."""
    if not _PREFIX.match(prefix):
        raise CreditflowError(f"--prefix {prefix!r}: lower-case letters, digits and _ (a PostgreSQL name)")
    if (folder / CONFIG).exists():
        raise CreditflowError(f"{folder} already holds a server configuration ({CONFIG})")
    if len(admin_password) < 12:
        raise CreditflowError("the admin password must have at least 12 characters (MLflow's rule)")
    conn = _connect(admin_url)
    pg = conn.get_dsn_parameters()
    pg_host, pg_port = pg.get("host", "127.0.0.1"), int(pg.get("port", 5432))
    names = _names(prefix)
    made_folder = not folder.exists()
    try:
        _refuse_existing(conn, names)
    except CreditflowError:
        conn.close()
        raise
    try:
        passwords = {names["server"]: secrets.token_urlsafe(24), names["optuna"]: secrets.token_urlsafe(24)}
        _create_roles_and_databases(conn, names, passwords)
        governance = _connect(admin_url, dbname=names["governance"])
        try:
            create_schema(governance, owner=names["owner"], writer=names["server"])
        finally:
            governance.close()
        folder.mkdir(parents=True, exist_ok=True)
        config = _config(folder, names, pg_host, pg_port, host, port, admin)
        validator_password = secrets.token_urlsafe(24)
        _write_files(folder, config, names, passwords, pg_host, pg_port, validator_password)
        from pipelines.server.roles import create_auth_database  # imports MLflow's server: only `init` pays for it

        with _as_server_roles(folder):
            create_auth_database(config.auth_db_uri, admin, admin_password, validator_password)
    except BaseException as exc:  # nothing half-made blocks a re-run: drop what this run created
        _undo(conn, names, folder, made_folder)
        if isinstance(exc, (CreditflowError, KeyboardInterrupt)):
            raise
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise CreditflowError(f"server init failed, nothing was left behind: {first}") from None
    finally:
        conn.close()
    return config


@contextmanager
def _as_server_roles(folder: Path) -> Iterator[None]:
    """Connect as the generated roles through the pgpass file: libpq prefers PGPASSWORD (the administrator's, when
    `init` was given it that way) to a pgpass file, so it is hidden meanwhile."""
    saved = {k: os.environ.get(k) for k in ("PGPASSWORD", "PGPASSFILE")}
    os.environ.pop("PGPASSWORD", None)
    os.environ["PGPASSFILE"] = str(folder / PGPASS)
    try:
        yield
    finally:
        for key, value in saved.items():
            os.environ.pop(key, None) if value is None else os.environ.__setitem__(key, value)


def _undo(conn: Any, names: dict[str, str], folder: Path, made_folder: bool) -> None:
    """Drop the databases and roles of `names` and the configuration files (the folder, if this run made it)."""
    with conn.cursor() as cur:
        for key in DATABASES:
            cur.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(names[key])))
        for key in ROLES:
            cur.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(names[key])))
    for name in (CONFIG, ENV, INI, PGPASS):
        (folder / name).unlink(missing_ok=True)
    if made_folder and folder.is_dir() and not any(folder.iterdir()):
        folder.rmdir()


def _names(prefix: str) -> dict[str, str]:
    return {
        "server": f"{prefix}_server",
        "optuna": f"{prefix}_optuna",
        "owner": f"{prefix}_owner",
        "mlflow": f"{prefix}_mlflow",
        "auth": f"{prefix}_auth",
        "governance": f"{prefix}_governance",
        "optuna_db": f"{prefix}_optuna",
    }


def _connect(url: str, dbname: str | None = None) -> Any:  # a psycopg2 connection (psycopg2 ships no types)
    try:
        conn = psycopg2.connect(url, **({"dbname": dbname} if dbname else {}))
    except psycopg2.Error as exc:
        raise CreditflowError(f"cannot connect to PostgreSQL: {str(exc).strip().splitlines()[0]}") from None
    conn.autocommit = dbname is None
    return conn


def _refuse_existing(conn: Any, names: dict[str, str]) -> None:
    with conn.cursor() as cur:
        cur.execute("SELECT rolname FROM pg_roles WHERE rolname = ANY(%s)", ([names[k] for k in ROLES],))
        found = [r[0] for r in cur.fetchall()]
        cur.execute("SELECT datname FROM pg_database WHERE datname = ANY(%s)", ([names[k] for k in DATABASES],))
        found += [r[0] for r in cur.fetchall()]
    if found:
        raise CreditflowError(f"already in PostgreSQL: {', '.join(found)} (choose another --prefix)")


ROLES = ("server", "optuna", "owner")
DATABASES = {"mlflow": "server", "auth": "server", "governance": "owner", "optuna_db": "optuna"}


def _create_roles_and_databases(conn: Any, names: dict[str, str], passwords: dict[str, str]) -> None:
    with conn.cursor() as cur:
        for key in ROLES:
            role = names[key]
            if role in passwords:
                cur.execute(
                    sql.SQL("CREATE ROLE {} LOGIN PASSWORD {}").format(
                        sql.Identifier(role), sql.Literal(passwords[role])
                    )
                )
            else:
                cur.execute(sql.SQL("CREATE ROLE {} NOLOGIN").format(sql.Identifier(role)))
        for key, owner in DATABASES.items():
            database = sql.Identifier(names[key])
            cur.execute(sql.SQL("CREATE DATABASE {} OWNER {}").format(database, sql.Identifier(names[owner])))
            cur.execute(sql.SQL("REVOKE CONNECT ON DATABASE {} FROM PUBLIC").format(database))
            user = names["optuna"] if key == "optuna_db" else names["server"]
            cur.execute(sql.SQL("GRANT CONNECT ON DATABASE {} TO {}").format(database, sql.Identifier(user)))


def _config(
    folder: Path, names: dict[str, str], pg_host: str, pg_port: int, host: str, port: int, admin: str
) -> ServerConfig:
    def url(user: str, database: str, driver: str = "+psycopg2") -> str:
        return f"postgresql{driver}://{user}@{pg_host}:{pg_port}/{database}"  # SQLAlchemy 2.1 defaults to psycopg 3

    server = names["server"]
    return ServerConfig(
        folder=str(folder.resolve()),
        backend_store_uri=url(server, names["mlflow"]),
        auth_db_uri=url(server, names["auth"]),
        governance_db_uri=url(server, names["governance"], driver=""),  # libpq's own form (psycopg2)
        optuna_storage_uri=url(names["optuna"], names["optuna_db"]),
        artifacts_destination=str((folder / "artifacts").resolve()),
        host=host,
        port=port,
        admin=admin,
    )


def _write_files(
    folder: Path,
    config: ServerConfig,
    names: dict[str, str],
    passwords: dict[str, str],
    pg_host: str,
    pg_port: int,
    validator_password: str,
) -> None:
    pgpass = [f"{pg_host}:{pg_port}:*:{role}:{password}" for role, password in passwords.items()]
    _private(folder / PGPASS, "\n".join(pgpass) + "\n")
    ini = (
        "[mlflow]\n"
        "default_permission = READ\n"
        f"database_uri = {config.auth_db_uri}\n"
        f"admin_username = {config.admin}\n"
        "authorization_function = mlflow.server.auth:authenticate_request_basic_auth\n"
        "# without the cache every request pays a password hash (~300 ms): a run-logging loop 35x slower; a password\n"
        "# changed through another server process takes effect there within this many seconds (issue 24.8)\n"
        "auth_cache_ttl_seconds = 10\n"
    )
    (folder / INI).write_text(ini)
    env = {
        "MLFLOW_AUTH_CONFIG_PATH": str((folder / INI).resolve()),
        "PGPASSFILE": str((folder / PGPASS).resolve()),
        "MLFLOW_FLASK_SERVER_SECRET_KEY": secrets.token_hex(32),
        "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false",
        # each worker holds several SQLAlchemy engines (tracking, registry, auth): keep few idle connections,
        # PostgreSQL allows 100 in all by default
        "MLFLOW_SQLALCHEMYSTORE_POOL_SIZE": "2",
        "MLFLOW_SQLALCHEMYSTORE_MAX_OVERFLOW": "8",
        "CREDITFLOW_GOVERNANCE_DB": config.governance_db_uri,
        # how long another worker may still use a user's old roles and grants (auth_cache.py; issue 24.8)
        AUTH_CACHE_SECONDS_ENV: str(int(DEFAULT_SECONDS)),
        "MLFLOW_DISABLE_TELEMETRY": "true",
        "DO_NOT_TRACK": "1",
        VALIDATOR_PASSWORD_ENV: validator_password,  # the validation worker's login (service user, role validator)
        # failed logins: N per user / per address within the window lock them out (429, Retry-After) for the lockout
        **LoginLimits().environment(),
    }
    _private(folder / ENV, "".join(f"{k}={v}\n" for k, v in env.items()))
    (folder / CONFIG).write_text(json.dumps(asdict(config), indent=2) + "\n")


def _private(path: Path, text: str) -> None:
    path.touch(mode=0o600, exist_ok=True)
    path.chmod(0o600)
    path.write_text(text)


def check_databases(config: ServerConfig, environment: dict[str, str]) -> None:
    """One line, before the server starts, when PostgreSQL or the governance database cannot be reached."""
    try:
        passfile = environment.get("PGPASSFILE", "")
        psycopg2.connect(config.governance_db_uri, passfile=passfile, connect_timeout=5).close()
    except psycopg2.Error as exc:
        raise CreditflowError(f"cannot reach {config.governance_db_uri}: {str(exc).strip().splitlines()[0]}") from None
    LoginLimits.from_environment(environment)  # a bad limit in server.env: one line now, not a worker's traceback


def server_environment(folder: Path) -> dict[str, str]:
    """The server process's environment: this one, plus server.env."""
    lines = (folder / ENV).read_text().splitlines()
    inherited = {k: v for k, v in os.environ.items() if k != "PGPASSWORD"}  # libpq would prefer it to pgpass
    settings = [line.split("=", 1) for line in lines if "=" in line and not line.lstrip().startswith("#")]
    return {**inherited, **dict(settings)}


def server_command(config: ServerConfig, *, workers: int, extra: tuple[str, ...] = ()) -> list[str]:
    """`mlflow server --app-name creditflow ...`: one uvicorn worker, or gunicorn workers when asked for more
    (uvicorn with 2 workers added ~45 ms to every keep-alive request)."""
    command = [sys.executable, "-m", "mlflow", "server", "--app-name", "creditflow"]
    command += ["--backend-store-uri", config.backend_store_uri, "--artifacts-destination"]
    command += [config.artifacts_destination, "--host", config.host, "--port", str(config.port)]
    command += ["--workers", str(workers)]
    if workers > 1:
        command += ["--gunicorn-opts", "--timeout 120"]
    return command + list(extra)
