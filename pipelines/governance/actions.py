"""`review`, `promote` and `rollback`: one path each, through the governance store (pipelines/governance/store.py),
whichever backend keeps the model. Why `champion` never points at a version that fails the rules is the backends'
to say: pipelines/governance/local/actions.py on a workbench, the team server's gate in team mode."""

from __future__ import annotations

import click

from features.errors import CreditflowError
from pipelines.core.free_text import shown, text_problem
from pipelines.governance.policy_check import version_policy_problems
from pipelines.governance.rules.identity import same_person
from pipelines.governance.store import GovernanceStore, open_store

__all__ = ["promote", "review", "rollback"]


def review(
    model: str,
    version: str,
    *,
    approve: bool,
    reviewer: str | None,
    comment: str,
    new_review: bool,
    tracking_uri: str | None,
) -> None:
    """Record the acting user's approval or rejection. One identity rule: the acting user is the store's;
    `--reviewer`, when given, must be that user."""
    store = open_store(tracking_uri)
    actor = store.acting_user()
    if reviewer is not None and not same_person(reviewer, actor):
        raise CreditflowError(
            f"--reviewer {shown(reviewer)} is not the acting user {actor!r} ({store.identity_rule()}): "
            "a review is recorded for whoever runs it"
        )
    _warn_policy(store, model, version)
    store.review(model, version, approve=approve, comment=comment, new_review=new_review)


def promote(model: str, version: str, *, tracking_uri: str | None) -> None:
    """Move `champion` to VERSION if it meets every rule; otherwise the refusal is recorded and exit 1. A version
    judged under a policy that is not the governed one is said loudly (a team server refuses it)."""
    store = open_store(tracking_uri)
    _warn_policy(store, model, version)
    store.promote(model, version)


def _warn_policy(store: GovernanceStore, model: str, version: str) -> None:
    found = store.tracker.model_version(model, version)  # unknown model or version: exit 2
    for problem in version_policy_problems(store.policies(), found):
        click.echo(f"WARNING: {model} {problem}", err=True)


def rollback(model: str, reason: str, *, tracking_uri: str | None) -> None:
    """Put `champion` back on `previous` (which must still meet every rule) and drop `previous`."""
    if not reason.strip():
        raise CreditflowError("--reason must say why")
    problem = text_problem("--reason", reason)
    if problem:
        raise CreditflowError(problem)
    open_store(tracking_uri).rollback(model, reason)
