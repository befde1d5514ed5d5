"""The governance audit trail: one MLflow run per registration, review, promotion, refusal, rollback,
abandoned registration and rebuild, in the experiment `<MODEL>-governance`, hash-chained.

Each entry is stored as run params, which MLflow never lets change once logged, and carries the
digest of the entry before it (pipelines/gates/chain.py): the trail is read in chain order, and an
entry inserted into the past, removed from the middle, edited, dated in the future or backdated makes
it untrusted. Entries are appended under the model's registry lock, so two commands never both
extend the same head. Runs deleted in the UI are shown as deleted and left out of the chain.
"""

from __future__ import annotations

import datetime as dt
import getpass
import os
from dataclasses import dataclass, field
from datetime import datetime, timezone

from features.errors import Refused
from pipelines.gates.chain import Link, seal, verify_chain
from pipelines.gates.promotion import AuditRecord
from pipelines.tracking import Tracker
from pipelines.tracking.common import StoredRun

USER_ENV = "CREDITFLOW_USER"
MAX_FIELD_CHARS = 6000  # an MLflow param value's limit: a record is sealed as it will be stored


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


def acting_user(tracker: Tracker) -> str:
    """The one identity rule: on a team server the authenticated user, else `current_user()`."""
    return tracker.team.user if tracker.team is not None else current_user()


def now_iso() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="microseconds")


def today() -> dt.date:
    """Today in UTC: exceptions are valid through their expiry day."""
    return dt.datetime.now(dt.timezone.utc).date()


@dataclass
class Trail:
    """A model's trail as read: records in chain order, what breaks it, and what was deleted in the UI."""

    model: str
    records: list[AuditRecord] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    deleted: list[AuditRecord] = field(default_factory=list)
    head: dict[str, str] | None = None  # the record a new one follows
    experiment: str | None = "active"  # 'active', 'deleted' or None (no trail yet)
    legacy: list[AuditRecord] = field(default_factory=list)  # live records without chain fields
    broken: list[str] = field(default_factory=list)  # problems of the chained records alone

    @property
    def trusted(self) -> bool:
        return not self.problems

    def refusal(self) -> Refused:
        return Refused(f"the audit trail of {self.model} is untrusted: {self.problems[0]}")


def load_trail(tracker: Tracker, model: str, now: datetime | None = None) -> Trail:
    """Read and verify a model's trail: on a team server, the model's rows of the server's audit log, which
    the server verifies as one chain (pipelines/server/chain.py, the same record format)."""
    if tracker.team is not None:
        records, problems = tracker.team.trail(model)
        return Trail(model, records=records, problems=problems)
    experiment = governance_experiment(model)
    state = tracker.experiment_state(experiment)
    stored = tracker.records(experiment)
    live = [s for s in stored if not s.deleted]
    removed = {
        s.params["digest"]: f"run {s.run_id} holding it was deleted in the MLflow UI: mlflow runs restore "
        f"--run-id {s.run_id} brings it back"
        for s in stored
        if s.deleted and s.params.get("digest")
    }
    verdict = verify_chain([_link(s) for s in live], now or datetime.now(timezone.utc), removed)
    by_run = {f"run {s.run_id}": s for s in live}
    trail = Trail(
        model,
        records=[_record(by_run[link.ref]) for link in verdict.order],
        problems=list(verdict.problems),
        deleted=[_record(s) for s in stored if s.deleted],
        head=dict(verdict.head.fields) if verdict.head else None,
        experiment=state,
        legacy=[_record(by_run[link.ref]) for link in verdict.unchained],
        broken=verdict.broken,
    )
    if state == "deleted":
        trail.problems.insert(
            0,
            f"experiment {experiment} was deleted: creditflow audit rebuild {model} restores it "
            "(or mlflow experiments restore)",
        )
    return trail


def read_trail(tracker: Tracker, model: str) -> list[AuditRecord]:
    """Every live entry of a model's trail, in chain order."""
    return load_trail(tracker, model).records


def record(tracker: Tracker, entry: AuditRecord) -> AuditRecord:
    """Append one entry after the trail's head, under the model's lock; the entry as stored. On a team server
    the server writes its own audit row, keyed on the authenticated user, for every registry change: the
    client records nothing."""
    if tracker.team is not None:
        return entry
    with tracker.registry_lock(entry.model):
        trail = load_trail(tracker, entry.model)
        if trail.experiment == "deleted":
            raise trail.refusal()
        values = {k: v[:MAX_FIELD_CHARS] for k, v in entry.params().items()}
        sealed = seal(values, trail.head)
        run_id = tracker.log_record(
            governance_experiment(entry.model), f"{entry.action}-{entry.version}-{entry.outcome}", sealed
        )
    return AuditRecord.from_params({**sealed, "_run_id": run_id})


def _record(stored: StoredRun) -> AuditRecord:
    meta = {"_run_id": stored.run_id, "_start_ms": str(stored.start_ms), "_deleted": str(stored.deleted)}
    return AuditRecord.from_params({**stored.params, **meta})


def _link(stored: StoredRun) -> Link:
    params = stored.params
    label = f"{params.get('action', '?')} of version {params.get('version', '?')}"
    when = datetime.fromtimestamp(stored.start_ms / 1000, tz=timezone.utc) if stored.start_ms else None
    return Link(f"run {stored.run_id}", label, params, _parse_time(params.get("time", "")), when)


def _parse_time(text: str) -> datetime | None:
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)
