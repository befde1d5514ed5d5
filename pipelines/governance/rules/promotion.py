"""Promotion rules as pure functions: a model version and the audit trail in, unmet conditions out.

A version may become `champion` only when
- every `validation.*` gate tag says `passed` (and every gate of the registry is there), or a
  failed or not-assessed gate has a valid, unexpired exception recorded in the trail and an approval given
  after it (`pipelines/governance/rules/exceptions.py`); `validation.policy*` name the policy, they are no verdicts;
- `approval.status` is `approved`, by a named reviewer who is not the version's author
  (`lineage.author`, recorded at registration): four eyes;
- its evidence is the evidence it was registered (or last validated) and approved with. The evidence digest covers
  the `validation.*` and `lineage.*` tags (among them `lineage.model_sha256`, the tree hash of the
  model's files), the model source and the training run. It is written to the audit trail at
  registration and, by `creditflow review`, into `approval.evidence`. An approval in the MLflow UI
  carries no digest; what it approved is then the registered evidence, which must be unchanged.
  So any later edit of a gate, of the author or of the model source voids the approval;
- its model files, as the caller found them (`FilesCheck`), still hash to `lineage.model_sha256`:
  a booster or settings file replaced under the artifact root is refused.
The trail is read in hash-chain order (pipelines/governance/rules/chain.py), never by the time a record claims:
the first registration record of a version is its registration, however many are appended later.
The champion is *verified* when, in addition, the last recorded promotion or rollback put it
there with the same evidence and the same approval tags: anything else was changed around creditflow.
Names (reviewer, author) are compared as people, not strings (pipelines/governance/rules/identity.py).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json

from features.policy import ExceptionTerms
from pipelines.core import tags
from pipelines.core.free_text import NAME_LIMIT, shown, text_problem
from pipelines.core.records import MOVES, AuditRecord, FilesCheck, VersionInfo, approval_values
from pipelines.core.tags import APPROVAL_TAGS, CHAMPION
from pipelines.gates.registry import gate_tags
from pipelines.governance.rules.exceptions import exception_problems
from pipelines.governance.rules.identity import name_problem, person_key, same_person

EVIDENCE_TAG, AUTHOR_TAG = tags.APPROVAL_EVIDENCE, tags.AUTHOR


def evidence_digest(version: VersionInfo) -> str:
    """sha256 over what the approval vouches for: gates, lineage, model source, training run."""
    evidence = {k: v for k, v in version.tags.items() if k.startswith((tags.VALIDATION_PREFIX, tags.LINEAGE_PREFIX))}
    payload = {"tags": evidence, "source": version.source, "run_id": version.run_id or ""}
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()


def approval_fingerprint(version: VersionInfo) -> str:
    """The approval tags as one string, to notice an approval edited after a promotion."""
    return approval_fingerprint_of(version.tags)


def approval_fingerprint_of(values: dict[str, str]) -> str:
    """`approval_fingerprint` of a set of tags (a review records the tags it is about to write). Letters stay
    letters (not `\\u` escapes, six to twelve characters each), so a comment in any script fits a record alike."""
    return json.dumps({k: values.get(k, "") for k in APPROVAL_TAGS}, sort_keys=True, ensure_ascii=False)


def same_approval(recorded: str, version: VersionInfo) -> bool:
    """Whether a record's approval field holds the version's approval tags as they stand: compared as values, so
    records written with escaped letters (before issue 28) still match."""
    return approval_values(recorded) == {k: version.tags.get(k, "") for k in APPROVAL_TAGS}


def registered_evidence(trail: list[AuditRecord], version: str) -> str | None:
    """The evidence digest recorded for `version`: its first registration record in chain order, replaced by each
    later validation (`creditflow validate` recomputed the evidence and recorded its digest); None if there is no
    registration. Later registration records of the same version never replace it."""
    found = [r for r in trail if r.action == "register" and r.version == version and not r.deleted]
    if not found:
        return None
    validated = [
        r for r in trail if r.action == "validate" and r.version == version and r.outcome == "done" and not r.deleted
    ]
    return validated[-1].evidence if validated else found[0].evidence


def abandoned(trail: list[AuditRecord], version: str) -> AuditRecord | None:
    """The record that marked `version`'s registration abandoned (its process died before recording it)."""
    return next((r for r in trail if r.action == "abandon" and r.version == version and not r.deleted), None)


INTENT = "intent"  # the outcome of a move's first record, written before any alias moves


def last_move(trail: list[AuditRecord]) -> AuditRecord | None:
    """The last promotion or rollback that moved `champion` (refusals and no-ops move nothing)."""
    moves = [r for r in trail if r.action in MOVES and r.outcome == "done" and not r.deleted]
    return moves[-1] if moves else None


def pending_move(trail: list[AuditRecord]) -> AuditRecord | None:
    """A move whose intent was recorded but whose outcome was not: its process died between the two. The next
    writing command finishes it (pipelines/governance/local/recovery.py); until then it counts as recorded when
    `champion` is already on its target, since every rule was checked before its intent was written."""
    moves = [r for r in trail if (r.action in MOVES or r.action == "refuse") and not r.deleted]
    return moves[-1] if moves and moves[-1].outcome == INTENT else None


def unmet_conditions(
    version: VersionInfo,
    trail: list[AuditRecord],
    *,
    files: FilesCheck | None = None,
    today: dt.date | None = None,
    terms: ExceptionTerms | None = None,
    every_gate: bool = True,
) -> list[str]:
    """Every reason `version` may not be champion; empty when it may. `files` is the model's files as the
    caller found them (None: not looked at, so not judged); `terms` the exception terms of the version's governed
    policy, against which every exception is judged again (None: only the policy-free rules).

    `today` judges exception expiry (a new move); None leaves it to `status` (verifying a past move: an expired
    exception is reported, it does not stop scoring). `every_gate` requires a tag of every registered gate (a new
    move); a champion put there by a recorded promotion before a gate existed is judged on the gates it carried,
    whose tags the promotion's evidence digest binds."""
    values, unmet = version.tags, []
    for gate in gate_tags() if every_gate else ():
        if gate not in values:
            unmet.append(
                f"{gate} is missing: version {version.version} was judged before the {tags.gate_name(gate)} gate "
                f"existed or without it; judge it again: creditflow validate {version.name} {version.version} "
                "recomputes every gate (then review it again), or creditflow run on its spec registers a new version"
            )
    digest = evidence_digest(version)
    for key in sorted(k for k in values if k.startswith(tags.VALIDATION_PREFIX) and k not in tags.NOT_VERDICTS):
        if values[key] in (tags.FAILED, tags.NOT_ASSESSED):
            excused = exception_problems(version, trail, tags.gate_name(key), digest, today, terms=terms)
            if excused:
                unmet.append(f"{key} is {values[key]!r}, not 'passed', and " + "; ".join(excused))
        elif values[key] != tags.PASSED:
            unmet.append(f"{key} is {values[key]!r}, not 'passed'")
    status = values.get(tags.APPROVAL_STATUS, "")
    if status != "approved":
        unmet.append(f"{tags.APPROVAL_STATUS} is {status or 'missing'!r}, not 'approved'")
    unmet += _four_eyes_problems(values, status == "approved")
    unmet += _evidence_problems(version, trail)
    unmet += files_problems(version, files)
    return unmet


def _four_eyes_problems(values: dict[str, str], approved: bool) -> list[str]:
    reviewer, author = values.get(tags.APPROVAL_REVIEWER, ""), values.get(AUTHOR_TAG, "")
    problems = []
    if approved and not person_key(reviewer):
        problems.append(f"{tags.APPROVAL_REVIEWER} is empty")
    if not person_key(author):
        problems.append(f"{AUTHOR_TAG} is missing: four-eyes cannot be checked")
    for key, name in ((tags.APPROVAL_REVIEWER, reviewer), (AUTHOR_TAG, author)):
        problem = name_problem(name) if person_key(name) else None
        if problem and (approved or key == AUTHOR_TAG):
            problems.append(f"{key} {name!r} {problem}: not a name four-eyes can trust")
    if approved and same_person(reviewer, author):
        problems.append(f"four-eyes: reviewer {reviewer!r} is the version's author")
    return problems


def files_problems(version: VersionInfo, files: FilesCheck | None) -> list[str]:
    """Whether the model files the caller found are the files registered (`lineage.model_sha256`)."""
    if files is None:
        return []
    registered = version.tags.get(tags.MODEL_SHA256, "")
    if not registered:
        return [
            f"{tags.MODEL_SHA256} is missing: the model files cannot be checked "
            f"(registered before content-bound evidence; creditflow audit rebuild {version.name} records it)"
        ]
    problems = list(files.problems)
    if files.sha256 != registered:
        problems.append(
            f"the model files of version {version.version} differ from {tags.MODEL_SHA256} "
            f"(found {files.sha256[:12]}, registered {registered[:12]}): changed after registration"
        )
    return problems


def _evidence_problems(version: VersionInfo, trail: list[AuditRecord]) -> list[str]:
    digest, problems = evidence_digest(version), []
    registered = registered_evidence(trail, version.version)
    dropped = abandoned(trail, version.version)
    if dropped is not None:
        problems.append(f"the registration of version {version.version} was abandoned: {dropped.reason}")
    elif registered is None:
        problems.append(
            f"no registration of version {version.version} in the audit trail "
            f"(creditflow audit rebuild {version.name} re-establishes it if its run and files still match)"
        )
    elif registered != digest:
        problems.append("evidence changed since registration (validation.*/lineage.* tags or model source)")
    approved_for = version.tags.get(EVIDENCE_TAG)
    if approved_for and approved_for != digest:
        problems.append("the approval was given for other evidence: review the version again")
    return problems


def champion_problems(champion: VersionInfo, trail: list[AuditRecord], *, files: FilesCheck | None = None) -> list[str]:
    """Why the current champion cannot be trusted (empty when a recorded move put it there and it
    still meets every rule). `trail` is in chain order."""
    pending = pending_move(trail)
    move = pending if pending is not None and pending.to_version == champion.version else last_move(trail)
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
        after = trail[next(i for i, r in enumerate(trail) if r is move) + 1 :]
        recorded = {move.approval} | {
            r.approval
            for r in after
            if r.action == "review" and not r.deleted and r.version == champion.version and r.source != "ui"
        }
        # a review recorded by creditflow after the move is legitimate; one made in the UI stays flagged
        if not any(same_approval(approval, champion) for approval in recorded):
            problems.append(f"approval tags of version {champion.version} changed since its {move.action}")
    return problems + unmet_conditions(champion, trail, files=files, every_gate=False)


def review_problems(
    version: VersionInfo, trail: list[AuditRecord], *, approve: bool, reviewer: str, comment: str, new_review: bool
) -> list[str]:
    """Bad input for a review (exit 2).

    A rejected version is approved again only by an explicit new review (`new_review`): a rejection
    is a decision, not a draft that the next `--approve` silently overwrites. The champion cannot be
    rejected: roll it back first, so the rejection never leaves `champion` on a rejected version. A
    version whose registration was never recorded, or was abandoned, is not reviewed at all.
    """
    problems = []
    if not person_key(reviewer):
        problems.append("the reviewer must be named (set CREDITFLOW_USER)")
    elif name_problem(reviewer):
        problems.append(f"reviewer name {shown(reviewer)} {name_problem(reviewer)}")
    if not comment.strip():
        problems.append("--comment must say why")
    problems += [
        p for p in (text_problem("--comment", comment), text_problem("the reviewer", reviewer, limit=NAME_LIMIT)) if p
    ]
    dropped = abandoned(trail, version.version)
    if dropped is not None:
        problems.append(f"the registration of version {version.version} was abandoned: {dropped.reason}")
    elif registered_evidence(trail, version.version) is None:
        problems.append(
            f"version {version.version} has no registration record in the audit trail "
            f"(creditflow audit rebuild {version.name} re-establishes it if its run and files still match)"
        )
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
