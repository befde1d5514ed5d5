"""Decisions made in the MLflow UI: an `approval.*` tag set there leaves no review event, no time and a
card that still says pending. `promote` and `status` record one when they meet it (actor = the reviewer
tag, source = ui, time = when it was found, also set as `approval.time` when the UI left it empty), re-log the
card, and say so."""

from __future__ import annotations

from pipelines.core import tags
from pipelines.core.clock import now_iso
from pipelines.core.decisions import DECISIONS
from pipelines.core.free_text import TEXT_LIMIT
from pipelines.core.records import AuditRecord, VersionInfo
from pipelines.governance.card import refresh_card
from pipelines.governance.local import audit_trail as audit
from pipelines.governance.rules.promotion import approval_fingerprint, evidence_digest, same_approval
from pipelines.tracking import Tracker


def unrecorded(versions: list[VersionInfo], trail: list[AuditRecord]) -> list[VersionInfo]:
    """Versions whose approval tags hold a decision that no recorded review made."""
    made = [(r.version, r.approval) for r in trail if r.action == "review" and not r.deleted]
    return [
        v
        for v in versions
        if v.tags.get(tags.APPROVAL_STATUS) in DECISIONS
        and not any(version == v.version and same_approval(approval, v) for version, approval in made)
    ]


def record_ui_decisions(tracker: Tracker, model: str, versions: list[VersionInfo]) -> list[str]:
    """Record a review event for each decision made in the UI; one line per recorded decision.

    Holds the model's lock and re-reads inside it, so two commands never record the same decision twice.
    """
    trail = audit.load_trail(tracker, model)
    if not trail.trusted or not unrecorded(versions, trail.records):  # nothing is recorded on an untrusted trail
        return []
    lines = []
    with tracker.registry_lock(model):
        fresh = [tracker.model_version(model, v.version) for v in versions]
        for version in unrecorded(fresh, audit.read_trail(tracker, model)):
            lines.append(_record(tracker, version))
    return lines


def _record(tracker: Tracker, version: VersionInfo) -> str:
    when = now_iso()
    if not version.tags.get(tags.APPROVAL_TIME, "").strip():  # the UI records no time: the time it was found
        tracker.set_version_tags(version.name, version.version, {tags.APPROVAL_TIME: when})
        version = tracker.model_version(version.name, version.version)
    decision = version.tags[tags.APPROVAL_STATUS]
    reviewer = version.tags.get(tags.APPROVAL_REVIEWER, "").strip() or "unknown"
    comment = version.tags.get(tags.APPROVAL_COMMENT, "")
    audit.record(
        tracker,
        AuditRecord(
            "review",
            version.name,
            version.version,
            reviewer,
            when,
            "done",
            reason=_clipped(f"{decision}: {comment}"),
            evidence=evidence_digest(version),
            approval=approval_fingerprint(version),  # whole: a UI comment too long for it is refused in one line
            source="ui",
        ),
    )
    refresh_card(tracker, version, audit.read_trail(tracker, version.name))
    return (
        f"recorded the {decision} decision by {reviewer} on version {version.version}, made in the MLflow UI "
        "(audit trail, review page)"
    )


def _clipped(reason: str) -> str:
    """A UI decision's reason within the stated limit (the comment stays whole in the record's approval field)."""
    if len(reason) <= TEXT_LIMIT:
        return reason
    return f"{reason[: TEXT_LIMIT - 60]}... ({len(reason) - TEXT_LIMIT + 60:,} more characters in approval.comment)"
