"""Audit rows of a team server's table as the promotion rules read them: the same trail whether the rules run in
the server's gate or in a client (`creditflow status`, `score`), so both judge a champion alike."""

from __future__ import annotations

import json
from typing import Any

from pipelines.core.records import AuditRecord

TRAIL_ACTIONS = ("register", "validate", "review", "exception", "promote", "rollback")  # the rows the rules read


def as_record(row: dict[str, Any]) -> AuditRecord | None:
    """An audit row as the promotion rules read the trail: registrations, reviews, exceptions and champion moves
    that happened, and refused ones (shown as refusals); everything else is not part of the trail."""
    if row["action"] not in TRAIL_ACTIONS or row["decision"] not in ("allowed", "refused", "noop"):
        return None
    detail = json.loads(row["detail"] or "{}")
    refused = row["decision"] == "refused"
    return AuditRecord(
        action="refuse" if refused else row["action"],
        model=row["model"],
        version=row["version"],
        actor=row["username"],
        time=row["time"],
        outcome={"allowed": "done", "refused": "refused", "noop": "noop"}[row["decision"]],
        reason=detail.get("justification", row["reason"]) if row["action"] == "exception" else row["reason"],
        evidence=detail.get("evidence", ""),
        approval=detail.get("approval", ""),
        from_version=detail.get("from_version", ""),
        to_version=detail.get("to_version", ""),
        seq=str(row.get("seq", "")),
        prev=str(row.get("prev", "")),
        digest=str(row.get("digest", "")),
        gate=detail.get("gate", ""),
        expires=detail.get("expires", ""),
    )
