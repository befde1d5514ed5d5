"""The workbench backend of the governance store: the trail is hash-chained MLflow runs in `<MODEL>-governance`, the
lock is a registered model `<MODEL>.lock`, the acting user is $CREDITFLOW_USER (else the OS user), and this
process applies the rules itself. It records and detects; it cannot restrain its own user (README: local mode)."""

from __future__ import annotations

from contextlib import AbstractContextManager
from pathlib import Path

from features.policy import FolderPolicySource, PolicyStore, policy_folder
from pipelines.core.actor import current_user
from pipelines.core.records import AuditRecord, VersionInfo
from pipelines.core.trail import Trail
from pipelines.governance.local import actions, rebuild, recovery, ui_approvals
from pipelines.governance.local import audit_trail as audit
from pipelines.governance.rules.exceptions import ExceptionRequest
from pipelines.governance.status import AuditLog, trail_rows
from pipelines.tracking import Tracker

__all__ = ["LocalStore"]


class LocalStore:
    """Governance kept in the tracking store itself, by this process (see GovernanceStore)."""

    validated_by_server = False

    def __init__(self, tracker: Tracker):
        self.tracker = tracker

    def acting_user(self) -> str:
        return current_user()

    def monitoring_problems(self) -> list[str]:
        return []  # on a workbench whoever runs monitoring records it, as every other step

    def identity_rule(self) -> str:
        return "CREDITFLOW_USER, else the OS user"

    def trail(self, model: str) -> Trail:
        return audit.load_trail(self.tracker, model)

    def settled_trail(self, model: str) -> Trail:
        return recovery.settled_trail(self.tracker, model)

    def lock(self, model: str) -> AbstractContextManager[None]:
        return self.tracker.registry_lock(model)

    def append(self, entry: AuditRecord) -> AuditRecord:
        return audit.record(self.tracker, entry)

    def record_ui_decisions(self, model: str, versions: list[VersionInfo]) -> list[str]:
        return ui_approvals.record_ui_decisions(self.tracker, model, versions)

    def review(self, model: str, version: str, *, approve: bool, comment: str, new_review: bool) -> None:
        actions.review(
            self.tracker, model, version, approve=approve, actor=current_user(), comment=comment, new_review=new_review
        )

    def promote(self, model: str, version: str) -> None:
        actions.promote(self.tracker, model, version, actor=current_user())

    def rollback(self, model: str, reason: str) -> None:
        actions.rollback(self.tracker, model, reason, actor=current_user())

    def grant_exception(self, version: VersionInfo, request: ExceptionRequest) -> None:
        actions.grant(self.tracker, version, request)

    def audit_log(self, model: str) -> AuditLog:
        found = self.trail(model)
        return AuditLog(
            f"audit trail (experiment {model}-governance, in chain order)", trail_rows(found.records + found.deleted)
        )

    def policies(self, spec_dir: Path | None = None) -> PolicyStore:
        return FolderPolicySource(policy_folder(spec_dir))

    def rebuild(self, model: str, *, new_trail: bool) -> None:
        rebuild.rebuild(self.tracker, model, new_trail=new_trail, actor=current_user())
