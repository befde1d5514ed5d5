"""A review decision on the team server: one commit point, the audit row, with the tags as its projection.

MLflow's tracking database and the governance database cannot share a transaction, so the gate carries out an
`approval.*` tag write itself (as it moves `champion`, pipelines/server/promotion.py) instead of letting MLflow's
handler write the tag before the server's half and its row:

1. the audit row is appended with everything the tags will say (status, reviewer, time, comment, evidence);
2. then the tags are written, `approval.status` last, and an approved version's run is frozen.

Killed before 1: nothing happened. Killed after 1: the row is the decision; `status` and `audit verify` name the
tags that do not say it yet, and `audit rebuild` (`rebuild` below) writes them from the trail. The same rebuild
repairs what an older server left (an `approval.status` tag no row records): the undecided state again.
"""

from __future__ import annotations

import logging
import os
import signal

from pipelines.core import tags
from pipelines.core.clock import now_iso
from pipelines.core.decisions import APPROVED
from pipelines.governance.rules import permissions as rules
from pipelines.governance.rules.promotion import approval_fingerprint_of, evidence_digest
from pipelines.governance.rules.recorded_decisions import approval_projection
from pipelines.server.services import Pending, Services

log = logging.getLogger(__name__)
# test-only: a point at which the server process group is killed (set in the server's environment by a test that
# starts the server; a request cannot set it). Points: decision-before-row, decision-after-row.
FAULT_ENV = "CREDITFLOW_TEST_FAULT"
REBUILDERS = (rules.REVIEWER, rules.ADMIN)


def crash_point(name: str) -> None:
    """Die here, as a killed server would (its whole process group), when the test fault names this point."""
    if os.environ.get(FAULT_ENV) == name:
        log.error("creditflow: test fault %s: the server stops here", name)
        os.killpg(os.getpgid(0), signal.SIGKILL)


def decide(services: Services, pending: Pending) -> None:
    """Carry out an allowed `approval.*` tag write: the row, then the tags (the caller holds the model's lock)."""
    version = services.registry.version(pending.model, pending.version)
    assert version is not None  # the rules judged it
    value = str(pending.body.get("value", ""))
    writes = {pending.target: value}
    if pending.target == tags.APPROVAL_STATUS:
        writes = {
            tags.APPROVAL_REVIEWER: pending.actor.name,
            tags.APPROVAL_TIME: now_iso(),
            tags.APPROVAL_EVIDENCE: evidence_digest(version),
            tags.APPROVAL_STATUS: value,  # last: a status is never written before the server's half
        }
    pending.action = "review"
    detail = {"evidence": evidence_digest(version), "approval": approval_fingerprint_of({**version.tags, **writes})}
    crash_point("decision-before-row")
    services.audit(pending, "allowed", f"{pending.target}={value}", detail=detail)
    crash_point("decision-after-row")
    services.registry.set_tags(pending.model, pending.version, writes)
    if writes.get(tags.APPROVAL_STATUS) == APPROVED and version.run_id:
        reason = f"run {version.run_id} is the evidence of {version.name} version {version.version}, approved"
        services.store.freeze("run", version.run_id, reason)


def rebuild_problems(actor: rules.Actor) -> list[str]:
    """Who may re-write approval tags from the trail: a reviewer or an admin. A rebuild only ever writes what a
    row records or the undecided state, so it cannot make a decision; it is kept to those who answer for decisions
    so that an author cannot clear a rejection a crashed server half-wrote on their own version."""
    if actor.role in REBUILDERS:
        return []
    return [f"{actor.name} ({actor.role or 'no role'}) may not rebuild decisions: reviewers and admins do"]


def rebuild(services: Services, pending: Pending) -> list[str]:
    """Make every version's approval tags say what the model's trail records; one line per repaired version, each
    also an audit row `rebuild` by the acting user (the caller holds the model's lock)."""
    trail = services.store.trail(pending.model)
    done = []
    for version in services.registry.versions(pending.model):
        projection = approval_projection(version, trail)
        if projection is None:
            continue
        before = version.tags.get(tags.APPROVAL_STATUS, "(none)")
        services.registry.set_tags(version.name, version.version, projection.set)
        services.registry.delete_tags(version.name, version.version, projection.delete)
        pending.version, pending.action, pending.target = version.version, "rebuild", tags.APPROVAL_STATUS
        said = projection.set.get(tags.APPROVAL_STATUS, "")
        line = f"version {version.version}: {tags.APPROVAL_STATUS} {before} -> {said}, as the audit trail records"
        services.audit(pending, "allowed", line, detail={"set": projection.set, "deleted": list(projection.delete)})
        done.append(line)
    return done
