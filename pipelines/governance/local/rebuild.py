"""`creditflow audit rebuild` on a workbench's store: re-establish what a model's local trail lost.

A rebuild is itself recorded (a `rebuild` record naming the acting user and what it did), and never
papers over a broken chain: a forged, edited or fork record is for a person to look at (delete the forged
run, restore a deleted one); `--new-trail` then starts a fresh trail and keeps the old one, renamed. What a
rebuild does, in order:
1. a deleted `<MODEL>-governance` experiment is restored;
2. versions registered before content-bound evidence get their `lineage.model_sha256`, if their run still
   matches their tags (their approvals vouched for evidence without it: review and promote them again);
3. records written before the hash chain are appended again as chained records (`restored_from` names the
   original run, `restored_time` its time) and the originals are deleted (restorable in MLflow);
4. records whose fields cannot be read back (an approval field cut short by a version that truncated long text)
   are set aside: the rebuild record names their digests, and the trail reads them as the text they hold, never
   rolling a review forward from them (review such a version again);
5. a version without a registration record, whose run finished and still matches its tags and whose files
   hash to its `lineage.model_sha256`, gets one (outcome `rebuilt`). Abandoned registrations stay abandoned.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timezone

import click

from features.errors import CreditflowError, Refused
from pipelines.core import tags
from pipelines.core.clock import now_iso
from pipelines.core.records import AuditRecord, VersionInfo
from pipelines.core.trail import Trail
from pipelines.governance.evidence_check import run_problems, version_files
from pipelines.governance.local.audit_trail import governance_experiment, load_trail, record
from pipelines.governance.rules.identity import name_problem
from pipelines.governance.rules.promotion import abandoned, evidence_digest, registered_evidence
from pipelines.tracking import Tracker


def rebuild(tracker: Tracker, model: str, *, new_trail: bool, actor: str) -> None:
    """Re-establish what the local trail lost (the steps above), recorded as a rebuild by `actor`."""
    if name_problem(actor):
        raise CreditflowError(f"acting user {actor!r} {name_problem(actor)}: set CREDITFLOW_USER")
    tracker.model_versions(model)  # unknown model: exit 2
    with tracker.registry_lock(model):
        done = _prepare_experiment(tracker, model, new_trail)
        trail = load_trail(tracker, model)
        if trail.broken:
            raise Refused(
                f"the hash chain of {model} is broken: {trail.broken[0]}; a rebuild does not paper over it: delete a "
                "forged run or restore a deleted one (mlflow runs delete/restore), or start a new trail with "
                "--new-trail (the old one is kept, renamed)"
            )
        versions = tracker.model_versions(model)
        hashed = _record_model_hashes(tracker, versions, trail)
        done += [f"recorded lineage.model_sha256 of version {v}" for v in hashed]
        done += [f"anchored {len(trail.legacy)} record(s) written before the hash chain"] if trail.legacy else []
        done += [f"set aside {what}" for what in trail.malformed.values()]
        lost = [v for v in tracker.model_versions(model) if _lost(v, trail)]
        if not done and not lost:
            click.echo(f"audit trail of {model}: nothing to rebuild")
            return
        missing = [f"re-establishing the registration of version(s) {', '.join(v.version for v in lost)}"]
        reason = "; ".join(done + (missing if lost else []))
        repairs = ",".join(trail.malformed)
        record(tracker, AuditRecord("rebuild", model, "-", actor, now_iso(), "done", reason=reason, repairs=repairs))
        _anchor_legacy(tracker, model, trail, hashed)
        failed = _re_establish(tracker, lost, actor)
    for line in done:
        click.echo(f"rebuilt: {line}")
    if failed:
        raise Refused(f"{len(failed)} version(s) not re-established: {failed[0]}")


def _prepare_experiment(tracker: Tracker, model: str, new_trail: bool) -> list[str]:
    experiment = governance_experiment(model)
    state = tracker.experiment_state(experiment)
    if new_trail and state is not None:
        if state == "deleted":
            tracker.restore_experiment(experiment)
        kept = f"{experiment}-untrusted-{datetime.now(timezone.utc):%Y%m%dT%H%M%S}"
        tracker.rename_experiment(experiment, kept)
        return [f"started a new trail; the old one is kept as experiment {kept}"]
    if state == "deleted":
        tracker.restore_experiment(experiment)
        return [f"restored the deleted experiment {experiment}"]
    return []


def _record_model_hashes(tracker: Tracker, versions: list[VersionInfo], trail: Trail) -> dict[str, str]:
    """Set `lineage.model_sha256` on versions registered before it existed whose run still matches; version ->
    the evidence digest they had without it."""
    before = {}
    for version in versions:
        if version.tags.get(tags.MODEL_SHA256) or _is_abandoned(version, trail) or run_problems(tracker, version):
            continue
        before[version.version] = evidence_digest(version)
        tracker.set_version_tags(
            version.name, version.version, {tags.MODEL_SHA256: version_files(tracker, version).sha256}
        )
    return before


def _anchor_legacy(tracker: Tracker, model: str, trail: Trail, hashed: dict[str, str]) -> None:
    """Append each record written before the chain as a chained copy, then delete the original."""
    current = {v.version: evidence_digest(v) for v in tracker.model_versions(model)}
    for old in trail.legacy:
        evidence = old.evidence
        if old.action == "register" and hashed.get(old.version) == old.evidence:
            evidence = current[old.version]  # the same evidence, now with the model hash recorded
        copy = replace(
            old, time=now_iso(), evidence=evidence, restored_from=old.run_id, restored_time=old.time,
            seq="", prev="", digest="", run_id="", stored_ms=0,
        )  # fmt: skip
        record(tracker, copy)
        tracker.delete_run(old.run_id)


def _lost(version: VersionInfo, trail: Trail) -> bool:
    """A version whose registration record is missing from both the chain and the records being anchored."""
    if _is_abandoned(version, trail):
        return False
    return registered_evidence(trail.records, version.version) is None


def _re_establish(tracker: Tracker, lost: list[VersionInfo], actor: str) -> list[str]:
    failed = []
    for version in lost:
        problems = run_problems(tracker, version)
        state = tracker.run_state(version.run_id) if version.run_id else None
        if state is not None and state[0] != "FINISHED":
            problems.append(f"version {version.version}: its run ended {state[0]}, not FINISHED")
        files = version_files(tracker, version)
        if files.sha256 != version.tags.get(tags.MODEL_SHA256) or files.problems:
            problems.append(f"version {version.version}: its model files do not match {tags.MODEL_SHA256}")
        if problems:
            failed += problems
            click.echo(f"not re-established: {'; '.join(problems)}")
            continue
        reason = f"re-established by {actor}: run {version.run_id} and the model files match the version's tags"
        entry = AuditRecord(
            "register", version.name, version.version, actor, now_iso(), "rebuilt", reason=reason,
            evidence=evidence_digest(version),
        )  # fmt: skip
        record(tracker, entry)
        click.echo(f"rebuilt: registration record of version {version.version}")
    return failed


def _is_abandoned(version: VersionInfo, trail: Trail) -> bool:
    return bool(abandoned(trail.records, version.version)) or (
        version.tags.get(tags.REGISTRATION_STATUS) == tags.ABANDONED
    )
