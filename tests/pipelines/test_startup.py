"""Start-up: `creditflow --help` imports no verb, and each verb imports only what it uses (Evidently, Fairlearn's
reductions and matplotlib cost seconds and are loaded by the step that needs them)."""

from __future__ import annotations

import subprocess
import sys

import click
import pytest

from pipelines.cli import VERBS, cli
from tests.conftest import REPO

HEAVY = ("evidently", "fairlearn.reductions", "matplotlib", "optuna", "mlflow", "xgboost", "pandas")


def test_the_help_list_says_what_each_verb_says_about_itself():
    ctx = click.Context(cli)
    for name, (_, _, summary) in VERBS.items():
        assert cli.get_command(ctx, name).get_short_help_str(limit=1000) == summary, name


def loaded_after(code: str) -> set[str]:
    probe = f"{code}\nimport sys\nprint(' '.join(m for m in {HEAVY!r} if m in sys.modules))"
    done = subprocess.run([sys.executable, "-c", probe], cwd=REPO, capture_output=True, text=True, check=True)
    return set(done.stdout.split())


@pytest.mark.slow
def test_help_imports_no_verb():
    code = (
        "from click.testing import CliRunner\nfrom pipelines.cli import cli\n"
        "assert CliRunner().invoke(cli, ['--help']).exit_code == 0"
    )
    assert loaded_after(code) == set()


@pytest.mark.slow
@pytest.mark.parametrize(
    "module, allowed",
    [
        ("pipelines.commands.score", {"mlflow", "xgboost", "pandas"}),
        ("pipelines.commands.status", {"mlflow", "pandas"}),
        ("pipelines.commands.run", {"mlflow", "xgboost", "pandas", "optuna"}),
        ("monitoring.command", {"mlflow", "xgboost", "pandas"}),
    ],
)
def test_a_verb_imports_only_what_it_uses(module, allowed):
    assert loaded_after(f"import {module}") <= allowed
