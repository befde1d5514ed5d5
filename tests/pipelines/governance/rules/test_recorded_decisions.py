"""Issue 24.5: a team server's approval tags are the projection of its audit rows; tags that say what no row
records (a server killed between them, or an older server that let MLflow write the status first) are named, and
the projection says what the tags must become."""

from __future__ import annotations

from pipelines.core.records import AuditRecord, VersionInfo
from pipelines.governance.rules.promotion import approval_fingerprint_of
from pipelines.governance.rules.recorded_decisions import Projection, approval_mismatch, approval_projection

DECIDED = {
    "approval.status": "approved",
    "approval.reviewer": "rev1",
    "approval.time": "2026-12-07T08:00:00+00:00",
    "approval.comment": "fine",
}


def version(**tags) -> VersionInfo:
    return VersionInfo("m", "3", tags, (), "run", "models:/m-0a", 0)


def review(values: dict[str, str], key: str = "approval.status", evidence: str = "e1") -> AuditRecord:
    reason = f"{key}={values.get(key, '')}"
    return AuditRecord("review", "m", "3", "rev1", "t", "done", reason, evidence, approval_fingerprint_of(values))


def test_tags_that_project_the_recorded_decision_are_whole():
    trail = [review({"approval.comment": "fine"}, key="approval.comment"), review(DECIDED)]
    assert approval_mismatch(version(**DECIDED, **{"approval.evidence": "e1"}), trail) == []
    assert approval_projection(version(**DECIDED, **{"approval.evidence": "e1"}), trail) is None


def test_a_status_tag_no_row_records_is_half_written_even_with_the_servers_half():
    # an older server: MLflow wrote the status, the server's half and its row never came (here even a forged half)
    tags = {**DECIDED, "approval.evidence": "e1"}
    (problem,) = approval_mismatch(version(**tags), [review({"approval.comment": "fine"}, key="approval.comment")])
    assert "tags say approval.status=approved, the audit trail records no decision" in problem
    assert "creditflow audit rebuild m" in problem
    projection = approval_projection(version(**tags), [])
    assert projection == Projection(
        set={"approval.status": "pending"},
        delete=("approval.reviewer", "approval.time", "approval.evidence"),
    )


def test_a_recorded_decision_whose_tags_were_never_written_is_half_written_and_projected():
    trail = [review(DECIDED)]
    (problem,) = approval_mismatch(version(**{"approval.status": "pending"}), trail)
    assert "records approved by rev1 at 2026-12-07T08:00:00+00:00" in problem
    projection = approval_projection(version(**{"approval.status": "pending"}), trail)
    assert projection == Projection(set={**DECIDED, "approval.evidence": "e1"}, delete=())


def test_a_comment_after_the_decision_keeps_the_decisions_evidence():
    later = review({**DECIDED, "approval.comment": "see note"}, key="approval.comment", evidence="e2")
    tags = {**DECIDED, "approval.comment": "see note", "approval.evidence": "e1"}
    assert approval_mismatch(version(**tags), [review(DECIDED), later]) == []


def test_undecided_is_one_state_and_a_refusal_decides_nothing():
    refused = AuditRecord("review", "m", "3", "rev1", "t", "refused", "", "e1", approval_fingerprint_of(DECIDED))
    assert approval_mismatch(version(**{"approval.status": "pending"}), [refused]) == []
    assert approval_mismatch(version(), []) == []
