"""`creditflow promote` and `rollback`: move alias champion under the governance rules."""

from __future__ import annotations

import click

from pipelines.commands.options import tracking_option
from pipelines.governance.actions import promote, rollback


@click.command("promote")
@click.argument("model")
@click.argument("version")
@tracking_option
def promote_command(model: str, version: str, tracking_uri: str | None) -> None:
    """Move alias champion to MODEL VERSION if every gate passed and someone other than its author
    approved this evidence; exit 1 listing every unmet condition otherwise."""
    promote(model, version, tracking_uri=tracking_uri)


@click.command("rollback")
@click.argument("model")
@click.option("--reason", required=True, help="Why the champion is withdrawn.")
@tracking_option
def rollback_command(model: str, reason: str, tracking_uri: str | None) -> None:
    """Put alias champion back on the version with alias previous."""
    rollback(model, reason, tracking_uri=tracking_uri)
