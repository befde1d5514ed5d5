"""The labels of a reviewer's decision, as `approval.status` holds them (DESIGN's registry vocabulary).
An applicant's decision (approve/decline) is the scorer's and lives with it (pipelines/scoring/decision.py),
because the scorer runs inside the logged model."""

from __future__ import annotations

__all__ = ["APPROVED", "DECISIONS", "PENDING", "REJECTED"]

PENDING, APPROVED, REJECTED = "pending", "approved", "rejected"
DECISIONS = (APPROVED, REJECTED)  # what a review records; `pending` is the state before one
