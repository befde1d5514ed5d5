"""`creditflow status`: the versions of a model with gates, approval, aliases and monitoring, whether
the champion is verified against the audit trail, and (`--audit`) the trail itself."""

from __future__ import annotations

import json

import click
import pandas as pd

from pipelines.audit import read_trail
from pipelines.governance import CHAMPION, GATES, AuditRecord, champion_problems
from pipelines.governance_commands import connect
from pipelines.tracking import VersionInfo


def version_rows(versions: list[VersionInfo]) -> list[dict[str, str]]:
    """One row per version: what a reviewer or operator looks at first."""
    return [{"version": v.version,
             **{gate.removeprefix("validation."): v.tags.get(gate, "-") for gate in GATES},
             "approval": v.tags.get("approval.status", "-"), "reviewer": v.tags.get("approval.reviewer", "-"),
             "author": v.tags.get("lineage.author", "-"), "aliases": ",".join(v.aliases) or "-",
             "monitoring": v.tags.get("monitoring.status", "-")} for v in versions]


def trail_rows(trail: list[AuditRecord]) -> list[dict[str, str]]:
    return [{"time": r.time, "action": r.action, "outcome": r.outcome, "version": r.version, "actor": r.actor,
             "champion": f"{r.from_version or '-'} -> {r.to_version}" if r.to_version else "",
             "why": r.reason, "evidence": r.evidence[:12], **({"deleted": "DELETED IN UI"} if r.deleted else {})}
            for r in trail]


def champion_state(versions: list[VersionInfo], trail: list[AuditRecord]) -> dict[str, object]:
    champion = next((v for v in versions if CHAMPION in v.aliases), None)
    if champion is None:
        return {"champion": None, "verified": False, "problems": ["no version has alias champion"]}
    problems = champion_problems(champion, trail)
    return {"champion": champion.version, "verified": not problems, "problems": problems}


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
