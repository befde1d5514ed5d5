"""Whether a version's evidence still stands: its registration record, its tags against its training run, and
its model files against `lineage.model_sha256`. Used by `creditflow audit verify` (report) and `audit
rebuild` (re-establish a lost registration record only for a version that passes)."""

from __future__ import annotations

import json

from pipelines.core import tags
from pipelines.core.records import AuditRecord, FilesCheck, VersionInfo
from pipelines.gates.registry import gate_names
from pipelines.governance.rules.promotion import abandoned, evidence_digest, files_problems, registered_evidence
from pipelines.governance.rules.recorded_decisions import approval_mismatch
from pipelines.tracking import Tracker
from pipelines.tracking.model_files import model_files_check

# lineage tags that `run` writes on the training run too; the model hash is checked against the files instead
RUN_LINEAGE = (tags.DATA_DIGEST, tags.SPEC_DIGEST, tags.GIT_COMMIT, tags.RUN_ID, tags.AUTHOR)
SUMMARY = "evaluation/summary.json"


def run_problems(tracker: Tracker, version: VersionInfo) -> list[str]:
    """Where the version's tags disagree with the run that made it (lineage tags, gate verdicts: the author's
    `author.*` once a validator recomputed `validation.*`, whose digest the trail's `validate` record holds)."""
    where = f"version {version.version}"
    if not version.run_id:
        return [f"{where} names no training run"]
    run_tags = tracker.run_tags(version.run_id)
    if run_tags is None:
        return [f"{where}: its training run {version.run_id} is gone"]
    problems = []
    if version.tags.get(tags.RUN_ID) != version.run_id:
        problems.append(f"{where}: {tags.RUN_ID} is not the run it was registered from ({version.run_id})")
    for key in RUN_LINEAGE:
        if key in run_tags and run_tags[key] != version.tags.get(key):
            problems.append(f"{where}: {key} differs from its run's ({run_tags[key]!r})")
    summary = tracker.read_text(version.run_id, SUMMARY)
    verdicts = json.loads(summary) if summary else {}
    # the run's verdicts are the author's: kept as author.* once validated (a team server registers them so)
    authors = tags.VALIDATOR in version.tags or any(k.startswith(tags.AUTHOR_PREFIX) for k in version.tags)
    for field in gate_names():  # the run's summary holds each gate's verdict under its name
        gate = tags.author_tag(field) if authors else f"{tags.VALIDATION_PREFIX}{field}"
        if field in verdicts and verdicts[field] != version.tags.get(gate):
            problems.append(f"{where}: {gate} is {version.tags.get(gate)!r}, its run judged {verdicts[field]!r}")
    if not verdicts:
        problems.append(f"{where}: its run holds no {SUMMARY} to check the gates against")
    return problems


def half_written_approval(version: VersionInfo, trail: list[AuditRecord]) -> list[str]:
    """A decision whose tags and audit row disagree (a team server stopped between its row and the tags, or an older
    server stopped between MLflow's status tag and its own half): not a decision anyone can rely on."""
    return approval_mismatch(version, trail)


def version_files(tracker: Tracker, version: VersionInfo) -> FilesCheck:
    return model_files_check(tracker, version.source)


def version_problems(tracker: Tracker, version: VersionInfo, trail: list[AuditRecord]) -> list[str]:
    """Everything wrong with one version's evidence (an abandoned registration is not evidence: skipped)."""
    if abandoned(trail, version.version) or version.tags.get(tags.REGISTRATION_STATUS) == tags.ABANDONED:
        return []
    problems = []
    registered = registered_evidence(trail, version.version)
    if registered is None:
        problems.append(f"version {version.version} has no registration record")
    elif registered != evidence_digest(version):
        problems.append(
            f"version {version.version}: its evidence changed since registration (validation.*/lineage.* tags "
            "or model source)"
        )
    problems += files_problems(version, version_files(tracker, version))
    return problems + run_problems(tracker, version)
