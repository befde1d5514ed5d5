"""`review`, `promote` and `rollback` against a creditflow team server: the server decides and records.

The client checks what it can tell in advance (bad input: exit 2) and then asks; the server's gate applies the
rules to the authenticated user, under the model's lock, and writes the audit row. A refusal comes back as a
403 with the reasons: exit 1, each reason on its own line, as in local mode.
"""

from __future__ import annotations

import click

from features.errors import CreditflowError, Refused
from pipelines import tags
from pipelines.gates.promotion import files_problems, review_problems
from pipelines.governance.audit import load_trail
from pipelines.tracking import Tracker
from pipelines.tracking.model_files import model_files_check


def review(tracker: Tracker, model: str, version: str, approve: bool, comment: str, new: bool) -> None:
    """Approve or reject as the authenticated user (the caller has checked `--reviewer` against it, the one
    identity rule of governance/actions.py): the server records the reviewer, the time and the evidence."""
    session = tracker.team
    assert session is not None
    found = tracker.model_version(model, version)
    problems = review_problems(found, approve, session.user, comment, new, load_trail(tracker, model).records)
    if problems:
        raise CreditflowError("; ".join(problems))
    decision = "approved" if approve else "rejected"
    refusals(lambda: tracker.set_version_tags(model, version, {tags.APPROVAL_COMMENT: comment}))
    refusals(lambda: tracker.set_version_tags(model, version, {tags.APPROVAL_STATUS: decision}))
    click.echo(f"{model} version {found.version}: approval.status={decision} by {session.user} (server-recorded)")


def promote(tracker: Tracker, model: str, version: str) -> None:
    """Ask the server to move `champion`; first, the model files as this client finds them must still hash to
    the version's `lineage.model_sha256` (the server freezes them, so a difference means the artifact store
    was changed behind the server)."""
    session = tracker.team
    assert session is not None
    target = tracker.model_version(model, version)  # unknown model or version: exit 2
    changed = files_problems(target, model_files_check(tracker, target.source))
    if changed:
        for reason in changed:
            click.echo(f"unmet: {reason}")
        raise Refused(f"promotion of {model} version {target.version} refused: its model files cannot be trusted")
    click.echo(refusals(lambda: session.promote(model, version)))


def rollback(tracker: Tracker, model: str, reason: str) -> None:
    session = tracker.team
    assert session is not None
    click.echo(refusals(lambda: session.rollback(model, reason)))


def refusals(call):
    """Run a request; a refusal prints each unmet condition and exits 1, as a local refusal does."""
    try:
        return call()
    except Refused as exc:
        head, _, reasons = str(exc).partition(" refused: ")
        for reason in reasons.split("; ") if reasons else []:
            click.echo(f"unmet: {reason}")
        raise Refused(f"{head} refused by the team server" if reasons else str(exc)) from None
