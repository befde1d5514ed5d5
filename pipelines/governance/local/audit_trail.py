"""The local governance audit trail: one MLflow run per registration, review, promotion, refusal, rollback,
abandoned registration and rebuild, in the experiment `<MODEL>-governance`, hash-chained.

Each entry is stored as run params, which MLflow never lets change once logged, and carries the
digest of the entry before it (pipelines/governance/rules/chain.py): the trail is read in chain order, and an
entry inserted into the past, removed from the middle, edited, dated in the future or backdated makes
it untrusted. Entries are appended under the model's registry lock, so two commands never both
extend the same head. Runs deleted in the UI are shown as deleted and left out of the chain.
"""

from __future__ import annotations

from datetime import datetime, timezone

from features.errors import CreditflowError
from pipelines.core.clock import parse_time
from pipelines.core.free_text import text_problem
from pipelines.core.records import AuditRecord, field_problems
from pipelines.core.trail import Trail
from pipelines.governance.local.anchor import anchor_problems, first_digest, write_anchor
from pipelines.governance.rules.chain import Link, seal, verify_chain
from pipelines.tracking import Tracker
from pipelines.tracking.common import StoredRun

MAX_FIELD_CHARS = 6000  # an MLflow param value's limit: a record that does not fit is refused, never cut


def governance_experiment(model: str) -> str:
    return f"{model}-governance"


def load_trail(tracker: Tracker, model: str, *, now: datetime | None = None) -> Trail:
    """Read and verify a model's trail (the team server's trail is the same record format in its audit table,
    verified by the server: pipelines/server/audit_chain.py)."""
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
    verdict = verify_chain([_link(s) for s in live], now or datetime.now(timezone.utc), removed=removed)
    by_run = {f"run {s.run_id}": s for s in live}
    malformed = unread_records(verdict.order)
    trail = Trail(
        model,
        records=[_record(by_run[link.ref]) for link in verdict.order],
        problems=list(verdict.problems)
        + [
            f"{what}: creditflow audit rebuild {model} sets it aside (a recorded rebuild)"
            for what in malformed.values()
        ],
        deleted=[_record(s) for s in stored if s.deleted],
        head=dict(verdict.head.fields) if verdict.head else None,
        experiment=state,
        legacy=[_record(by_run[link.ref]) for link in verdict.unchained],
        broken=verdict.broken,
        malformed=malformed,
    )
    trail.problems += anchor_problems(tracker, model, trail)
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
    """Append one entry after the trail's head, under the model's lock; the entry as stored."""
    with tracker.registry_lock(entry.model):
        trail = load_trail(tracker, entry.model)
        if trail.experiment == "deleted":
            raise trail.refusal()
        sealed = seal(storable(entry), trail.head)
        run_id = tracker.log_record(
            governance_experiment(entry.model), f"{entry.action}-{entry.version}-{entry.outcome}", sealed
        )
        stored = AuditRecord.from_params({**sealed, "_run_id": run_id})
        write_anchor(tracker, stored, first_digest(trail.records))
    return stored


def unread_records(order: list[Link]) -> dict[str, str]:
    """Chained records whose fields cannot be read back (digest -> what is wrong, naming the record), except those a
    later `rebuild` record set aside (its `repairs` field names their digests)."""
    repaired = {d for link in order if link.fields.get("action") == "rebuild" for d in _digests(link)}
    found = {}
    for link in order:
        problems = field_problems(link.fields)
        digest = link.fields.get("digest", "")
        if problems and digest not in repaired:
            found[digest] = f"{link.name()} is malformed: {'; '.join(problems)}"
    return found


def _digests(link: Link) -> list[str]:
    return [d for d in link.fields.get("repairs", "").split(",") if d]


def storable(entry: AuditRecord) -> dict[str, str]:
    """The entry's fields as they will be stored, or a CreditflowError naming the field that cannot be (too long
    for an MLflow param, or not storable text): a record is refused whole, never cut to fit (a cut approval field
    is JSON nobody can read back)."""
    values = entry.params()
    for key, value in values.items():
        problem = text_problem(f"the {key} field of this {entry.action} record", value, limit=MAX_FIELD_CHARS)
        if problem:
            raise CreditflowError(f"{problem}; nothing was recorded")
    return values


def _record(stored: StoredRun) -> AuditRecord:
    meta = {"_run_id": stored.run_id, "_start_ms": str(stored.start_ms), "_deleted": str(stored.deleted)}
    return AuditRecord.from_params({**stored.params, **meta})


def _link(stored: StoredRun) -> Link:
    params = stored.params
    label = f"{params.get('action', '?')} of version {params.get('version', '?')}"
    when = datetime.fromtimestamp(stored.start_ms / 1000, tz=timezone.utc) if stored.start_ms else None
    return Link(f"run {stored.run_id}", label, params, parse_time(params.get("time", "")), when)
