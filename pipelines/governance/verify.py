"""`creditflow audit verify`: check a model's trail (its hash chain, in whichever store keeps it) and every version's
evidence: its registration record, its tags against its training run, its model files against
`lineage.model_sha256`, its policy digest against the kept versions of its policy, and the champion against the last
recorded move."""

from __future__ import annotations

import click

from features.errors import Refused
from pipelines.core.tags import CHAMPION
from pipelines.governance.evidence_check import half_written_approval, version_files, version_problems
from pipelines.governance.policy_check import unknown_policy_problems
from pipelines.governance.rules.promotion import champion_problems
from pipelines.governance.store import open_store


def verify(model: str, *, tracking_uri: str | None) -> None:
    """Check the chain and every version's evidence (files included); exit 1 naming every problem."""
    store = open_store(tracking_uri)
    tracker = store.tracker
    versions = tracker.model_versions(model)
    trail = store.trail(model)
    problems = list(trail.problems)
    policies = store.policies()
    for version in versions:
        problems += version_problems(tracker, version, trail.records)
        problems += unknown_policy_problems(policies, version)
        if store.validated_by_server:  # the server records who decided; a decision without that is half-written
            problems += half_written_approval(version, trail.records)
        if CHAMPION in version.aliases:
            problems += [
                f"champion: {p}"
                for p in champion_problems(version, trail.records, files=version_files(tracker, version))
            ]
    for problem in problems:
        click.echo(f"problem: {problem}")
    if problems:
        raise Refused(f"audit of {model}: {len(problems)} problem(s); first: {problems[0]}")
    click.echo(
        f"audit of {model}: {len(trail.records)} records, hash chain intact; "
        f"evidence of {len(versions)} version(s) matches"
    )
