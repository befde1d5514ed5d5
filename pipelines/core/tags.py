"""The registry vocabulary (DESIGN.md): tag names on a model version and the aliases creditflow moves.

Shared by the gates, registration, governance, status and monitoring; the names are read by reviewers in
the MLflow UI, so they change only with reason.
"""

# validation.<gate>: one per registered gate (pipelines/gates/registry.py), holding its status.
VALIDATION_PREFIX = "validation."
PASSED, FAILED, NOT_ASSESSED, WARN = "passed", "failed", "not_assessed", "warn"  # a gate's verdicts
# The governed policy the gates were judged under: evidence (in the digest), not verdicts.
POLICY = "validation.policy"
POLICY_DIGEST = "validation.policy_digest"
POLICY_TAGS = (POLICY, POLICY_DIGEST)

# An accepted, time-limited exception for one failed or not-assessed gate: exception.<gate>.<field>, where
# <gate> is the gate's short name (`fairness` for validation.fairness).
EXCEPTION_PREFIX = "exception."
EXCEPTION_FIELDS = ("status", "granted_by", "justification", "expires", "time", "evidence", "alternative")


def exception_tag(gate: str, field: str) -> str:
    return f"{EXCEPTION_PREFIX}{gate}.{field}"


def gate_name(tag: str) -> str:
    """`validation.fairness` -> `fairness`."""
    return tag.removeprefix(VALIDATION_PREFIX)


APPROVAL_STATUS = "approval.status"
APPROVAL_REVIEWER = "approval.reviewer"
APPROVAL_COMMENT = "approval.comment"
APPROVAL_TIME = "approval.time"
APPROVAL_TAGS = (APPROVAL_STATUS, APPROVAL_REVIEWER, APPROVAL_COMMENT, APPROVAL_TIME)
APPROVAL_EVIDENCE = "approval.evidence"  # digest of the evidence an approval vouches for
APPROVAL_PREFIX = "approval."

LINEAGE_PREFIX = "lineage."
DATA_DIGEST = "lineage.data_digest"
SPEC_DIGEST = "lineage.spec_digest"
GIT_COMMIT = "lineage.git_commit"
RUN_ID = "lineage.run_id"
AUTHOR = "lineage.author"
MODEL_SHA256 = "lineage.model_sha256"  # tree hash of the logged model's files (pipelines/tracking/model_files.py)

REGISTRATION_STATUS = "registration.status"  # `abandoned` when the registering process died before recording it
ABANDONED = "abandoned"

MONITORING_STATUS = "monitoring.status"
MONITORING_LAST_WINDOW = "monitoring.last_window"

# On the registered model itself (not a version): what it predicts and under which spec and policy.
MODEL_PREDICTS = "model.predicts"
MODEL_TARGET = "model.target"
MODEL_POSITIVE = "model.positive_label"
MODEL_SPEC = "model.spec"
MODEL_POLICY = "model.policy"
MODEL_BUILT_BY = "model.built_by"

CHAMPION, PREVIOUS = "champion", "previous"

# On runs (not versions): which process owns a run, so the next command can close it if that process died.
OWNER = "creditflow.owner"  # pid@host/start (pipelines/owner.py)

# Tags a client may not set freely on a team server: evidence, lineage, approvals and exceptions.
RESERVED_PREFIXES = (LINEAGE_PREFIX, VALIDATION_PREFIX, APPROVAL_PREFIX, EXCEPTION_PREFIX)

# On monitoring runs (experiment `<MODEL>-monitoring`): which version and window a run watched, and its place in
# the model's history.
MONITORING_MODEL = "monitoring.model"
MONITORING_VERSION = "monitoring.version"
MONITORING_WINDOW = "monitoring.window"
MONITORING_WINDOWS = "monitoring.windows"  # on a history run: the windows it covers
MONITORING_ROLE = "monitoring.role"  # `window` or `history`
MONITORING_COMPLETE = "monitoring.complete"  # `true` once a window's run logged everything
MONITORING_STEP = "monitoring.step"
MONITORING_SETTINGS = "monitoring.settings"
MONITORING_MODEL_URI = "monitoring.model_uri"  # the version a window watched, as a loadable URI

# On tuning runs: the Optuna study a run belongs to, and each trial's number and state.
OPTUNA_STUDY = "optuna.study"
OPTUNA_ROLE = "optuna.role"  # `study` on the parent run
OPTUNA_TRIAL_NUMBER = "optuna.trial_number"
OPTUNA_STATE = "optuna.state"
