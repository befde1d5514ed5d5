"""The `creditflow` command line: the composition root that wires every verb (pipelines/commands/, and
monitoring's `monitor`) into one group. Each verb's module is imported only when that verb runs.

Exit codes (DESIGN.md): 0 success; 1 a verdict said no; 2 bad input or usage, with one line.
"""

from __future__ import annotations

import errno
import gc
import importlib
import logging
import os
import re
import signal
import sys
import warnings
from importlib import metadata
from typing import Any

import click

from features.errors import CreditflowError, Interrupted
from pipelines.core.free_text import SHOWN_LIMIT
from pipelines.runtime import configure_process

log = logging.getLogger("creditflow")

# verb -> (module, click command, the one-line help `creditflow --help` shows without importing the module);
# `monitor` is the one verb that lives in monitoring/. tests/pipelines/test_cli.py checks the lines match.
VERBS = {
    "run": (
        "pipelines.commands.run",
        "run_command",
        "The whole pipeline on SPEC: validate, tune (if tuning.trials > 0), train, evaluate, register a version "
        "pending approval.",
    ),
    "tune": (
        "pipelines.commands.run",
        "tune_command",
        "Tune SPEC's model with Optuna (one nested run per trial), retrain the best trial, evaluate and log it.",
    ),
    "train": (
        "pipelines.commands.run",
        "train_command",
        "Validate, train (with the spec's params, no tuning) and evaluate SPEC's model and log it, without "
        "registering it.",
    ),
    "check": (
        "pipelines.commands.check",
        "check_command",
        "Check SPEC whole (keys, types, reason texts, the governed policy's limits) and its data against the data "
        "contract; list every problem and exit 2, or say what the spec and data come to.",
    ),
    "spec": (
        "pipelines.commands.spec",
        "spec_group",
        "Draft a spec from a data file (spec init DATA --target COLUMN OUT.yaml).",
    ),
    "generate": (
        "pipelines.commands.generate",
        "generate_command",
        "Write a synthetic consumer-loan book to OUT (.parquet or .csv).",
    ),
    "monitor": (
        "monitoring.cli",
        "monitor_command",
        "Drift, score drift, data quality and (with labels) outcomes of MODEL (NAME = its champion, NAME@ALIAS or "
        "NAME/VERSION) on recent data; exits 1 on alert.",
    ),
    "report": (
        "monitoring.report",
        "report_command",
        "The life page of a model version (OUT.html): every window's verdict, drift, outcomes, estimates, vintage "
        "back-test and challenger, as time series with the policy's limits; self-contained.",
    ),
    "notices": (
        "pipelines.commands.notices",
        "notices_command",
        "Write the notice of every declined or referred applicant of SCORED (from `creditflow score`) into OUT_DIR "
        "(a new folder): a text and a JSON file per applicant and notices.jsonl in id order.",
    ),
    "review": (
        "pipelines.commands.review",
        "review_command",
        "Record the acting user's review of MODEL VERSION (audit trail, then approval.* tags, then review page), "
        "or with --exception an accepted, time-limited exception to one gate (exception.<gate>.* tags).",
    ),
    "promote": (
        "pipelines.commands.promote",
        "promote_command",
        "Move alias champion to MODEL VERSION if every gate passed and someone other than its author approved "
        "this evidence; exit 1 listing every unmet condition otherwise.",
    ),
    "rollback": (
        "pipelines.commands.promote",
        "rollback_command",
        "Put alias champion back on the version with alias previous.",
    ),
    "status": (
        "pipelines.commands.status",
        "status_command",
        "Versions of MODEL: gates, exceptions, approval, aliases, monitoring; whether the champion is verified.",
    ),
    "score": (
        "pipelines.commands.score",
        "score_command",
        "Score INPUT (CSV/Parquet) with MODEL_URI (e.g. models:/NAME@champion) into OUTPUT: id, PD, decision and "
        "reason codes for declined applicants.",
    ),
    "audit": ("pipelines.commands.audit", "audit_group", "Check or rebuild a model's governance audit trail."),
    "validate": (
        "pipelines.commands.validate",
        "validate_command",
        "Recompute every gate of MODEL VERSION from its registered model files, its data (by digest) and the "
        "governed policy, as the acting validator: validation.* tags, the audit trail, the review page beside the "
        "author's.",
    ),
    "policy": (
        "pipelines.commands.policy",
        "policy_group",
        "The lender's governed policies: store a version, show one, list them.",
    ),
    "server": (
        "pipelines.commands.server",
        "server_group",
        "Team mode: a shared MLflow server on PostgreSQL that enforces who may approve and promote.",
    ),
}


class _Commands(click.Group):
    """Loads a verb's module only when that verb runs, and turns a CreditflowError anywhere in a command into its
    one-line message and exit code."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(VERBS)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name not in VERBS:
            return None
        module, attribute, _ = VERBS[name]
        return getattr(importlib.import_module(module), attribute)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """The verb list from VERBS: `creditflow --help` imports no verb (MLflow, XGBoost, pandas take seconds)."""
        with formatter.section("Commands"):
            formatter.write_dl([(name, summary) for name, (_, _, summary) in VERBS.items()])

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except CreditflowError as exc:
            click.echo(f"error: {capped(str(exc))}", err=True)
            ctx.exit(exc.exit_code)
        except Interrupted as exc:  # SIGTERM/SIGINT: what the command had open was closed on the way out
            click.echo(f"error: interrupted by signal {signal.Signals(exc.signum).name}", err=True)
            ctx.exit(128 + exc.signum)
        except OSError as exc:  # a full disk, a read-only or vanished folder: runs were closed FAILED on the way out
            if exc.errno not in MACHINE_ERRORS:
                raise
            where = f": {exc.filename}" if exc.filename else ""
            click.echo(f"error: {capped(f'{exc.strerror or exc}{where}')}; the command stopped", err=True)
            ctx.exit(2)


LONG_VALUE = re.compile(r"\S{%d,}" % (SHOWN_LIMIT + 1))


def capped(message: str) -> str:
    """A message with every echoed value (a run of text without spaces) cut at 200 characters: a 2 MB string in a
    spec or an argument is named, not printed."""
    return LONG_VALUE.sub(
        lambda m: f"{m.group()[:SHOWN_LIMIT]}... ({len(m.group()) - SHOWN_LIMIT:,} more characters)", message
    )


# Errors of the machine, not of creditflow: a one-line message (what is open was closed by the command on the way out).
MACHINE_ERRORS = (errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EACCES, errno.EIO, errno.ENAMETOOLONG)


def _print_version(ctx: click.Context, _param: click.Parameter, value: bool) -> None:
    """`creditflow --version`: the installed package's version (pyproject.toml), read when asked."""
    if not value or ctx.resilient_parsing:
        return
    try:
        found = metadata.version("creditflow")
    except metadata.PackageNotFoundError:
        found = "unknown (this checkout is not installed: pip install -e .)"
    click.echo(f"creditflow {found}")
    ctx.exit(0)


@click.group(cls=_Commands)
@click.option(
    "--version", is_flag=True, expose_value=False, is_eager=True, callback=_print_version, help="Show the version."
)
def cli() -> None:
    """creditflow: build, check and govern credit-default models on MLflow."""


def main() -> None:
    configure_process()  # before any verb imports XGBoost: idle OpenMP threads sleep instead of spinning
    os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
    # A tracking server that stops answering fails a command in seconds, not after minutes of retries.
    os.environ.setdefault("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "2")
    os.environ.setdefault("MLFLOW_HTTP_REQUEST_TIMEOUT", "30")
    # Heartbeat checks and Optuna's matplotlib plots are flagged experimental; we use them on purpose.
    warnings.filterwarnings("ignore", message=r".*(is experimental \(supported from|is an experimental feature)")
    # `mlflow.server` (the server verbs' admin client) imports Starlette's WSGI bridge, deprecated in Starlette 1.x:
    # MLflow's to change, nothing a user can act on, and it read as a warning on every `server user add`.
    warnings.filterwarnings("ignore", message=r"starlette\.middleware\.wsgi is deprecated")
    logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stderr)
    from pipelines.owner import interruptible

    try:
        with interruptible():
            cli(prog_name="creditflow")
    except Interrupted as exc:  # a signal outside a command (while loading one)
        click.echo(f"error: interrupted by signal {signal.Signals(exc.signum).name}", err=True)
        sys.exit(128 + exc.signum)
    finally:
        # Python's shutdown runs the cyclic garbage collector over every object the imports made (MLflow,
        # XGBoost, scikit-learn, Optuna): 0.4-1.3 s after the command is done. Frozen objects are left to the
        # operating system; files and stores were closed by the command itself.
        gc.freeze()


if __name__ == "__main__":
    main()
