"""`creditflow status`: versions, gates, approvals, aliases, monitoring; whether the champion is verified."""

from __future__ import annotations

import json

import click
import pandas as pd

from pipelines.commands.options import tracking_option
from pipelines.governance.audit import read_trail
from pipelines.governance.status import champion_state, trail_rows, version_rows
from pipelines.tracking import connect


@click.command("status")
@click.argument("model")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.option("--audit", is_flag=True, help="Also print the governance audit trail.")
@tracking_option
def status_command(model, as_json, audit, tracking_uri) -> None:
    """Versions of MODEL: gates, approval, aliases, monitoring; whether the champion is verified."""
    show_status(model, tracking_uri, as_json, audit)


def show_status(model: str, tracking_uri: str | None, as_json: bool, audit: bool) -> None:
    tracker = connect(tracking_uri)
    versions = tracker.model_versions(model)
    trail = read_trail(tracker, model)
    state = champion_state(versions, trail)
    if as_json:
        payload = {"model": model, **state, "versions": version_rows(versions)}
        if audit:
            payload["audit"] = trail_rows(trail)
        click.echo(json.dumps(payload, indent=2))
        return
    click.echo(pd.DataFrame(version_rows(versions)).to_string(index=False))
    if state["champion"] is None:
        click.echo("champion: none")
    elif state["verified"]:
        click.echo(f"champion: version {state['champion']} (verified against the audit trail)")
    else:
        click.echo(f"champion: version {state['champion']} UNVERIFIED")
        for problem in state["problems"]:
            click.echo(f"  - {problem}")
    if audit:
        click.echo(f"\naudit trail (experiment {model}-governance):")
        click.echo(pd.DataFrame(trail_rows(trail)).to_string(index=False) if trail else "(empty)")
