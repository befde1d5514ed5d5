"""The `creditflow` command line: thin commands that load, call the pipeline steps, and log.

Exit codes (DESIGN.md): 0 success; 1 a verdict said no; 2 bad input or usage, with one line.
"""

from __future__ import annotations

import logging
import os
import sys
import warnings

import click

from features.errors import CreditflowError

log = logging.getLogger("creditflow")

tracking_option = click.option(
    "--tracking-uri", default=None, metavar="URI",
    help="MLflow tracking store (default: MLFLOW_TRACKING_URI, else sqlite:///mlflow.db here).",
)


class _Commands(click.Group):
    """Turns a CreditflowError anywhere in a command into its one-line message and exit code."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except CreditflowError as exc:
            click.echo(f"error: {exc}", err=True)
            ctx.exit(exc.exit_code)


@click.group(cls=_Commands)
def cli() -> None:
    """creditflow: build, check and govern credit-default models on MLflow."""


def tuning_options(command):
    """--trials/--timeout/--storage/--study/--workers: override the spec's tuning budget."""
    options = [
        click.option("--trials", type=int, default=None, help="Finished trials the study should hold (spec: tuning.trials)."),
        click.option("--timeout", type=float, default=None, help="Seconds to tune in this invocation (spec: tuning.timeout)."),
        click.option("--storage", default=None, metavar="URL",
                     help="Optuna storage, any SQLAlchemy URL (default: optuna.db beside the tracking store)."),
        click.option("--study", default=None, help="Study name (default: the spec's name)."),
        click.option("--workers", type=int, default=1, show_default=True, help="Tuning processes on one shared study."),
    ]
    for option in reversed(options):
        command = option(command)
    return command


def _tune_options(trials, timeout, storage, study, workers, required=False):
    from pipelines.commands import TuneOptions

    return TuneOptions(trials, timeout, storage, study, workers, required)


@cli.command("run")
@click.argument("spec", type=click.Path(dir_okay=False))
@tracking_option
@tuning_options
@click.option("--strict", is_flag=True, help="Exit 1 when any gate failed (the version is still registered).")
def run_command(spec: str, tracking_uri: str | None, strict: bool, **tuning) -> None:
    """The whole pipeline on SPEC: validate, tune (if tuning.trials > 0), train, evaluate, register a
    version pending approval."""
    from pipelines.commands import run_pipeline

    passed = run_pipeline(spec, tracking_uri, register=True, tune=_tune_options(**tuning))
    if strict and not passed:
        sys.exit(1)


@cli.command("tune")
@click.argument("spec", type=click.Path(dir_okay=False))
@tracking_option
@tuning_options
def tune_command(spec: str, tracking_uri: str | None, **tuning) -> None:
    """Tune SPEC's model with Optuna (one nested run per trial), retrain the best trial, evaluate and log it."""
    from pipelines.commands import run_pipeline

    run_pipeline(spec, tracking_uri, register=False, tune=_tune_options(**tuning, required=True))


@cli.command("train")
@click.argument("spec", type=click.Path(dir_okay=False))
@tracking_option
def train_command(spec: str, tracking_uri: str | None) -> None:
    """Validate, train (with the spec's params, no tuning) and evaluate SPEC's model and log it, without
    registering it."""
    from pipelines.commands import run_pipeline

    run_pipeline(spec, tracking_uri, register=False, tune=None)


@cli.command("generate")
@click.argument("out", type=click.Path(dir_okay=False))
@click.option("--rows", type=click.IntRange(min=1), required=True, help="Number of applicants.")
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--start-month", default="2024-01", show_default=True, help="First application month, YYYY-MM.")
@click.option("--months", type=click.IntRange(min=1), default=24, show_default=True)
@click.option("--bias", type=click.FloatRange(min=0), default=0.0, show_default=True,
              help="Historical-bias strength against one group (added to its default log-odds).")
@click.option("--drift-income", type=float, default=0.0, show_default=True,
              help="Relative income change by the last month (e.g. -0.2).")
@click.option("--drift-utilisation", type=float, default=0.0, show_default=True,
              help="Absolute revolving-utilisation change by the last month (e.g. 0.15).")
@click.option("--drift-mix", type=click.FloatRange(0, 1), default=0.0, show_default=True,
              help="Population-mix shift toward riskier channels and younger applicants by the last month.")
@click.option("--scenario", type=click.Choice(["income_shock", "utilisation_rise", "mix_shift"]), default=None,
              help="A named drift scenario (sets the drift knobs it names; see features/synthetic.py SCENARIOS).")
def generate_command(out: str, **options) -> None:
    """Write a synthetic consumer-loan book to OUT (.parquet or .csv)."""
    from pipelines.commands import generate

    generate(out, options)


@cli.command("monitor")
@click.argument("model")
@click.option("--current", type=click.Path(dir_okay=False), default=None,
              help="Recent applications (CSV/Parquet); filtered to the window's month when it has the time column.")
@click.option("--reference", type=click.Path(dir_okay=False), default=None,
              help="Reference data (default: the training sample stored with the version).")
@click.option("--window", default=None, metavar="LABEL", help="Window label, YYYY-MM (default: the previous month).")
@click.option("--backfill", type=click.Path(dir_okay=False), default=None,
              help="Monitor every month of this data instead of one window (one run per month).")
@click.option("--by", type=click.Choice(["month"]), default="month", show_default=True, help="Backfill window size.")
@click.option("--force", is_flag=True, help="Replace a window that was already monitored (default: skip it).")
@tracking_option
def monitor_command(model: str, current, reference, window, backfill, by, force, tracking_uri) -> None:
    """Drift, score drift, data quality and (with labels) outcomes of MODEL (NAME = its champion, NAME@ALIAS or
    NAME/VERSION) on recent data; exits 1 on alert."""
    from monitoring.commands import monitor

    sys.exit(monitor(model, current, reference, window, backfill, force, tracking_uri))


@cli.command("review")
@click.argument("model")
@click.argument("version")
@click.option("--approve/--reject", "approve", default=None, required=True, help="The decision.")
@click.option("--reviewer", required=True, help="Who decides (must not be the version's author to promote).")
@click.option("--comment", required=True, help="Why.")
@click.option("--new-review", is_flag=True, help="Needed to approve a version that was rejected.")
@tracking_option
def review_command(model, version, approve, reviewer, comment, new_review, tracking_uri) -> None:
    """Record a review decision on MODEL VERSION (approval.* tags, audit trail, model card)."""
    from pipelines.governance_commands import review

    review(model, version, approve, reviewer, comment, new_review, tracking_uri)


@cli.command("promote")
@click.argument("model")
@click.argument("version")
@tracking_option
def promote_command(model, version, tracking_uri) -> None:
    """Move alias champion to MODEL VERSION if every gate passed and someone other than its author
    approved this evidence; exit 1 listing every unmet condition otherwise."""
    from pipelines.governance_commands import promote

    promote(model, version, tracking_uri)


@cli.command("rollback")
@click.argument("model")
@click.option("--reason", required=True, help="Why the champion is withdrawn.")
@tracking_option
def rollback_command(model, reason, tracking_uri) -> None:
    """Put alias champion back on the version with alias previous."""
    from pipelines.governance_commands import rollback

    rollback(model, reason, tracking_uri)


@cli.command("status")
@click.argument("model")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.option("--audit", is_flag=True, help="Also print the governance audit trail.")
@tracking_option
def status_command(model, as_json, audit, tracking_uri) -> None:
    """Versions of MODEL: gates, approval, aliases, monitoring; whether the champion is verified."""
    from pipelines.status import show_status

    show_status(model, tracking_uri, as_json, audit)


@cli.command("score")
@click.argument("model_uri")
@click.argument("input_path", metavar="INPUT", type=click.Path(dir_okay=False))
@click.argument("output_path", metavar="OUTPUT", type=click.Path(dir_okay=False))
@click.option("--reasons", type=click.Choice(["approx", "exact", "none"]), default="approx", show_default=True,
              help="Reason codes: approx (Saabas, fast), exact (TreeSHAP, ~30x slower) or none.")
@click.option("--chunk-rows", type=click.IntRange(min=1), default=100_000, show_default=True,
              help="Rows scored at a time (memory bound).")
@click.option("--allow-unverified", is_flag=True,
              help="Score even when the champion was not put there by a recorded promotion or fails the rules.")
@tracking_option
def score_command(model_uri, input_path, output_path, reasons, chunk_rows, allow_unverified, tracking_uri) -> None:
    """Score INPUT (CSV/Parquet) with MODEL_URI (e.g. models:/NAME@champion) into OUTPUT: id, PD,
    decision and reason codes."""
    from pipelines.score_command import score

    score(model_uri, input_path, output_path, reasons, chunk_rows, allow_unverified, tracking_uri)


def main() -> None:
    os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
    # A tracking server that stops answering fails a command in seconds, not after minutes of retries.
    os.environ.setdefault("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "2")
    os.environ.setdefault("MLFLOW_HTTP_REQUEST_TIMEOUT", "30")
    # Heartbeat checks and Optuna's matplotlib plots are flagged experimental; we use them on purpose.
    warnings.filterwarnings("ignore", message=r".*(is experimental \(supported from|is an experimental feature)")
    logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stderr)
    cli(prog_name="creditflow")


if __name__ == "__main__":
    main()
