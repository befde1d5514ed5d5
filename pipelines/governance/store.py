"""The governance store: where a model's audit trail lives, who is acting, and how approvals, exceptions and the
`champion` alias change. One port with two backends, chosen once by `open_store` (as MLflow's AbstractStore has
SqlAlchemyStore and RestStore, and Optuna's BaseStorage has `get_storage`):

- governance/local/ (a workbench): the trail is hash-chained MLflow runs, the lock a registered model
  `<MODEL>.lock`, the acting user $CREDITFLOW_USER (else the OS user); this process applies the rules;
- governance/remote/ (a creditflow team server): the server authenticates the user, applies the rules in its
  gate and writes its append-only audit table; the client asks and reports.

What every backend guarantees, and every caller relies on:
- identity: `acting_user()` is whom every record of this store names; no command takes a name from its caller;
- ordering: `trail(model)` lists records in hash-chain order, never by the time a record claims; a broken or
  truncated chain is in `Trail.problems`, and nothing is recorded on an untrusted trail;
- locking: `lock(model)` excludes every other creditflow process changing that model's approvals, exceptions,
  aliases or trail (re-entrant within one store); `review`, `promote`, `rollback` and `append` take it
  themselves and re-read what they judge inside it, so none acts on a stale view;
- append-only: `append` adds one record after the head; nothing is edited or removed;
- refusals: bad input raises CreditflowError before anything is written (exit 2); a rule that says no is
  recorded, then raises Refused (exit 1).
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from pathlib import Path
from typing import Protocol

from features.policy import PolicyStore
from pipelines.core.records import AuditRecord, VersionInfo
from pipelines.core.trail import Trail
from pipelines.governance.local.store import LocalStore
from pipelines.governance.remote.client import team_session
from pipelines.governance.remote.store import RemoteStore
from pipelines.governance.rules.exceptions import ExceptionRequest
from pipelines.governance.status import AuditLog
from pipelines.tracking import Tracker, connect

__all__ = ["GovernanceStore", "open_store", "store_of"]


class GovernanceStore(Protocol):
    tracker: Tracker  # the registry the versions and aliases live in
    # a team server: its validator writes the evidence (validation.*, lineage.model_sha256, the review page); the
    # author's run registers its own verdicts as author.* only
    validated_by_server: bool

    def acting_user(self) -> str: ...

    def identity_rule(self) -> str:
        """How the acting user is established, for messages."""
        ...

    def monitoring_problems(self) -> list[str]:
        """Why the acting user may not record a version's monitoring (nothing on a workbench)."""
        ...

    def trail(self, model: str) -> Trail: ...

    def settled_trail(self, model: str) -> Trail:
        """The trail after finishing what dead processes left half-done (said on stderr)."""
        ...

    def lock(self, model: str) -> AbstractContextManager[None]: ...

    def append(self, entry: AuditRecord) -> AuditRecord: ...

    def record_ui_decisions(self, model: str, versions: list[VersionInfo]) -> list[str]:
        """Record decisions made in the MLflow UI that no review recorded; one line each."""
        ...

    def review(self, model: str, version: str, *, approve: bool, comment: str, new_review: bool) -> None: ...

    def promote(self, model: str, version: str) -> None: ...

    def rollback(self, model: str, reason: str) -> None: ...

    def grant_exception(self, version: VersionInfo, request: ExceptionRequest) -> None:
        """Record a checked exception; the caller holds the model's lock."""
        ...

    def audit_log(self, model: str) -> AuditLog: ...

    def policies(self, spec_dir: Path | None = None) -> PolicyStore:
        """The governed policies: the project's policy folder (beside the spec, or $CREDITFLOW_POLICY_DIR) on a
        workbench, the server's policy store on a team server."""
        ...

    def rebuild(self, model: str, *, new_trail: bool) -> None: ...


def open_store(tracking_uri: str | None) -> GovernanceStore:
    """The governance store of a tracking URI (its HTTP server, if any, answered)."""
    return store_of(connect(tracking_uri))


def store_of(tracker: Tracker) -> GovernanceStore:
    """The one place that tells a workbench from a team server: an HTTP tracking server that answers creditflow's
    `whoami` is a team server (wrong credentials are refused here, in one line); anything else is a workbench."""
    session = team_session(tracker.uri) if tracker.uri.startswith(("http://", "https://")) else None
    return RemoteStore(tracker, session) if session is not None else LocalStore(tracker)
