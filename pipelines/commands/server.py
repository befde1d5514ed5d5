"""`creditflow server init | start | user add`: team mode, an MLflow tracking server on PostgreSQL with
authentication and creditflow's governance gate (pipelines/server/)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from features.errors import CreditflowError
from pipelines.commands.options import tracking_option
from pipelines.governance.rules.permissions import ADMIN, ROLE_PREFIX, ROLES

ADMIN_PASSWORD_ENV = "MLFLOW_AUTH_ADMIN_PASSWORD"
NEW_PASSWORD_ENV = "CREDITFLOW_NEW_USER_PASSWORD"
folder_option = click.option(
    "--folder",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("creditflow-server"),
    show_default=True,
    help="Where the server's configuration, pgpass file and served artifacts live.",
)


@click.group("server")
def server_group() -> None:
    """Team mode: a shared MLflow server on PostgreSQL that enforces who may approve and promote."""


@server_group.command("init")
@click.argument("postgres_url")
@folder_option
@click.option("--prefix", default="creditflow", show_default=True, help="Prefix of the roles and databases.")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address the server will listen on.")
@click.option("--port", type=int, default=5000, show_default=True)
@click.option("--admin", default="admin", show_default=True, help="The admin user (manages users and grants).")
def init_command(postgres_url: str, folder: Path, prefix: str, host: str, port: int, admin: str) -> None:
    """Create the databases and roles on POSTGRES_URL (a role that may create both; its password from PGPASSWORD,
    ~/.pgpass or the URL), the auth configuration, the admin user (password from $MLFLOW_AUTH_ADMIN_PASSWORD, else
    asked) and the validation worker's service user. A failed init leaves nothing behind: run it again."""
    from sqlalchemy.engine import make_url

    _need_team_extra()
    from pipelines.server.setup import init_server

    if make_url(postgres_url).password:
        click.echo(
            "warning: a password in the URL shows in the process list (PGPASSWORD or ~/.pgpass do not)", err=True
        )
    password = os.environ.get(ADMIN_PASSWORD_ENV) or click.prompt(
        f"password for the admin user {admin!r}", hide_input=True, confirmation_prompt=True
    )
    config = init_server(
        postgres_url, folder, prefix=prefix, host=host, port=port, admin=admin, admin_password=password
    )
    click.echo(f"team server configured in {config.folder} (databases {prefix}_*, roles {prefix}_server/_optuna)")
    click.echo(f"start it:        creditflow server start --folder {folder}")
    click.echo(f"add people:      creditflow server user add NAME --role ROLE --tracking-uri {config.tracking_uri}")
    click.echo(f"shared tuning:   --storage {config.optuna_storage_uri}  (password in {config.folder}/pgpass)")


@server_group.command("start", context_settings={"ignore_unknown_options": True})
@folder_option
@click.option("--workers", type=int, default=1, show_default=True, help="1: one uvicorn worker; more: gunicorn.")
@click.option("--print-command", is_flag=True, help="Print the `mlflow server` command (for a service unit).")
@click.argument("mlflow_options", nargs=-1, type=click.UNPROCESSED)
def start_command(folder: Path, workers: int, print_command: bool, mlflow_options: tuple[str, ...]) -> None:
    """Run the team server in the foreground: `mlflow server --app-name creditflow` on the configured stores,
    with job execution off, and beside it the validation worker (as the service user creditflow-validator: it
    validates every newly registered version). MLFLOW_OPTIONS after `--` go to `mlflow server`."""
    _need_team_extra()
    from pipelines.server.setup import ServerConfig, check_databases, server_command, server_environment
    from pipelines.server.worker import start_worker

    config = ServerConfig.load(folder)
    command = server_command(config, workers=workers, extra=tuple(mlflow_options))
    environment = server_environment(folder)
    if print_command:
        click.echo(f"set -a; . {Path(config.folder) / 'server.env'}; set +a")
        click.echo(" ".join(command))
        click.echo(f"# and the validation worker beside it: {sys.executable} -m pipelines.server.worker {folder}")
        return
    _check_cache_bound(environment)
    check_databases(config, environment)
    click.echo(f"creditflow team server on {config.tracking_uri} (backend {config.backend_store_uri})", err=True)
    start_worker(folder)  # in this process group: stopping the server stops it
    os.execve(command[0], command, environment)


@server_group.group("user")
def user_group() -> None:
    """Users of the team server (an admin's credentials: MLFLOW_TRACKING_USERNAME/PASSWORD)."""


@user_group.command("add")
@click.argument("name")
@click.option("--role", type=click.Choice(ROLES), required=True, help="What the person may do on the server.")
@tracking_option
def user_add_command(name: str, role: str, tracking_uri: str | None) -> None:
    """Add user NAME with one role (password from $CREDITFLOW_NEW_USER_PASSWORD, else asked)."""
    from pipelines.tracking.common import resolve_tracking_uri
    from pipelines.tracking.http import add_user

    uri = resolve_tracking_uri(tracking_uri)
    if not uri.startswith(("http://", "https://")):
        raise CreditflowError(f"--tracking-uri {uri}: users live on a team server (http://HOST:PORT)")
    password = os.environ.get(NEW_PASSWORD_ENV) or click.prompt(
        f"password for {name}", hide_input=True, confirmation_prompt=True
    )
    if len(password) < 12:
        raise CreditflowError("a password must have at least 12 characters (MLflow's rule)")
    add_user(uri, name, None if role == ADMIN else f"{ROLE_PREFIX}{role}", password)
    click.echo(f"user {name} added to {uri} with role {role}")


def _check_cache_bound(environment: dict[str, str]) -> None:
    """A bad CREDITFLOW_AUTH_CACHE_SECONDS is one line here, not a traceback in the server's worker."""
    from pipelines.server.auth_cache import cache_seconds

    try:
        cache_seconds(environment)
    except ValueError as exc:
        raise CreditflowError(str(exc)) from None


TEAM_EXTRA = "pip install -c constraints.txt -e '.[team]'"


def _need_team_extra() -> None:
    """The team server needs the `team` extra (MLflow's basic-auth, psycopg2): name the install, not the import."""
    import importlib.util

    missing = [m for m in ("psycopg2", "flask_wtf") if importlib.util.find_spec(m) is None]
    if missing:
        raise CreditflowError(
            f"the team server needs the team extra ({', '.join(missing)} not installed): {TEAM_EXTRA}"
        )
