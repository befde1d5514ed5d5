"""Options shared by several verbs: the tracking store and the tuning budget."""

from __future__ import annotations

from typing import Any, Callable, TypeVar

import click

F = TypeVar("F", bound=Callable[..., Any])

tracking_option = click.option(
    "--tracking-uri",
    default=None,
    metavar="URI",
    help="MLflow tracking store (default: MLFLOW_TRACKING_URI, else sqlite:///mlflow.db here).",
)


def tuning_options(command: F) -> F:
    """--trials/--timeout/--storage/--study/--workers: override the spec's tuning budget."""
    options = [
        click.option(
            "--trials", type=int, default=None, help="Finished trials the study should hold (spec: tuning.trials)."
        ),
        click.option(
            "--timeout", type=float, default=None, help="Seconds to tune in this invocation (spec: tuning.timeout)."
        ),
        click.option(
            "--storage",
            default=None,
            metavar="URL",
            help="Optuna storage, any SQLAlchemy URL (default: optuna.db beside the tracking store).",
        ),
        click.option("--study", default=None, help="Study name (default: the spec's name)."),
        click.option("--workers", type=int, default=1, show_default=True, help="Tuning processes on one shared study."),
    ]
    for option in reversed(options):
        command = option(command)
    return command
