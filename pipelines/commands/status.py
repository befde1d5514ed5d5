"""`creditflow status`: versions, gates, exceptions, approvals, aliases, monitoring, model hashes; whether the
champion is verified and the audit trail intact (exit 1 when the trail is untrusted, naming its first bad record;
with --check also when the champion is unverified or past an exception).

It also finishes what dead processes left: runs left RUNNING are closed, a review recorded without its
tags is rolled forward, a registration without its record is marked abandoned, and an approval made in the
MLflow UI is recorded (each said so)."""

from __future__ import annotations

import json
from typing import Any

import click
import pandas as pd

from features.errors import Refused
from pipelines.commands.options import tracking_option
from pipelines.core.clock import today
from pipelines.core.records import VersionInfo
from pipelines.core.tags import CHAMPION
from pipelines.core.trail import Trail
from pipelines.governance.evidence_check import half_written_approval
from pipelines.governance.policy_check import version_policy_problems
from pipelines.governance.status import AuditLog, champion_state, exception_list, registration_state, version_rows
from pipelines.governance.store import open_store
from pipelines.tracking.model_files import model_files_check


@click.command("status")
@click.argument("model")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.option("--audit", is_flag=True, help="Also print the governance audit trail.")
@click.option("--check", is_flag=True, help="Exit 1 when the champion is unverified or its exception has expired.")
@tracking_option
def status_command(model: str, as_json: bool, audit: bool, check: bool, tracking_uri: str | None) -> None:
    """Versions of MODEL: gates, exceptions, approval, aliases, monitoring; whether the champion is verified."""
    show_status(model, tracking_uri=tracking_uri, as_json=as_json, audit=audit, check=check)


def show_status(model: str, *, tracking_uri: str | None, as_json: bool, audit: bool, check: bool = False) -> None:
    store = open_store(tracking_uri)
    tracker = store.tracker
    tracker.model_versions(model)  # unknown model: exit 2 before anything is written
    # a team server closes runs whose client's heartbeat stopped itself; nobody else may close another's run there
    for run_id in [] if store.validated_by_server else tracker.close_dead_runs_of([model, f"{model}-monitoring"]):
        click.echo(f"closed run {run_id}: left RUNNING by a process that is gone", err=True)
    trail = store.settled_trail(model)
    recorded = store.record_ui_decisions(model, tracker.model_versions(model)) if trail.trusted else []
    if recorded:
        trail = store.settled_trail(model)
    versions = tracker.model_versions(model)
    champion = next((v for v in versions if CHAMPION in v.aliases), None)
    files = model_files_check(tracker, champion.source) if champion else None
    state = champion_state(versions, trail.records, today(), files=files)
    if not trail.trusted and state["verified"]:  # verified against records that cannot be trusted: not verified
        state = {**state, "verified": False, "problems": [f"the audit trail is untrusted: {trail.problems[0]}"]}
    exceptions = exception_list(versions, trail.records, today())
    trail_state = {"trusted": trail.trusted, "records": len(trail.records), "problems": trail.problems}
    log = store.audit_log(model) if audit else None
    policies = store.policies()
    policy = [problem for v in versions for problem in version_policy_problems(policies, v)]
    half = [p for v in versions for p in half_written_approval(v, trail.records)] if store.validated_by_server else []
    if as_json:
        payload = {"model": model, **state, "trail": trail_state, "versions": version_rows(versions, trail.records)}
        payload.update(exceptions=exceptions, recorded=recorded, policy_problems=policy, half_written=half)
        if log is not None:
            payload["audit"] = log.rows
            if log.chain_problems is not None:
                payload["audit_chain_problems"] = log.chain_problems
        click.echo(json.dumps(payload, indent=2))
    else:
        _print_text(model, versions, trail, state, exceptions, recorded)
        for problem in policy:
            click.echo(f"POLICY NOT CURRENT: {problem}")
        for problem in half:
            click.echo(f"HALF-WRITTEN DECISION: {problem}")
        if log is not None:
            _print_log(log)
    if not trail.trusted:
        raise trail.refusal()
    if check and not (state["verified"] and not state["expired"]):
        raise Refused(f"{model}: the champion is {'unverified' if not state['verified'] else 'past an exception'}")


def _print_log(log: AuditLog) -> None:
    click.echo(f"\n{log.title}:")
    click.echo(pd.DataFrame(log.rows).fillna("").to_string(index=False) if log.rows else "(empty)")
    for problem in log.chain_problems or []:
        click.echo(f"  - {problem}")


def _print_text(
    model: str,
    versions: list[VersionInfo],
    trail: Trail,
    state: dict[str, Any],
    exceptions: list[dict[str, str]],
    recorded: list[str],
) -> None:
    for line in recorded:
        click.echo(line)
    click.echo(pd.DataFrame(version_rows(versions, trail.records)).to_string(index=False))
    for version in versions:
        if registration_state(version, trail.records) == "unrecorded":
            click.echo(
                f"version {version.version}: no registration record in the audit trail "
                f"(creditflow audit rebuild {model} re-establishes it if its run and files still match)"
            )
    if exceptions:
        click.echo("\nexceptions:")
        for e in exceptions:
            click.echo(
                f"  version {e['version']} validation.{e['gate']}: granted by {e['granted_by']}, valid through "
                f"{e['expires']}{' (EXPIRED)' if e['expired'] == 'yes' else ''}: {e['justification']}"
            )
    _print_champion(state)
    if trail.trusted:
        click.echo(f"audit trail: {len(trail.records)} records, hash chain intact")
    else:
        click.echo("audit trail UNTRUSTED:")
        for problem in trail.problems:
            click.echo(f"  - {problem}")


def _print_champion(state: dict) -> None:
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
