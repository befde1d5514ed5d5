"""`review`, `promote` and `rollback` on a workbench's store: read the registry, apply
pipelines/governance/rules/promotion.py, write, record.

Why `champion` never points at a version that fails the rules, even with two promotions at once:
1. Every creditflow command that changes a model's approval or aliases holds that model's registry
   lock (`Tracker.registry_lock`: a registered model `<name>.lock`, whose creation is atomic in any
   tracking store). Two promotions, or a promotion and a review, therefore run one after the other;
   each re-reads the version, the aliases and the trail inside the lock, so none acts on a stale view.
2. Inside the lock, the trail must verify (its hash chain, pipelines/governance/rules/chain.py), the model files
   must hash to the registered `lineage.model_sha256`, and the rules are checked before any alias moves;
   `previous` is set before `champion`: a crash at any point leaves `champion` on a version that passed.
3. After the move the version is read again; if someone changed it meanwhile around creditflow
   (the MLflow UI takes no lock), the aliases are put back and the promotion is refused.
4. Edits made in the UI later (an alias, a gate, an approval tag) cannot be prevented by MLflow;
   `score` and `status` verify the champion against the trail (`governance.champion_problems`) and
   refuse or flag it. On a creditflow team server they are prevented: its gate applies the same rules to
   the authenticated user before any change, and these commands ask the server (governance/remote/).
A move is recorded twice: its intent (every rule checked, nothing moved yet: outcome `intent`, naming the aliases
before it), then the move itself once the aliases moved. A process killed between the two leaves an intent that the
next command finishes (pipelines/governance/local/recovery.py): forward when `champion` already moved to a target
that still holds the evidence and approval of the intent, back to the aliases before it otherwise. Until then the
intent counts as the champion's recorded move only when `champion` is on its target, so whatever write the kill
interrupted, `champion` is the old verified version or the new verified one.
A review's entry is written before its tags: a crash in between is rolled forward by the next command
(pipelines/governance/local/recovery.py), so the tags never claim a review the trail does not hold.
"""

from __future__ import annotations

import logging

import click

from features.errors import CreditflowError, Refused
from features.policy import ExceptionTerms
from pipelines.core import tags
from pipelines.core.clock import now_iso, today
from pipelines.core.decisions import APPROVED, REJECTED
from pipelines.core.records import AuditRecord, FilesCheck, VersionInfo
from pipelines.core.tags import CHAMPION, PREVIOUS
from pipelines.core.trail import Trail
from pipelines.governance.card import refresh_card
from pipelines.governance.local.audit_trail import read_trail, record
from pipelines.governance.local.recovery import intent_note, settled_trail
from pipelines.governance.local.ui_approvals import record_ui_decisions
from pipelines.governance.rules.exceptions import EXCEPTION, ExceptionRequest, exception_values
from pipelines.governance.rules.promotion import (
    EVIDENCE_TAG,
    INTENT,
    approval_fingerprint,
    approval_fingerprint_of,
    champion_problems,
    evidence_digest,
    review_problems,
    unmet_conditions,
)
from pipelines.governance.stored_policy import stored_policy
from pipelines.tracking import Tracker, UnknownModelError
from pipelines.tracking.model_files import model_files_check

log = logging.getLogger("creditflow")


def review(
    tracker: Tracker, model: str, version: str, *, approve: bool, actor: str, comment: str, new_review: bool
) -> None:
    """Record `actor`'s approval or rejection: the audit record first, then the approval.* tags, then the model card."""
    tracker.model_version(model, version)  # unknown model or version: exit 2 before locking
    decision = APPROVED if approve else REJECTED
    with tracker.registry_lock(model):
        trail = _trusted(tracker, model)
        found = tracker.model_version(model, version)
        problems = review_problems(
            found, trail.records, approve=approve, reviewer=actor, comment=comment, new_review=new_review
        )
        if problems:
            raise CreditflowError("; ".join(problems))
        digest, when = evidence_digest(found), now_iso()
        intended = {
            tags.APPROVAL_STATUS: decision,
            tags.APPROVAL_REVIEWER: actor,
            tags.APPROVAL_COMMENT: comment,
            tags.APPROVAL_TIME: when,
        }
        entry = AuditRecord(
            "review", model, found.version, actor, when, "done", reason=f"{decision}: {comment}", evidence=digest
        )
        record(tracker, _with_approval(entry, approval_fingerprint_of(intended)))
        tracker.set_version_tags(model, version, {**intended, EVIDENCE_TAG: digest})
    refresh_card(tracker, found, read_trail(tracker, model))
    click.echo(f"{model} version {found.version}: approval.status={decision} by {actor}")


def _with_approval(entry: AuditRecord, approval: str) -> AuditRecord:
    return AuditRecord(**{**entry.__dict__, "approval": approval})


def _trusted(tracker: Tracker, model: str) -> Trail:
    """The settled trail, or exit 1 naming its first bad record (nothing is recorded on an untrusted trail)."""
    trail = settled_trail(tracker, model)
    if not trail.trusted:
        for problem in trail.problems:
            click.echo(f"untrusted: {problem}")
        raise trail.refusal()
    return trail


def promote(tracker: Tracker, model: str, version: str, *, actor: str) -> None:
    """Move `champion` to VERSION if it meets every rule; otherwise record the refusal and exit 1."""
    for line in record_ui_decisions(tracker, model, [tracker.model_version(model, version)]):  # exit 2 if unknown
        click.echo(line)
    with tracker.registry_lock(model):
        trail = _trusted(tracker, model).records
        target = tracker.model_version(model, version)
        files = model_files_check(tracker, target.source)
        before = tracker.aliases(model)
        old = before.get(CHAMPION)
        if old == target.version and not champion_problems(target, trail, files=files):
            click.echo(f"{model} version {target.version} is already champion: nothing to do")
            return
        _refuse_if_unmet(tracker, target, trail, actor, old, files)
        record(tracker, _move_record("promote", target, actor, old, intent_note(before), outcome=INTENT))
        _move(tracker, model, target.version, old)
        after = tracker.model_version(model, version)
        if evidence_digest(after) != evidence_digest(target) or approval_fingerprint(after) != approval_fingerprint(
            target
        ):
            _restore(tracker, model, before)
            _refuse(tracker, target, actor, old, ["the version changed during the promotion"])
        record(tracker, _move_record("promote", target, actor, old))
    click.echo(f"{model}: champion -> version {target.version}" + (f" (previous: version {old})" if old else ""))


def rollback(tracker: Tracker, model: str, reason: str, *, actor: str) -> None:
    """Put `champion` back on `previous` (which must still meet every rule) and drop `previous`."""
    with tracker.registry_lock(model):
        trail = _trusted(tracker, model).records
        aliases = tracker.aliases(model)
        if PREVIOUS not in aliases:
            raise UnknownModelError(f"model {model!r} has no alias 'previous': nothing to roll back to")
        target = tracker.model_version(model, aliases[PREVIOUS])
        old = aliases.get(CHAMPION)
        files = model_files_check(tracker, target.source)
        _refuse_if_unmet(tracker, target, trail, actor, old, files, action="rollback")
        record(tracker, _move_record("rollback", target, actor, old, intent_note(aliases), outcome=INTENT))
        tracker.set_alias(model, CHAMPION, target.version)
        tracker.delete_alias(model, PREVIOUS)  # a second rollback must not flip back to the withdrawn version
        record(tracker, _move_record("rollback", target, actor, old, reason))
    click.echo(f"{model}: champion -> version {target.version} (rolled back from version {old}): {reason}")


def _move_record(
    action: str, target: VersionInfo, actor: str, old: str | None, reason: str = "", *, outcome: str = "done"
) -> AuditRecord:
    return AuditRecord(
        action,
        target.name,
        target.version,
        actor,
        now_iso(),
        outcome,
        reason=reason,
        evidence=evidence_digest(target),
        approval=approval_fingerprint(target),
        from_version=old or "",
        to_version=target.version,
    )


def _refuse_if_unmet(
    tracker: Tracker,
    target: VersionInfo,
    trail: list[AuditRecord],
    actor: str,
    old: str | None,
    files: FilesCheck,
    action: str = "promote",
) -> None:
    unmet = unmet_conditions(target, trail, files=files, today=today(), terms=_terms(tracker, target))
    if unmet:
        _refuse(tracker, target, actor, old, unmet, action)


def _terms(tracker: Tracker, target: VersionInfo) -> ExceptionTerms:
    """The exception terms of the policy the version was judged under (the defaults for a version stored without
    one), against which promotion judges every recorded exception again."""
    governing = stored_policy(tracker, target)
    return governing.policy.exceptions if governing else ExceptionTerms()


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


def grant(tracker: Tracker, found: VersionInfo, request: ExceptionRequest) -> None:
    """An accepted exception: the exception.<gate>.* tags, then an `exception` record of the trail bound to the
    evidence digest, then the review page's row. The caller holds the model's lock and has checked the request
    (pipelines/governance/grant.py)."""
    when, digest = now_iso(), evidence_digest(found)
    tracker.set_version_tags(found.name, found.version, exception_values(request, when, digest))
    entry = AuditRecord(
        EXCEPTION, found.name, found.version, request.granted_by, when, "done",
        reason=request.justification.strip(), evidence=digest, gate=request.gate, expires=request.expires,
    )  # fmt: skip
    record(tracker, entry)
    refresh_card(tracker, found, read_trail(tracker, found.name))
    click.echo(
        f"{found.name} version {found.version}: exception to {tags.VALIDATION_PREFIX}{request.gate} accepted by "
        f"{request.granted_by}, valid through {request.expires}; promotion still needs an approval given after it"
    )
