"""The registry vocabulary (DESIGN.md): tag names on a model version and the aliases creditflow moves.

Shared by the gates, registration, governance, status and monitoring; the names are read by reviewers in
the MLflow UI, so they change only with reason.
"""

PERFORMANCE = "validation.performance"
STABILITY = "validation.stability"
FAIRNESS = "validation.fairness"
GATES = (PERFORMANCE, STABILITY, FAIRNESS)
VALIDATION_PREFIX = "validation."

APPROVAL_STATUS = "approval.status"
APPROVAL_REVIEWER = "approval.reviewer"
APPROVAL_COMMENT = "approval.comment"
APPROVAL_TIME = "approval.time"
APPROVAL_TAGS = (APPROVAL_STATUS, APPROVAL_REVIEWER, APPROVAL_COMMENT, APPROVAL_TIME)
APPROVAL_EVIDENCE = "approval.evidence"  # digest of the evidence an approval vouches for
APPROVAL_PREFIX = "approval."

# An accepted, time-limited exception for one gate: exception.<gate>.<field> (granted by risk).
EXCEPTION_PREFIX = "exception."

LINEAGE_PREFIX = "lineage."
DATA_DIGEST = "lineage.data_digest"
SPEC_DIGEST = "lineage.spec_digest"
GIT_COMMIT = "lineage.git_commit"
RUN_ID = "lineage.run_id"
AUTHOR = "lineage.author"

MONITORING_STATUS = "monitoring.status"
MONITORING_LAST_WINDOW = "monitoring.last_window"

CHAMPION, PREVIOUS = "champion", "previous"

# Tags a client may not set freely on a team server: evidence, lineage, approvals and exceptions.
RESERVED_PREFIXES = (LINEAGE_PREFIX, VALIDATION_PREFIX, APPROVAL_PREFIX, EXCEPTION_PREFIX)
