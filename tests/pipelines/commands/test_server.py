"""`creditflow server ...` bad input: one line, exit 2, nothing created."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from pipelines.cli import cli


@pytest.mark.parametrize(
    "args, env, message",
    [
        (
            ["server", "init", "postgresql://postgres@127.0.0.1:5432/postgres", "--prefix", "Bad-Name"],
            {"MLFLOW_AUTH_ADMIN_PASSWORD": "a-long-enough-password"},
            "--prefix 'Bad-Name'",
        ),
        (
            ["server", "init", "postgresql://postgres@127.0.0.1:5432/postgres"],
            {"MLFLOW_AUTH_ADMIN_PASSWORD": "short"},
            "at least 12 characters",
        ),
        (["server", "start", "--folder", "nowhere"], {}, "run `creditflow server init` first"),
        (
            ["server", "user", "add", "ds1", "--role", "reviewer", "--tracking-uri", "sqlite:///mlflow.db"],
            {"CREDITFLOW_NEW_USER_PASSWORD": "a-long-enough-password"},
            "users live on a team server",
        ),
    ],
)
def test_bad_input_is_one_line(tmp_path, monkeypatch, args, env, message):
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(cli, args, env=env)
    assert result.exit_code == 2, result.output
    assert result.output.startswith("error: ") and message in result.output and len(result.output.splitlines()) == 1
    assert list(tmp_path.iterdir()) == []


def test_a_bad_auth_cache_bound_is_one_line_before_the_server_starts(tmp_path):
    folder = tmp_path / "server"
    folder.mkdir()
    fields = ("folder", "backend_store_uri", "auth_db_uri", "governance_db_uri", "optuna_storage_uri")
    config = {**{k: str(folder) for k in fields}, "artifacts_destination": str(folder), "host": "127.0.0.1"}
    (folder / "server.json").write_text(json.dumps({**config, "port": 5999, "admin": "admin"}))
    (folder / "server.env").write_text("CREDITFLOW_AUTH_CACHE_SECONDS=ten\n")
    result = CliRunner().invoke(cli, ["server", "start", "--folder", str(folder)])
    assert result.exit_code == 2, result.output
    assert result.output == "error: CREDITFLOW_AUTH_CACHE_SECONDS='ten': a number of seconds\n"
