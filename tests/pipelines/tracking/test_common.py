"""The connection to the tracking store: a bad URI, a missing driver or a read-only store is one line, exit 2."""

import logging
import subprocess
import sys

import mlflow
import pytest
from click.testing import CliRunner

from pipelines.cli import cli
from tests.conftest import REPO


def one_error_line(result) -> str:
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert result.exit_code == 2 and len(lines) == 1 and lines[0].startswith("error: "), result.output
    return lines[0]


@pytest.mark.parametrize("verb", [["status", "german_credit"], ["train", "SPEC"]])
def test_a_postgresql_store_without_its_driver_is_one_line(tracking_uri, german_spec, monkeypatch, verb):
    monkeypatch.setitem(sys.modules, "psycopg", None)  # not installed, whatever this machine has
    monkeypatch.setitem(sys.modules, "psycopg2", None)
    args = [str(german_spec) if a == "SPEC" else a for a in verb]
    result = CliRunner().invoke(cli, [*args, "--tracking-uri", "postgresql://risk:s3cret@db.internal/mlflow"])
    line = one_error_line(result)
    assert "database driver 'psycopg" in line and "is not installed" in line
    assert "s3cret" not in line and "risk:***@db.internal" in line  # never a password in a log line
    assert mlflow.MlflowClient(tracking_uri).search_runs(["0", "1"]) == []


def test_an_unknown_scheme_is_one_line(tracking_uri, german_spec):
    for args in (["status", "german_credit"], ["train", str(german_spec)]):
        line = one_error_line(CliRunner().invoke(cli, [*args, "--tracking-uri", "foo://bar"]))
        assert line.startswith("error: tracking store foo://bar: unsupported URI scheme 'foo'")


def test_a_read_only_store_is_one_line_without_a_logged_traceback(tracking_uri, german_spec, caplog):
    """SQLite's read-only mode stands for a store file the user cannot write (root ignores file modes)."""
    read_only = tracking_uri.replace("sqlite:///", "sqlite:///file:") + "?mode=ro&uri=true"
    with caplog.at_level(logging.INFO):
        result = CliRunner().invoke(cli, ["train", str(german_spec), "--tracking-uri", read_only])
    assert one_error_line(result).endswith("tracking store " + read_only + ": attempt to write a readonly database")
    assert not [r for r in caplog.records if r.exc_info], "MLflow logged a traceback"
    assert mlflow.MlflowClient(tracking_uri).search_experiments(filter_string="name = 'german_credit'") == []


@pytest.mark.slow
def test_a_read_only_store_prints_one_line_from_a_fresh_process(tracking_uri, german_spec):
    """What a user sees in a terminal: MLflow's own log handler used to print a SQLAlchemy traceback first."""
    read_only = tracking_uri.replace("sqlite:///", "sqlite:///file:") + "?mode=ro&uri=true"
    done = subprocess.run(
        [sys.executable, "-m", "pipelines.cli", "train", str(german_spec), "--tracking-uri", read_only],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=300,
    )
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()  # progress lines ("data ...", "leakage screen ...") come first
    assert lines[-1] == f"error: tracking store {read_only}: attempt to write a readonly database", done.stderr
    assert [line for line in lines if line.startswith("error")] == lines[-1:]
    assert "Traceback" not in done.stderr and "SQLAlchemy" not in done.stderr, done.stderr
