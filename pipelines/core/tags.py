"""The registry vocabulary (DESIGN.md): tag names on a model version and the aliases creditflow moves.

Shared by the gates, registration, governance, status and monitoring; the names are read by reviewers in
the MLflow UI, so they change only with reason. VOCABULARY, at the end, says where each one lives and what it
means: docs/tags.md is rendered from it (`python -m tests.test_tags`), and tests/test_tags.py checks that every
name here is in it and that no other module spells a tag name out.
"""

from __future__ import annotations

from typing import Literal

# validation.<gate>: one per registered gate (pipelines/gates/registry.py), holding its status.
VALIDATION_PREFIX = "validation."
PASSED, FAILED, NOT_ASSESSED, WARN = "passed", "failed", "not_assessed", "warn"  # a gate's verdicts
# The governed policy the gates were judged under: evidence (in the digest), not verdicts.
POLICY = "validation.policy"
POLICY_DIGEST = "validation.policy_digest"
POLICY_TAGS = (POLICY, POLICY_DIGEST)
# Who computed the evidence and when (`creditflow validate`): evidence, not verdicts.
VALIDATOR = "validation.validator"
VALIDATION_TIME = "validation.time"
# The run holding the validator's review page (team mode: the server freezes it when the validation is recorded).
REVIEW_RUN = "validation.review_run"
# Written by the validator when the policy sets validation.reproduce: the retrained model's holdout PDs match the
# registered model's (passed) or not (failed); promotion treats it like a gate's verdict.
REPRODUCIBILITY = "validation.reproducibility"
NOT_VERDICTS = (*POLICY_TAGS, VALIDATOR, VALIDATION_TIME, REVIEW_RUN)  # validation.* tags that are no gate's verdict

# What the author's own run reported, kept beside the validator's numbers once a version is validated: author.<gate>
# (a verdict) and author.policy_digest. Reported, never trusted (not part of the evidence digest).
AUTHOR_PREFIX = "author."
AUTHOR_POLICY, AUTHOR_POLICY_DIGEST = "author.policy", "author.policy_digest"  # the policy the author's run named


def author_tag(name: str) -> str:
    """`fairness` -> `author.fairness`."""
    return f"{AUTHOR_PREFIX}{name}"


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

# The audit trail's newest record when the last governance action was recorded: "<seq> <digest> <first digest>",
# on the registered model and on the version acted on, so that removing the newest records is noticed.
AUDIT_HEAD = "audit.head"

REGISTRATION_STATUS = "registration.status"  # `abandoned` when the registering process died before recording it
ABANDONED = "abandoned"

MONITORING_PREFIX = "monitoring."  # on a version: written by `creditflow monitor` (risk or the validator in team mode)
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
# MLflow 3's experiment type: the UI opens a model-development experiment on its runs, not its GenAI view (traces)
EXPERIMENT_KIND = "mlflow.experimentKind"
MODEL_DEVELOPMENT = "custom_model_development"

# Tags a client may not set freely on a team server: evidence, lineage, approvals and exceptions.
MONITORING_DESCRIPTION = "Monitoring:"  # the version description's paragraph that monitoring owns
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

Scope = Literal["version", "registered model", "run", "alias", "experiment"]

# Every name above, where it lives and what it means, as docs/tags.md shows it. `<gate>` is a gate's short name
# (gate_name), `<field>` one of EXCEPTION_FIELDS.
VOCABULARY: tuple[tuple[str, Scope, str], ...] = (
    (
        f"{VALIDATION_PREFIX}<gate>",
        "version",
        f"a gate's verdict ({PASSED}, {FAILED}, {NOT_ASSESSED} or {WARN}), one per registered gate "
        "(pipelines/gates/registry.py), written with the version",
    ),
    (POLICY, "version", "the governed policy the gates judged under, as name and version"),
    (
        REPRODUCIBILITY,
        "version",
        f"{PASSED} or {FAILED}: the validator retrained from the recorded spec, seed and data (policy "
        "validation.reproduce) and compared holdout PDs (max absolute difference at most 1e-6); "
        f"{NOT_ASSESSED} when a later validation under a policy that does not reproduce replaced that verdict",
    ),
    (POLICY_DIGEST, "version", "sha256 of that policy as written (canonical JSON): evidence, not a verdict"),
    (VALIDATOR, "version", "who computed the validation.* evidence (creditflow validate): the acting validator"),
    (VALIDATION_TIME, "version", "when the validator computed it (UTC, ISO 8601)"),
    (REVIEW_RUN, "version", "the run holding the validator's review page (frozen by a team server once recorded)"),
    (
        f"{AUTHOR_PREFIX}<gate>",
        "version",
        "what the author's own run reported for a gate (and author.policy, author.policy_digest), kept when the "
        "version is validated: shown beside the validator's verdicts, never trusted",
    ),
    (AUTHOR_POLICY, "version", "the policy the author's run named (team mode: registered as such, never trusted)"),
    (AUTHOR_POLICY_DIGEST, "version", "the digest of that policy as the author's run read it"),
    (
        f"{EXCEPTION_PREFIX}<gate>.<field>",
        "version",
        f"an accepted, time-limited exception to one failed or not-assessed gate, one tag per field "
        f"({', '.join(EXCEPTION_FIELDS)}): who granted it, why, until when (through that day, UTC), the evidence "
        "digest it excuses and the less-discriminatory alternative it was weighed against",
    ),
    (APPROVAL_STATUS, "version", "the review: pending at registration, then approved or rejected"),
    (APPROVAL_REVIEWER, "version", "who reviewed: the acting user"),
    (APPROVAL_COMMENT, "version", "the reviewer's comment"),
    (APPROVAL_TIME, "version", "when the review was recorded (UTC, ISO 8601)"),
    (APPROVAL_EVIDENCE, "version", "digest of the evidence the approval vouches for"),
    (DATA_DIGEST, "version", "sha256 of the whole data file the version was trained on"),
    (SPEC_DIGEST, "version", "sha256 of the spec file"),
    (GIT_COMMIT, "version", "the code's commit, with -dirty when tracked files differed; unknown outside git"),
    (RUN_ID, "version", "the run the version was registered from"),
    (AUTHOR, "version", "who ran the pipeline ($CREDITFLOW_USER, else the OS user; the login on a team server)"),
    (MODEL_SHA256, "version", "tree hash of the logged model's files, checked before promotion and serving"),
    (
        AUDIT_HEAD,
        "version",
        "the audit trail's newest record (sequence number, digest, and the digest of the trail's first record) "
        "when an action on this version was recorded: a trail without it was shortened",
    ),
    (REGISTRATION_STATUS, "version", f"{ABANDONED} when the registering process died before recording it"),
    (
        MONITORING_STATUS,
        "version",
        "the verdict of the latest monitored window: ok, warn or alert (on a team server only risk or the validator "
        "writes monitoring.* on a version)",
    ),
    (MONITORING_LAST_WINDOW, "version", "the label of the latest monitored window"),
    (MODEL_PREDICTS, "registered model", "what the model predicts: probability_of_default"),
    (MODEL_TARGET, "registered model", "the spec's target column"),
    (MODEL_POSITIVE, "registered model", "the target's positive (default) label or labels"),
    (MODEL_SPEC, "registered model", "the file name of the spec it is built from"),
    (MODEL_POLICY, "registered model", "the policy its gates judge under"),
    (MODEL_BUILT_BY, "registered model", "creditflow"),
    (
        AUDIT_HEAD,
        "registered model",
        "the audit trail's newest record when the last governance action was recorded (as on a version)",
    ),
    (
        EXPERIMENT_KIND,
        "experiment",
        f"{MODEL_DEVELOPMENT} on every experiment creditflow creates, so the MLflow UI opens it on its training "
        "runs (MLflow 3 otherwise may open its GenAI view)",
    ),
    (
        OWNER,
        "run",
        "pid@host/start of the process that owns the run, so the next command can close it if that "
        "process died (also on Optuna trials, as a user attribute)",
    ),
    (MONITORING_MODEL, "run", "on a monitoring run: the registered model watched"),
    (MONITORING_VERSION, "run", "on a monitoring run: the version watched"),
    (MONITORING_WINDOW, "run", "on a window run: the window's label (YYYY-MM, or --window)"),
    (MONITORING_WINDOWS, "run", "on a history run: the windows it covers, comma-separated"),
    (MONITORING_ROLE, "run", "window or history"),
    (MONITORING_STATUS, "run", "on a window run: the window's verdict (ok, warn or alert)"),
    (MONITORING_COMPLETE, "run", "true once a window's run logged everything"),
    (MONITORING_STEP, "run", "months since the reference's first month: the window's step on the trend charts"),
    (MONITORING_SETTINGS, "run", "the spec's monitoring settings the window was judged with, as JSON"),
    (MONITORING_MODEL_URI, "run", "the version a window watched, as a loadable URI (models:/NAME/VERSION)"),
    (OPTUNA_STUDY, "run", "the Optuna study a tuning run (the study's parent run or a trial run) belongs to"),
    (OPTUNA_ROLE, "run", "study, on the study's parent run"),
    (OPTUNA_TRIAL_NUMBER, "run", "on a trial run: the trial's number"),
    (OPTUNA_STATE, "run", "on a trial run: the trial's final state (COMPLETE, PRUNED or FAIL)"),
    (CHAMPION, "alias", "the version that serves decisions; only promote moves it, to a version that meets every rule"),
    (PREVIOUS, "alias", "the champion before the last promotion; rollback moves champion back to it and removes it"),
)
