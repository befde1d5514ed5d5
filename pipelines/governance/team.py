"""`review`, `promote` and `rollback` against a creditflow team server: the server decides and records.

The client checks what it can tell in advance (bad input: exit 2) and then asks; the server's gate applies the
rules to the authenticated user, under the model's lock, and writes the audit row. A refusal comes back as a
403 with the reasons: exit 1, each reason on its own line, as in local mode.
"""

from __future__ import annotations

import click

from features.errors import CreditflowError, Refused
from pipelines import tags
from pipelines.gates.promotion import review_problems
from pipelines.tracking import Tracker


def review(tracker: Tracker, model: str, version: str, approve: bool, reviewer: str, comment: str, new: bool) -> None:
    """Approve or reject as the authenticated user: the server records the reviewer, the time and the evidence."""
    session = tracker.team
    assert session is not None
    if reviewer.strip().casefold() != session.user.casefold():
        raise CreditflowError(
            f"--reviewer {reviewer.strip()!r} is not the authenticated user {session.user!r}: "
            "on a team server the reviewer is the user who logs in"
        )
    found = tracker.model_version(model, version)
    problems = review_problems(found, approve, session.user, comment, new)
    if problems:
        raise CreditflowError("; ".join(problems))
    decision = "approved" if approve else "rejected"
    _refusals(lambda: tracker.set_version_tags(model, version, {tags.APPROVAL_COMMENT: comment}))
    _refusals(lambda: tracker.set_version_tags(model, version, {tags.APPROVAL_STATUS: decision}))
    click.echo(f"{model} version {found.version}: approval.status={decision} by {session.user} (server-recorded)")


def promote(tracker: Tracker, model: str, version: str) -> None:
    session = tracker.team
    assert session is not None
    tracker.model_version(model, version)  # unknown model or version: exit 2
    click.echo(_refusals(lambda: session.promote(model, version)))


def rollback(tracker: Tracker, model: str, reason: str) -> None:
    session = tracker.team
    assert session is not None
    click.echo(_refusals(lambda: session.rollback(model, reason)))


def _refusals(call):
    """Run a request; a refusal prints each unmet condition and exits 1, as a local refusal does."""
    try:
        return call()
    except Refused as exc:
        head, _, reasons = str(exc).partition(" refused: ")
        for reason in reasons.split("; ") if reasons else []:
            click.echo(f"unmet: {reason}")
        raise Refused(f"{head} refused by the team server" if reasons else str(exc)) from None
