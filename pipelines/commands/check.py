"""`creditflow check SPEC`: every problem of a spec, its governed policy and its data contract in one run."""

from __future__ import annotations

from pathlib import Path

import click

from pipelines.commands.options import tracking_option


@click.command("check")
@click.argument("spec", type=click.Path(dir_okay=False))
@tracking_option
def check_command(spec: str, tracking_uri: str | None) -> None:
    """Check SPEC whole (keys, types, reason texts, the governed policy's limits) and its data against the data
    contract; list every problem and exit 2, or say what the spec and data come to. Trains and writes nothing."""
    from features.spec_check import check_spec
    from pipelines.tracking.common import resolve_tracking_uri

    policies = None
    if resolve_tracking_uri(tracking_uri).startswith(("http://", "https://")):
        from pipelines.governance.store import store_of
        from pipelines.tracking import Tracker

        policies = store_of(Tracker(tracking_uri)).policies(Path(spec).parent)  # a team server governs policies
    for line in check_spec(spec, policies):
        click.echo(line)
