"""The promotion rules on hand-made versions and trails (no tracking store)."""

import datetime as dt
from dataclasses import replace

from pipelines.core.records import AuditRecord, VersionInfo
from pipelines.governance.rules.promotion import (
    approval_fingerprint,
    champion_problems,
    evidence_digest,
    review_problems,
    unmet_conditions,
)

TODAY = dt.date(2026, 3, 1)
GOOD_TAGS = {
    "validation.data_design": "passed",
    "validation.performance": "passed",
    "validation.stability": "passed",
    "validation.fairness": "passed",
    "approval.status": "approved",
    "approval.reviewer": "bob",
    "approval.comment": "ok",
    "approval.time": "2026-01-01T00:00:00+00:00",
    "lineage.author": "alice",
    "lineage.run_id": "r1",
    "lineage.data_digest": "d" * 64,
}


def version(number="1", aliases=(), **tags) -> VersionInfo:
    merged = {**GOOD_TAGS, **tags}
    return VersionInfo(
        "m", number, {k: v for k, v in merged.items() if v is not None}, tuple(aliases), "r1", f"models:/m-{number}", 0
    )


def registered(v: VersionInfo) -> AuditRecord:
    return AuditRecord("register", "m", v.version, "alice", "2026-01-01T00:00:00", "done", evidence=evidence_digest(v))


def promoted(v: VersionInfo, time="2026-01-02T00:00:00") -> AuditRecord:
    return AuditRecord(
        "promote",
        "m",
        v.version,
        "carol",
        time,
        "done",
        evidence=evidence_digest(v),
        approval=approval_fingerprint(v),
        to_version=v.version,
    )


def test_a_passed_approved_four_eyes_version_meets_every_rule():
    v = version()
    assert unmet_conditions(v, [registered(v)], today=TODAY) == []


def test_every_unmet_condition_is_listed():
    v = version(**{"validation.fairness": "failed", "approval.status": "pending", "validation.stability": None})
    unmet = unmet_conditions(v, [], today=TODAY)
    assert any(u.startswith("validation.stability is missing: version 1 was judged before") for u in unmet)
    assert "validation.fairness is 'failed', not 'passed', and no accepted exception" in unmet
    assert "approval.status is 'pending', not 'approved'" in unmet
    assert any(u.startswith("no registration of version 1 in the audit trail") for u in unmet)


def test_four_eyes_compares_names_ignoring_case_and_spaces():
    v = version(**{"approval.reviewer": " Alice "})
    assert unmet_conditions(v, [registered(v)], today=TODAY) == [
        "four-eyes: reviewer ' Alice ' is the version's author"
    ]
    v = version(**{"lineage.author": None})
    assert unmet_conditions(v, [registered(v)], today=TODAY) == [
        "lineage.author is missing: four-eyes cannot be checked"
    ]


def test_an_edited_gate_or_author_voids_the_approval():
    original = version()
    trail = [registered(original)]
    edited = version(**{"lineage.author": "mallory"})
    assert unmet_conditions(edited, trail, today=TODAY) == [
        "evidence changed since registration (validation.*/lineage.* tags or model source)"
    ]
    moved = replace(original, source="models:/m-other")
    assert unmet_conditions(moved, trail, today=TODAY) == [
        "evidence changed since registration (validation.*/lineage.* tags or model source)"
    ]


def test_a_cli_approval_binds_the_evidence_it_saw():
    v = version()
    stale = version(**{"approval.evidence": "0" * 64})
    assert unmet_conditions(stale, [registered(v)], today=TODAY) == [
        "the approval was given for other evidence: review the version again"
    ]
    fresh = version(**{"approval.evidence": evidence_digest(v)})
    assert unmet_conditions(fresh, [registered(v)], today=TODAY) == []


def test_a_deleted_registration_record_is_not_trusted():
    v = version()
    (unmet,) = unmet_conditions(v, [replace(registered(v), deleted=True)], today=TODAY)
    assert unmet.startswith("no registration of version 1 in the audit trail (creditflow audit rebuild m")


def test_champion_is_verified_only_when_the_last_recorded_move_put_it_there_unchanged():
    v1, v2 = version("1", aliases=("champion",)), version("2")
    trail = [registered(v1), registered(v2), promoted(v1)]
    assert champion_problems(v1, trail) == []
    assert champion_problems(replace(v2, aliases=("champion",)), trail) == [
        "alias champion is on version 2 but the last recorded promote put it on version 1"
    ]
    assert champion_problems(v1, trail[:2]) == ["alias champion on version 1 was not set by a recorded promotion"]
    renamed = version("1", aliases=("champion",), **{"approval.reviewer": "dave"})
    assert champion_problems(renamed, trail) == ["approval tags of version 1 changed since its promote"]
    rereviewed = AuditRecord("review", "m", "1", "dave", "2026-01-03", "done", approval=approval_fingerprint(renamed))
    assert champion_problems(renamed, [*trail, rereviewed]) == []
    revoked = version("1", aliases=("champion",), **{"approval.status": "rejected"})
    assert "approval.status is 'rejected', not 'approved'" in champion_problems(revoked, trail)


def test_a_refusal_or_noop_does_not_count_as_a_move():
    v1 = version("1", aliases=("champion",))
    refusal = replace(promoted(v1), action="refuse", outcome="refused")
    assert champion_problems(v1, [registered(v1), refusal])[0].endswith("was not set by a recorded promotion")


def test_review_input_rules():
    v = version()
    trail = [registered(v)]
    assert review_problems(v, trail, approve=True, reviewer=" ", comment="why", new_review=False) == [
        "the reviewer must be named (set CREDITFLOW_USER)"
    ]
    assert review_problems(v, trail, approve=True, reviewer="bob", comment="", new_review=False) == [
        "--comment must say why"
    ]
    rejected = version(**{"approval.status": "rejected"})
    assert (
        "approving it needs an explicit new review (--new-review)"
        in review_problems(rejected, trail, approve=True, reviewer="bob", comment="x", new_review=False)[0]
    )
    assert review_problems(rejected, trail, approve=True, reviewer="bob", comment="x", new_review=True) == []
    assert review_problems(rejected, trail, approve=False, reviewer="bob", comment="x", new_review=False) == []
    champion = version(aliases=("champion",))
    assert (
        "roll it back first"
        in review_problems(champion, trail, approve=False, reviewer="bob", comment="x", new_review=False)[0]
    )
