"""The governance audit trail: one MLflow run per review, promotion, refusal, rollback and registration,
in the experiment `<MODEL>-governance`.

Each entry is stored as run params, which MLflow never lets change once logged: the trail is
append-only. Runs deleted in the UI are still read (ViewType.ALL) and shown as deleted, never trusted.
"""

from __future__ import annotations

import getpass
import os
from datetime import datetime, timezone

from pipelines.gates.promotion import AuditRecord
from pipelines.tracking import Tracker

USER_ENV = "CREDITFLOW_USER"


def governance_experiment(model: str) -> str:
    return f"{model}-governance"


def current_user() -> str:
    """Who is acting: $CREDITFLOW_USER (set it to the person's directory login on shared machines and CI),
    else the operating-system user."""
    name = os.environ.get(USER_ENV, "").strip()
    if name:
        return name
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


def now_iso() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="microseconds")


def record(tracker: Tracker, entry: AuditRecord) -> str:
    """Append one entry; return its run id. On a team server the server writes its own audit row, keyed on
    the authenticated user, for every registry change: the client records nothing."""
    if tracker.team is not None:
        return ""
    name = f"{entry.action}-{entry.version}-{entry.outcome}"
    return tracker.log_record(governance_experiment(entry.model), name, entry.params())


def read_trail(tracker: Tracker, model: str) -> list[AuditRecord]:
    """Every entry of a model's trail, oldest first (by recorded time, microseconds); the server's audit log
    on a team server."""
    if tracker.team is not None:
        return tracker.team.trail(model)
    entries = [AuditRecord.from_params(p) for p in tracker.records(governance_experiment(model))]
    return sorted(entries, key=lambda e: e.time)
