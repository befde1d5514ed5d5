"""`creditflow status`: versions, gates, exceptions, approvals, aliases, monitoring; is the champion verified."""

from __future__ import annotations

import json

import click
import pandas as pd

from features.errors import Refused
from pipelines.commands.options import tracking_option
from pipelines.governance.audit import read_trail, today
from pipelines.governance.status import champion_state, exception_list, trail_rows, version_rows
from pipelines.governance.ui_approvals import record_ui_decisions
from pipelines.tracking import connect


@click.command("status")
@click.argument("model")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.option("--audit", is_flag=True, help="Also print the governance audit trail.")
@click.option("--check", is_flag=True, help="Exit 1 when the champion is unverified or its exception has expired.")
@tracking_option
def status_command(model, as_json, audit, check, tracking_uri) -> None:
    """Versions of MODEL: gates, exceptions, approval, aliases, monitoring; whether the champion is verified."""
    show_status(model, tracking_uri, as_json, audit, check)


def show_status(model: str, tracking_uri: str | None, as_json: bool, audit: bool, check: bool = False) -> None:
    tracker = connect(tracking_uri)
    recorded = record_ui_decisions(tracker, model, tracker.model_versions(model))
    versions, trail = tracker.model_versions(model), read_trail(tracker, model)
    state = champion_state(versions, trail, today())
    exceptions = exception_list(versions, trail, today())
    if as_json:
        payload = {"model": model, **state, "versions": version_rows(versions, trail), "exceptions": exceptions}
        payload["recorded"] = recorded
        if audit:
            payload["audit"] = trail_rows(trail)
        click.echo(json.dumps(payload, indent=2))
    else:
        _print(model, state, versions, trail, exceptions, recorded, audit)
    if check and not (state["verified"] and not state["expired"]):
        raise Refused(f"{model}: the champion is {'unverified' if not state['verified'] else 'past an exception'}")


def _print(model, state, versions, trail, exceptions, recorded, audit: bool) -> None:
    for line in recorded:
        click.echo(line)
    click.echo(pd.DataFrame(version_rows(versions, trail)).to_string(index=False))
    if exceptions:
        click.echo("\nexceptions:")
        for e in exceptions:
            click.echo(
                f"  version {e['version']} validation.{e['gate']}: granted by {e['granted_by']}, valid through "
                f"{e['expires']}{' (EXPIRED)' if e['expired'] == 'yes' else ''}: {e['justification']}"
            )
    if state["champion"] is None:
        click.echo("champion: none")
    elif state["verified"]:
        click.echo(f"champion: version {state['champion']} (verified against the audit trail)")
    else:
        click.echo(f"champion: version {state['champion']} UNVERIFIED")
        for problem in state["problems"]:
            click.echo(f"  - {problem}")
    for line in state["expired"]:
        click.echo(f"  - champion {line}")
    if audit:
        click.echo(f"\naudit trail (experiment {model}-governance):")
        click.echo(pd.DataFrame(trail_rows(trail)).to_string(index=False) if trail else "(empty)")
