"""Finishing what a dead process left half-done, by the next command that looks (`run`, `status`, `review`,
`promote`, `rollback`), which says what it did:

- a review whose audit record was written but whose approval tags were not (all) written is rolled
  forward: the tags the record names are set. Only when each tag still holds either its value before
  that review or the value the review wrote: a tag changed to something else since (in the MLflow UI)
  is left for the promotion rules to judge;
- a version registered by a process that died (or failed) before its registration record was written
  is marked abandoned: an `abandon` record, and the tag `registration.status=abandoned`. It has no
  model card and no recorded evidence, so it is never reviewed or promoted; run the pipeline again.
  A version without a registration record whose run FINISHED lost its record some other way (a
  deleted trail): that is for `creditflow audit rebuild`, not abandoned here.
- a promotion or rollback whose intent was recorded but not its outcome is finished: forward (the outcome
  recorded, `previous` as the move sets it) when `champion` is on the intent's target and that version still
  holds the evidence and approval the intent recorded; otherwise back (`champion` and `previous` where the
  intent says they were, and a `noop` outcome recorded).
Runs left RUNNING by a dead process are closed KILLED by `Tracker.close_dead_runs`.
"""

from __future__ import annotations

import logging
from dataclasses import replace

import click

from pipelines.core import tags
from pipelines.core.actor import current_user
from pipelines.core.clock import now_iso
from pipelines.core.records import AuditRecord, VersionInfo, approval_values
from pipelines.core.tags import APPROVAL_TAGS
from pipelines.core.trail import Trail
from pipelines.governance.local.audit_trail import load_trail, record
from pipelines.governance.rules.promotion import (
    EVIDENCE_TAG,
    abandoned,
    approval_fingerprint,
    evidence_digest,
    pending_move,
    registered_evidence,
)
from pipelines.owner import describe, owner_is_dead
from pipelines.tracking import Tracker

log = logging.getLogger("creditflow")
PENDING = {tags.APPROVAL_STATUS: "pending"}


def settled_trail(tracker: Tracker, model: str) -> Trail:
    """The model's trail after finishing what dead processes left (taking the lock only if there is any)."""
    trail = load_trail(tracker, model)
    if not trail.trusted:
        return trail
    versions = tracker.model_versions(model) if tracker.model_exists(model) else []
    unfinished = any(_unfinished_review(v, trail) or _dead_registration(tracker, v, trail) for v in versions)
    if not unfinished and pending_move(trail.records) is None:
        return trail
    with tracker.registry_lock(model):
        trail = load_trail(tracker, model)
        for version in tracker.model_versions(model):
            _roll_forward(tracker, version, trail)
            _abandon(tracker, version, trail)
        finish_move(tracker, model, load_trail(tracker, model))
        return load_trail(tracker, model)


_PREVIOUS_NOTE = "aliases before: previous="


def intent_note(aliases: dict[str, str]) -> str:
    """What an intent records about the aliases before its move (champion is its `from_version`)."""
    return f"{_PREVIOUS_NOTE}{aliases.get(tags.PREVIOUS, '')}"


def finish_move(tracker: Tracker, model: str, trail: Trail) -> None:
    """Finish a move whose intent is the trail's last move record (see the module's docstring)."""
    pending = pending_move(trail.records)
    if pending is None:
        return
    aliases, target = tracker.aliases(model), tracker.model_version(model, pending.to_version)
    arrived = aliases.get(tags.CHAMPION) == pending.to_version
    if arrived and (evidence_digest(target), approval_fingerprint(target)) == (pending.evidence, pending.approval):
        previous = pending.from_version if pending.action == "promote" else ""
        _put_alias(tracker, model, tags.PREVIOUS, previous if previous != pending.to_version else "")
        record(tracker, replace(pending, time=now_iso(), outcome="done", reason="finished by the next command"))
        how = f"finished: champion -> version {pending.to_version}"
    else:
        _put_alias(tracker, model, tags.CHAMPION, pending.from_version)
        _put_alias(tracker, model, tags.PREVIOUS, pending.reason.removeprefix(_PREVIOUS_NOTE))
        record(tracker, replace(pending, time=now_iso(), outcome="noop", reason="interrupted: aliases put back"))
        how = f"put back: champion stays on version {pending.from_version or '(none)'}"
    click.echo(f"the {pending.action} of {model} by {pending.actor} was interrupted after its intent; {how}", err=True)


def _put_alias(tracker: Tracker, model: str, alias: str, version: str) -> None:
    if version:
        tracker.set_alias(model, alias, version)
    elif alias in tracker.aliases(model):
        tracker.delete_alias(model, alias)


def _intended(review: AuditRecord) -> dict[str, str] | None:
    """The tags a review recorded it would write (None: its approval field cannot be read, a record set aside
    by `audit rebuild`: nothing is rolled forward from it)."""
    values = approval_values(review.approval)
    if values is None:
        return None
    return {**{k: values.get(k, "") for k in APPROVAL_TAGS}, EVIDENCE_TAG: review.evidence}


def _unfinished_review(version: VersionInfo, trail: Trail) -> dict[str, str] | None:
    """The tags a review recorded but did not (all) write, or None."""
    reviews = [r for r in trail.records if r.action == "review" and r.version == version.version]
    if not reviews or reviews[-1].source == "ui":  # a UI decision recorded when found: its tags came first
        return None
    intended = _intended(reviews[-1])
    if intended is None:
        return None
    current = {k: version.tags.get(k, "") for k in intended}
    if current == intended:
        return None
    before = _intended(reviews[-2]) if len(reviews) > 1 else {k: PENDING.get(k, "") for k in intended}
    if before is not None and all(current[k] in (before[k], intended[k]) for k in intended):
        return intended
    return None  # changed to something else since: the promotion rules judge it


def _roll_forward(tracker: Tracker, version: VersionInfo, trail: Trail) -> None:
    intended = _unfinished_review(version, trail)
    if intended is None:
        return
    tracker.set_version_tags(version.name, version.version, intended)
    click.echo(
        f"rolled forward: the review of {version.name} version {version.version} by "
        f"{intended[tags.APPROVAL_REVIEWER]} was recorded but its tags were not all written; they are now",
        err=True,
    )


def _dead_registration(tracker: Tracker, version: VersionInfo, trail: Trail) -> str | None:
    """Why `version`'s registration is dead (its process died or failed before recording it), or None."""
    if version.tags.get(tags.REGISTRATION_STATUS) == tags.ABANDONED or abandoned(trail.records, version.version):
        return None
    if registered_evidence(trail.records, version.version) is not None or not version.run_id:
        return None
    state = tracker.run_state(version.run_id)
    if state is None:
        return None
    status, owner = state
    if status == "RUNNING" and owner_is_dead(owner):
        return f"its run {version.run_id} was left RUNNING by {describe(owner)}, which is gone"
    if status in ("FAILED", "KILLED"):
        return f"its run {version.run_id} ended {status} before the registration was recorded"
    return None  # still running, or FINISHED and the record lost otherwise (audit rebuild)


def _abandon(tracker: Tracker, version: VersionInfo, trail: Trail) -> None:
    why = _dead_registration(tracker, version, trail)
    if why is None:
        return
    if version.run_id:
        tracker.end_if_running(version.run_id, "KILLED")
    record(
        tracker,
        AuditRecord("abandon", version.name, version.version, current_user(), now_iso(), "done", reason=why),
    )
    tracker.set_version_tags(version.name, version.version, {tags.REGISTRATION_STATUS: tags.ABANDONED})
    click.echo(f"marked {version.name} version {version.version} abandoned: {why}; run the pipeline again", err=True)
