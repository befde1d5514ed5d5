"""`review`, `promote` and `rollback`: read the registry, apply pipelines/governance.py, write, record.

Why `champion` never points at a version that fails the rules, even with two promotions at once:
1. Every creditflow command that changes a model's approval or aliases holds that model's registry
   lock (`Tracker.registry_lock`: a registered model `<name>.lock`, whose creation is atomic in any
   tracking store). Two promotions, or a promotion and a review, therefore run one after the other;
   each re-reads the version, the aliases and the trail inside the lock, so none acts on a stale view.
2. Inside the lock, the rules are checked before any alias moves, and `previous` is set before
   `champion`: a crash at any point leaves `champion` on a version that passed.
3. After the move the version is read again; if someone changed it meanwhile around creditflow
   (the MLflow UI takes no lock), the aliases are put back and the promotion is refused.
4. Edits made in the UI later (an alias, a gate, an approval tag) cannot be prevented by MLflow;
   `score` and `status` verify the champion against the trail (`governance.champion_problems`) and
   refuse or flag it. On a creditflow team server they are prevented: its gate applies the same rules to
   the authenticated user before any change, and these commands ask the server (governance/team.py).
The audit entry is written after the move, so the trail never claims a move that did not happen.
"""

from __future__ import annotations

import logging

import click

from features.errors import CreditflowError, Refused
from pipelines import tags
from pipelines.gates.promotion import (
    EVIDENCE_TAG,
    AuditRecord,
    approval_fingerprint,
    champion_problems,
    evidence_digest,
    review_problems,
    unmet_conditions,
)
from pipelines.governance import team
from pipelines.governance.audit import current_user, now_iso, read_trail, record
from pipelines.tags import CHAMPION, PREVIOUS
from pipelines.tracking import Tracker, UnknownModelError, VersionInfo, connect

log = logging.getLogger("creditflow")


def review(
    model: str, version: str, approve: bool, reviewer: str, comment: str, new_review: bool, tracking_uri: str | None
) -> None:
    """Record an approval or rejection in the approval.* tags, the audit trail and the model card."""
    tracker = connect(tracking_uri)
    if tracker.team is not None:
        return team.review(tracker, model, version, approve, reviewer, comment, new_review)
    tracker.model_version(model, version)  # unknown model or version: exit 2 before locking
    decision = "approved" if approve else "rejected"
    with tracker.registry_lock(model):
        found = tracker.model_version(model, version)
        problems = review_problems(found, approve, reviewer, comment, new_review)
        if problems:
            raise CreditflowError("; ".join(problems))
        digest, when = evidence_digest(found), now_iso()
        tracker.set_version_tags(
            model,
            version,
            {
                tags.APPROVAL_STATUS: decision,
                tags.APPROVAL_REVIEWER: reviewer.strip(),
                tags.APPROVAL_COMMENT: comment,
                tags.APPROVAL_TIME: when,
                EVIDENCE_TAG: digest,
            },
        )
        record(
            tracker,
            AuditRecord(
                "review",
                model,
                found.version,
                reviewer.strip(),
                when,
                "done",
                reason=f"{decision}: {comment}",
                evidence=digest,
                approval=approval_fingerprint(tracker.model_version(model, version)),
            ),
        )
    _update_card(tracker, found)
    click.echo(f"{model} version {found.version}: approval.status={decision} by {reviewer.strip()}")


def promote(model: str, version: str, tracking_uri: str | None) -> None:
    """Move `champion` to VERSION if it meets every rule; otherwise record the refusal and exit 1."""
    tracker = connect(tracking_uri)
    if tracker.team is not None:
        return team.promote(tracker, model, version)
    tracker.model_version(model, version)  # unknown model or version: exit 2 before locking
    actor = current_user()
    with tracker.registry_lock(model):
        target, trail = tracker.model_version(model, version), read_trail(tracker, model)
        before = tracker.aliases(model)
        old = before.get(CHAMPION)
        if old == target.version and not champion_problems(target, trail):
            click.echo(f"{model} version {target.version} is already champion: nothing to do")
            return
        _refuse_if_unmet(tracker, target, trail, actor, old)
        _move(tracker, model, target.version, old)
        after = tracker.model_version(model, version)
        if evidence_digest(after) != evidence_digest(target) or approval_fingerprint(after) != approval_fingerprint(
            target
        ):
            _restore(tracker, model, before)
            _refuse(tracker, target, actor, old, ["the version changed during the promotion"])
        record(
            tracker,
            AuditRecord(
                "promote",
                model,
                target.version,
                actor,
                now_iso(),
                "done",
                evidence=evidence_digest(target),
                approval=approval_fingerprint(target),
                from_version=old or "",
                to_version=target.version,
            ),
        )
    click.echo(f"{model}: champion -> version {target.version}" + (f" (previous: version {old})" if old else ""))


def rollback(model: str, reason: str, tracking_uri: str | None) -> None:
    """Put `champion` back on `previous` (which must still meet every rule) and drop `previous`."""
    if not reason.strip():
        raise CreditflowError("--reason must say why")
    tracker = connect(tracking_uri)
    if tracker.team is not None:
        return team.rollback(tracker, model, reason)
    actor = current_user()
    with tracker.registry_lock(model):
        aliases = tracker.aliases(model)
        if PREVIOUS not in aliases:
            raise UnknownModelError(f"model {model!r} has no alias 'previous': nothing to roll back to")
        target, trail = tracker.model_version(model, aliases[PREVIOUS]), read_trail(tracker, model)
        old = aliases.get(CHAMPION)
        _refuse_if_unmet(tracker, target, trail, actor, old, action="rollback")
        tracker.set_alias(model, CHAMPION, target.version)
        tracker.delete_alias(model, PREVIOUS)  # a second rollback must not flip back to the withdrawn version
        record(
            tracker,
            AuditRecord(
                "rollback",
                model,
                target.version,
                actor,
                now_iso(),
                "done",
                reason=reason,
                evidence=evidence_digest(target),
                approval=approval_fingerprint(target),
                from_version=old or "",
                to_version=target.version,
            ),
        )
    click.echo(f"{model}: champion -> version {target.version} (rolled back from version {old}): {reason}")


def _refuse_if_unmet(
    tracker: Tracker, target: VersionInfo, trail, actor: str, old: str | None, action: str = "promote"
) -> None:
    unmet = unmet_conditions(target, trail)
    if unmet:
        _refuse(tracker, target, actor, old, unmet, action)


def _refuse(
    tracker: Tracker, target: VersionInfo, actor: str, old: str | None, unmet: list[str], action: str = "promote"
) -> None:
    record(
        tracker,
        AuditRecord(
            "refuse",
            target.name,
            target.version,
            actor,
            now_iso(),
            "refused",
            reason=f"{action}: " + "; ".join(unmet),
            evidence=evidence_digest(target),
            approval=approval_fingerprint(target),
            from_version=old or "",
        ),
    )
    for condition in unmet:
        click.echo(f"unmet: {condition}")
    raise Refused(f"{action} of {target.name} version {target.version} refused: {len(unmet)} unmet condition(s)")


def _move(tracker: Tracker, model: str, version: str, old: str | None) -> None:
    if old and old != version:
        tracker.set_alias(model, PREVIOUS, old)  # before champion: a crash leaves champion where it was
    tracker.set_alias(model, CHAMPION, version)


def _restore(tracker: Tracker, model: str, before: dict[str, str]) -> None:
    """Put `champion` and `previous` back where they were before the move."""
    for alias in (CHAMPION, PREVIOUS):
        if alias in before:
            tracker.set_alias(model, alias, before[alias])
        elif alias in tracker.aliases(model):
            tracker.delete_alias(model, alias)


def _update_card(tracker: Tracker, version: VersionInfo) -> None:
    """Re-log the version's model card with every review of it in the approvals section."""
    from pipelines.reports.model_card import with_approvals  # imports the evaluation stack: only `review` pays for it

    if not version.run_id:
        return
    reviews = [r for r in read_trail(tracker, version.name) if r.action == "review" and r.version == version.version]
    for path in ("model_card/model_card.md", "model_card/model_card.html"):
        card = tracker.read_text(version.run_id, path)
        if card is None:
            log.info("no %s on run %s: approvals recorded in tags and the audit trail only", path, version.run_id)
            continue
        tracker.write_text(version.run_id, with_approvals(card, reviews, as_html=path.endswith(".html")), path)
