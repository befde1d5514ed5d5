"""The `creditflow` command line: the composition root that wires every verb (pipelines/commands/, and
monitoring's `monitor`) into one group. Each verb's module is imported only when that verb runs.

Exit codes (DESIGN.md): 0 success; 1 a verdict said no; 2 bad input or usage, with one line.
"""

from __future__ import annotations

import importlib
import logging
import os
import signal
import sys
import warnings
from importlib import metadata

import click

from features.errors import CreditflowError, Interrupted

log = logging.getLogger("creditflow")

# verb -> (module, click command); `monitor` is the one verb that lives in monitoring/
VERBS = {
    "run": ("pipelines.commands.run", "run_command"),
    "tune": ("pipelines.commands.run", "tune_command"),
    "train": ("pipelines.commands.run", "train_command"),
    "generate": ("pipelines.commands.generate", "generate_command"),
    "monitor": ("monitoring.cli", "monitor_command"),
    "review": ("pipelines.commands.review", "review_command"),
    "promote": ("pipelines.commands.promote", "promote_command"),
    "rollback": ("pipelines.commands.promote", "rollback_command"),
    "status": ("pipelines.commands.status", "status_command"),
    "score": ("pipelines.commands.score", "score_command"),
    "audit": ("pipelines.commands.audit", "audit_group"),
    "server": ("pipelines.commands.server", "server_group"),
}


class _Commands(click.Group):
    """Loads a verb's module on first use, and turns a CreditflowError anywhere in a command into its
    one-line message and exit code."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(VERBS)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name not in VERBS:
            return None
        module, attribute = VERBS[name]
        return getattr(importlib.import_module(module), attribute)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """Each verb's whole first paragraph, wrapped: click's default cuts it to one line ending in "..."."""
        commands = [(name, self.get_command(ctx, name)) for name in self.list_commands(ctx)]
        rows = [(name, command.get_short_help_str(limit=10_000)) for name, command in commands if command]
        with formatter.section("Commands"):
            formatter.write_dl(rows)

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except CreditflowError as exc:
            click.echo(f"error: {exc}", err=True)
            ctx.exit(exc.exit_code)
        except Interrupted as exc:  # SIGTERM/SIGINT: what the command had open was closed on the way out
            click.echo(f"error: interrupted by signal {signal.Signals(exc.signum).name}", err=True)
            ctx.exit(128 + exc.signum)


def _print_version(ctx: click.Context, _param, value: bool) -> None:
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
    os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
    # A tracking server that stops answering fails a command in seconds, not after minutes of retries.
    os.environ.setdefault("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "2")
    os.environ.setdefault("MLFLOW_HTTP_REQUEST_TIMEOUT", "30")
    # Heartbeat checks and Optuna's matplotlib plots are flagged experimental; we use them on purpose.
    warnings.filterwarnings("ignore", message=r".*(is experimental \(supported from|is an experimental feature)")
    logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stderr)
    from pipelines.owner import interruptible

    try:
        with interruptible():
            cli(prog_name="creditflow")
    except Interrupted as exc:  # a signal outside a command (while loading one)
        click.echo(f"error: interrupted by signal {signal.Signals(exc.signum).name}", err=True)
        sys.exit(128 + exc.signum)


if __name__ == "__main__":
    main()
