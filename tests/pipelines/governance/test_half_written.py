"""Issue 24.5: a decision whose server-written half is missing is named by `audit verify` (team mode)."""

from __future__ import annotations

from pipelines.core.records import VersionInfo
from pipelines.governance.evidence_check import half_written_approval


def version(**tags) -> VersionInfo:
    return VersionInfo("m", "3", tags, (), "run", "models:/m-0a", 0)


def test_an_approval_without_reviewer_time_or_evidence_is_half_written():
    found = half_written_approval(version(**{"approval.status": "approved"}))
    assert found == [
        "version 3: approval.status=approved is half-written (no approval.reviewer, approval.time, "
        "approval.evidence): the reviewer must decide again"
    ]
    whole = {"approval.reviewer": "rev1", "approval.time": "t", "approval.evidence": "e"}
    assert half_written_approval(version(**{"approval.status": "approved", **whole})) == []
    assert half_written_approval(version(**{"approval.status": "pending"})) == []
