"""A team server's review decisions as the audit trail records them, and the approval tags as their projection.

The server appends a decision's audit row first (the record of truth: status, reviewer, time, comment and the
evidence it vouches for) and writes the tags after it. A server killed between the two, or an older server that let
MLflow write `approval.status` before its own half and its row, leaves tags that say something the trail does not:
a half-written decision. `approval_mismatch` names it; `approval_projection` says what the tags must become:
the recorded decision, or, with no record of one, the undecided state (`approval.status=pending`, no reviewer,
time or evidence). Pure: records and tags in, results out.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from pipelines.core import tags
from pipelines.core.decisions import DECISIONS, PENDING
from pipelines.core.records import AuditRecord, VersionInfo, approval_values

# what a decision's record vouches for and a crash can leave out of step with it (the comment is not a decision)
DECISION_TAGS = (tags.APPROVAL_STATUS, tags.APPROVAL_REVIEWER, tags.APPROVAL_TIME, tags.APPROVAL_EVIDENCE)


@dataclass(frozen=True)
class Projection:
    """The tag writes that make a version's approval tags say what its trail records."""

    set: dict[str, str] = field(default_factory=dict)
    delete: tuple[str, ...] = ()


def last_review(trail: list[AuditRecord], version: str) -> AuditRecord | None:
    """The version's last review record that happened (a refusal or a deleted record decides nothing)."""
    found = _reviews(trail, version)
    return found[-1] if found else None


def _reviews(trail: list[AuditRecord], version: str) -> list[AuditRecord]:
    return [r for r in trail if r.action == "review" and r.version == version and r.outcome == "done" and not r.deleted]


def recorded_approval(trail: list[AuditRecord], version: str) -> dict[str, str]:
    """The approval tags the trail says the version holds: its last review record's (each records the approval tags
    as its write left them, a comment's too), with the evidence its last status decision vouched for; the undecided
    state when no record decided anything."""
    record = last_review(trail, version)
    values = (approval_values(record.approval) or {}) if record else {}
    if record is None or values.get(tags.APPROVAL_STATUS, "") not in DECISIONS:
        return {tags.APPROVAL_STATUS: PENDING}
    decided = [r for r in _reviews(trail, version) if r.reason.startswith(f"{tags.APPROVAL_STATUS}=")]
    recorded = {k: v for k, v in values.items() if k in tags.APPROVAL_TAGS and v}
    return {**recorded, tags.APPROVAL_EVIDENCE: (decided[-1] if decided else record).evidence}


def _decision_view(values: dict[str, str]) -> dict[str, str]:
    """The decision fields of a set of approval tags; an undecided status (pending, absent, anything else) is one
    state, whatever reviewer or time tags an older review left beside it."""
    status = values.get(tags.APPROVAL_STATUS, "")
    if status not in DECISIONS:
        return {tags.APPROVAL_STATUS: PENDING}
    return {k: values.get(k, "") for k in DECISION_TAGS}


def approval_mismatch(version: VersionInfo, trail: list[AuditRecord]) -> list[str]:
    """A half-written decision of one version: its approval tags against what its trail records."""
    recorded = recorded_approval(trail, version.version)
    if _decision_view(version.tags) == _decision_view(recorded):
        return []
    status = version.tags.get(tags.APPROVAL_STATUS, "") or "(none)"
    said = recorded[tags.APPROVAL_STATUS]
    if said in DECISIONS:
        truth = f"{said} by {recorded.get(tags.APPROVAL_REVIEWER, '?')} at {recorded.get(tags.APPROVAL_TIME, '?')}"
    else:
        truth = "no decision"
    return [
        f"version {version.version}: half-written decision: the tags say {tags.APPROVAL_STATUS}={status}, the audit "
        f"trail records {truth} (creditflow audit rebuild {version.name}, by a reviewer, restores the recorded state)"
    ]


def approval_projection(version: VersionInfo, trail: list[AuditRecord]) -> Projection | None:
    """What the version's approval tags must become to say what its trail records; None when they already do."""
    if not approval_mismatch(version, trail):
        return None
    recorded = recorded_approval(trail, version.version)
    governed = [*DECISION_TAGS]
    if recorded[tags.APPROVAL_STATUS] in DECISIONS:  # a recorded decision brings its comment; undecided keeps it
        governed.append(tags.APPROVAL_COMMENT)
    stale = tuple(k for k in governed if k in version.tags and k not in recorded)
    return Projection(set=recorded, delete=stale)
