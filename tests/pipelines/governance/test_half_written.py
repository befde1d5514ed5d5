"""Issue 24.5: a decision the audit trail does not record is named by `audit verify` and `status` (team mode)."""

from __future__ import annotations

from pipelines.core.records import AuditRecord, VersionInfo
from pipelines.governance.evidence_check import half_written_approval
from pipelines.governance.rules.promotion import approval_fingerprint_of


def version(**tags) -> VersionInfo:
    return VersionInfo("m", "3", tags, (), "run", "models:/m-0a", 0)


def test_an_approval_no_row_records_is_half_written_whatever_tags_stand_beside_it():
    whole = {"approval.status": "approved", "approval.reviewer": "rev1", "approval.time": "t", "approval.evidence": "e"}
    for tags in ({"approval.status": "approved"}, whole):
        (found,) = half_written_approval(version(**tags), [])
        assert found.startswith("version 3: half-written decision: the tags say approval.status=approved")
    recorded = AuditRecord(
        "review", "m", "3", "rev1", "t", "done", "approval.status=approved", "e", approval_fingerprint_of(whole)
    )
    assert half_written_approval(version(**whole), [recorded]) == []
    assert half_written_approval(version(**{"approval.status": "pending"}), []) == []
