"""Promotion rules as pure functions: a model version and the audit trail in, unmet conditions out.

A version may become `champion` only when
- every `validation.*` gate tag says `passed` (and the three gates creditflow writes are all there), or a
  failed or not-assessed gate has a valid, unexpired exception recorded in the trail and an approval given
  after it (`pipelines/gates/exceptions.py`); `validation.policy*` name the policy, they are no verdicts;
- `approval.status` is `approved`, by a named reviewer who is not the version's author
  (`lineage.author`, recorded at registration): four eyes;
- its evidence is the evidence it was registered and approved with. The evidence digest covers
  the `validation.*` and `lineage.*` tags, the model source and the training run. It is written
  to the audit trail at registration and, by `creditflow review`, into `approval.evidence`. An
  approval in the MLflow UI carries no digest; what it approved is then the registered evidence,
  which must be unchanged. So any later edit of a gate, of the author or of the model source
  voids the approval.
The champion is *verified* when, in addition, the last recorded promotion or rollback put it
there with the same evidence and the same approval tags: anything else was changed around creditflow.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass

from pipelines import tags
from pipelines.gates.exceptions import exception_problems
from pipelines.tags import APPROVAL_TAGS, CHAMPION, GATES


@dataclass(frozen=True)
class VersionInfo:
    """One registered model version as creditflow reads it: tags and aliases included."""

    name: str
    version: str
    tags: dict[str, str]
    aliases: tuple[str, ...]
    run_id: str | None
    source: str
    created_ms: int

    @property
    def uri(self) -> str:
        return f"models:/{self.name}/{self.version}"


EVIDENCE_TAG, AUTHOR_TAG = tags.APPROVAL_EVIDENCE, tags.AUTHOR
MOVES = ("promote", "rollback")  # actions that put `champion` on a version


@dataclass(frozen=True)
class AuditRecord:
    """One entry of the governance trail (stored as the params of one MLflow run)."""

    action: str  # register | review | exception | promote | rollback | refuse
    model: str
    version: str
    actor: str
    time: str  # ISO 8601, UTC
    outcome: str  # done | refused | noop
    reason: str = ""
    evidence: str = ""
    approval: str = ""
    from_version: str = ""
    to_version: str = ""
    gate: str = ""  # exception: the gate it excuses
    expires: str = ""  # exception: valid through this day (YYYY-MM-DD)
    source: str = ""  # review: `ui` when the decision was made in the MLflow UI and recorded when found
    deleted: bool = False  # the run was deleted in the UI: shown, never trusted

    def params(self) -> dict[str, str]:
        values = {k: v for k, v in self.__dict__.items() if k != "deleted"}
        return {k: v for k, v in values.items() if v != ""}

    @classmethod
    def from_params(cls, params: dict[str, str]) -> "AuditRecord":
        known = {k: params.get(k, "") for k in cls.__dataclass_fields__ if k != "deleted"}
        return cls(**known, deleted=params.get("_deleted") == "True")


def evidence_digest(version: VersionInfo) -> str:
    """sha256 over what the approval vouches for: gates, lineage, model source, training run."""
    evidence = {k: v for k, v in version.tags.items() if k.startswith((tags.VALIDATION_PREFIX, tags.LINEAGE_PREFIX))}
    payload = {"tags": evidence, "source": version.source, "run_id": version.run_id or ""}
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()


def approval_fingerprint(version: VersionInfo) -> str:
    """The approval tags as one string, to notice an approval edited after a promotion."""
    return json.dumps({k: version.tags.get(k, "") for k in APPROVAL_TAGS}, sort_keys=True)


def registered_evidence(trail: list[AuditRecord], version: str) -> str | None:
    """The evidence digest recorded when `version` was registered (None if no trusted record)."""
    found = [r for r in trail if r.action == "register" and r.version == version and not r.deleted]
    return found[0].evidence if found else None


def last_move(trail: list[AuditRecord]) -> AuditRecord | None:
    """The last promotion or rollback that moved `champion` (refusals and no-ops move nothing)."""
    moves = [r for r in trail if r.action in MOVES and r.outcome == "done" and not r.deleted]
    return moves[-1] if moves else None


def unmet_conditions(version: VersionInfo, trail: list[AuditRecord], today: dt.date | None) -> list[str]:
    """Every reason `version` may not be champion; empty when it may.

    `today` judges exception expiry (a new move); None leaves it to `status` (verifying a past move: an expired
    exception is reported, it does not stop scoring)."""
    values, unmet = version.tags, []
    for gate in GATES:
        if gate not in values:
            unmet.append(f"{gate} is missing")
    digest = evidence_digest(version)
    for key in sorted(k for k in values if k.startswith(tags.VALIDATION_PREFIX) and k not in tags.POLICY_TAGS):
        if values[key] in (tags.FAILED, tags.NOT_ASSESSED):
            excused = exception_problems(version, trail, tags.gate_name(key), digest, today)
            if excused:
                unmet.append(f"{key} is {values[key]!r}, not 'passed', and " + "; ".join(excused))
        elif values[key] != tags.PASSED:
            unmet.append(f"{key} is {values[key]!r}, not 'passed'")
    status = values.get(tags.APPROVAL_STATUS, "")
    if status != "approved":
        unmet.append(f"approval.status is {status or 'missing'!r}, not 'approved'")
    reviewer, author = _person(values.get(tags.APPROVAL_REVIEWER)), _person(values.get(AUTHOR_TAG))
    if status == "approved" and not reviewer:
        unmet.append("approval.reviewer is empty")
    if not author:
        unmet.append(f"{AUTHOR_TAG} is missing: four-eyes cannot be checked")
    elif status == "approved" and reviewer == author:
        unmet.append(f"four-eyes: reviewer {values[tags.APPROVAL_REVIEWER]!r} is the version's author")
    unmet += _evidence_problems(version, trail)
    return unmet


def _evidence_problems(version: VersionInfo, trail: list[AuditRecord]) -> list[str]:
    digest, problems = evidence_digest(version), []
    registered = registered_evidence(trail, version.version)
    if registered is None:
        problems.append(f"no registration of version {version.version} in the audit trail")
    elif registered != digest:
        problems.append("evidence changed since registration (validation.*/lineage.* tags or model source)")
    approved_for = version.tags.get(EVIDENCE_TAG)
    if approved_for and approved_for != digest:
        problems.append("the approval was given for other evidence: review the version again")
    return problems


def champion_problems(champion: VersionInfo, trail: list[AuditRecord]) -> list[str]:
    """Why the current champion cannot be trusted (empty when a recorded move put it there and it
    still meets every rule)."""
    move = last_move(trail)
    if move is None:
        problems = [f"alias champion on version {champion.version} was not set by a recorded promotion"]
    elif move.to_version != champion.version:
        problems = [
            f"alias champion is on version {champion.version} but the last recorded "
            f"{move.action} put it on version {move.to_version}"
        ]
    else:
        problems = []
        if move.evidence != evidence_digest(champion):
            problems.append(f"evidence of version {champion.version} changed since its {move.action}")
        recorded = {move.approval} | {
            r.approval
            for r in trail
            if r.action == "review"
            and not r.deleted
            and r.version == champion.version
            and r.time > move.time
            and r.source != "ui"
        }
        # a review recorded by creditflow after the move is legitimate; one made in the UI stays flagged
        if approval_fingerprint(champion) not in recorded:
            problems.append(f"approval tags of version {champion.version} changed since its {move.action}")
    return problems + unmet_conditions(champion, trail, today=None)


def review_problems(version: VersionInfo, approve: bool, reviewer: str, comment: str, new_review: bool) -> list[str]:
    """Bad input for a review (exit 2).

    A rejected version is approved again only by an explicit new review (`new_review`): a rejection
    is a decision, not a draft that the next `--approve` silently overwrites. The champion cannot be
    rejected: roll it back first, so the rejection never leaves `champion` on a rejected version.
    """
    problems = []
    if not reviewer.strip():
        problems.append("--reviewer must name the reviewer")
    if not comment.strip():
        problems.append("--comment must say why")
    if not approve and CHAMPION in version.aliases:
        problems.append(
            f"version {version.version} is champion: roll it back first (creditflow rollback), "
            "so that champion never points at a rejected version"
        )
    if approve and version.tags.get(tags.APPROVAL_STATUS) == "rejected" and not new_review:
        problems.append(
            f"version {version.version} was rejected by {version.tags.get(tags.APPROVAL_REVIEWER, '?')}: "
            "approving it needs an explicit new review (--new-review)"
        )
    return problems


def _person(name: str | None) -> str:
    return (name or "").strip().casefold()
