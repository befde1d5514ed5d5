"""The local trail's head, anchored outside the trail: a shortened trail is noticed.

The hash chain proves that no record was removed from the middle (the next record names it), but not that the
newest ones are still there: deleting the last run (a rejection, a refusal) leaves a shorter, valid chain.
So every record appended also writes `audit.head` ("<seq> <digest> <first digest>") on the registered model
and on the version it is about. Reading the trail, each anchor of this trail (same first record) must name a
record the trail holds; otherwise the trail is untrusted, naming where the anchor is and, when the record's
run was only deleted, how to restore it. An anchor lagging behind (a kill between the record and its anchor)
names an older record, which the trail still holds: no problem. Anchors of an earlier trail (`audit rebuild
--new-trail` starts one) are left aside. Someone who may write tags can also reset every anchor: the local store
cannot stop that; a team server keeps its trail in a table only the server writes (README, "Audit trail and
recovery").
"""

from __future__ import annotations

from pipelines.core import tags
from pipelines.core.records import AuditRecord
from pipelines.core.trail import Trail
from pipelines.tracking import Tracker, UnknownModelError

__all__ = ["anchor_problems", "first_digest", "write_anchor"]


def first_digest(records: list[AuditRecord]) -> str:
    return next((r.digest for r in records if r.seq == "1"), "")


def write_anchor(tracker: Tracker, entry: AuditRecord, first: str) -> None:
    """Anchor `entry` (just appended) on the registered model and on its version."""
    value = f"{entry.seq} {entry.digest} {first or entry.digest}"
    try:
        tracker.set_model_tags(entry.model, {tags.AUDIT_HEAD: value})
        if entry.version.isdigit():
            tracker.set_version_tags(entry.model, entry.version, {tags.AUDIT_HEAD: value})
    except UnknownModelError:
        return  # a trail of a model no longer registered: nothing to anchor on


def anchor_problems(tracker: Tracker, model: str, trail: Trail) -> list[str]:
    """Each anchor of this trail that names a record the trail no longer holds."""
    first = first_digest(trail.records)
    if not first:
        return []
    held = {r.digest for r in trail.records}
    deleted = {r.digest: r.run_id for r in trail.deleted if r.digest}
    problems: dict[str, str] = {}
    for where, value in _anchors(tracker, model):
        seq, digest, anchored_first = (value.split(" ") + ["", "", ""])[:3]
        if anchored_first != first or digest in held or digest in problems:
            continue
        removed = (
            f"its run {deleted[digest]} was deleted in the MLflow UI: mlflow runs restore --run-id {deleted[digest]}"
            if digest in deleted
            else "it was removed"
        )
        problems[digest] = (
            f"the trail is shorter than its anchor: {tags.AUDIT_HEAD} on {where} names record {seq} "
            f"({digest[:12]}), which the trail no longer holds ({removed})"
        )
    return list(problems.values())


def _anchors(tracker: Tracker, model: str) -> list[tuple[str, str]]:
    try:
        _, model_tags = tracker.model_details(model)
        versions = tracker.model_versions(model)
    except UnknownModelError:
        return []
    found = [("the registered model", model_tags[tags.AUDIT_HEAD])] if tags.AUDIT_HEAD in model_tags else []
    return found + [(f"version {v.version}", v.tags[tags.AUDIT_HEAD]) for v in versions if tags.AUDIT_HEAD in v.tags]
