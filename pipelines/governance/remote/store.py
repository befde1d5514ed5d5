"""The team backend of the governance store: a creditflow team server decides and records.

The client checks what it can tell in advance (bad input: exit 2) and then asks; the server's gate applies the
rules to the authenticated user, under the model's lock (a PostgreSQL advisory lock), and writes the audit row.
A refusal comes back as a 403 with the reasons: exit 1, each reason on its own line, as on a workbench. There is
no client lock and nothing for a client to append or finish: the server records every registry change as it is
made, so a dying client cannot leave anything half-done or locked.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TypeVar

import click

from features.errors import CreditflowError, Refused
from features.policy import PolicyStore
from pipelines.core import tags
from pipelines.core.clock import now_iso
from pipelines.core.decisions import APPROVED, REJECTED
from pipelines.core.records import AuditRecord, VersionInfo
from pipelines.core.trail import Trail
from pipelines.governance.remote.client import TeamSession
from pipelines.governance.remote.team_policy import TeamPolicies
from pipelines.governance.rules.exceptions import ExceptionRequest, exception_values
from pipelines.governance.rules.permissions import EXCEPTION_FIELDS_BY_RISK, Actor, monitoring_problems
from pipelines.governance.rules.promotion import evidence_digest, files_problems, review_problems
from pipelines.governance.status import AuditLog, server_rows
from pipelines.tracking import Tracker
from pipelines.tracking.model_files import model_files_check

__all__ = ["RemoteStore"]

T = TypeVar("T")


class RemoteStore:
    """Governance kept by a creditflow team server, as its authenticated user (see GovernanceStore)."""

    validated_by_server = True

    def __init__(self, tracker: Tracker, session: TeamSession):
        self.tracker, self.session = tracker, session

    def acting_user(self) -> str:
        return self.session.user

    def monitoring_problems(self) -> list[str]:
        return monitoring_problems(Actor(self.session.user, self.session.role))  # the server's rule, asked early

    def identity_rule(self) -> str:
        return "the user the team server authenticated"

    def trail(self, model: str) -> Trail:
        records, problems = self.session.trail(model)
        return Trail(model, records=records, problems=problems)

    def settled_trail(self, model: str) -> Trail:
        return self.trail(model)

    @contextlib.contextmanager
    def lock(self, model: str) -> Iterator[None]:
        yield  # the server serialises every registry change of a model itself

    def append(self, entry: AuditRecord) -> AuditRecord:
        return entry  # the server writes its own row, keyed on the authenticated user, for every registry change

    def record_ui_decisions(self, model: str, versions: list[VersionInfo]) -> list[str]:
        return []  # the server records a decision made in its UI itself (the authenticated reviewer, the time)

    def review(self, model: str, version: str, *, approve: bool, comment: str, new_review: bool) -> None:
        """Approve or reject as the authenticated user: the server records the reviewer, the time and the evidence."""
        found = self.tracker.model_version(model, version)
        user = self.session.user
        problems = review_problems(
            found, self.trail(model).records, approve=approve, reviewer=user, comment=comment, new_review=new_review
        )
        if problems:
            raise CreditflowError("; ".join(problems))
        if approve and tags.VALIDATOR not in found.tags:
            raise Refused(
                f"{model} version {found.version} is not validated yet: the server's validation worker recomputes "
                "its evidence first (creditflow status shows validation.validator); approve after it"
            )
        decision = APPROVED if approve else REJECTED
        refusals(lambda: self.tracker.set_version_tags(model, version, {tags.APPROVAL_COMMENT: comment}))
        refusals(lambda: self.tracker.set_version_tags(model, version, {tags.APPROVAL_STATUS: decision}))
        click.echo(f"{model} version {found.version}: approval.status={decision} by {user} (server-recorded)")

    def promote(self, model: str, version: str) -> None:
        """Ask the server to move `champion`; first, the model files as this client finds them must still hash to
        the version's `lineage.model_sha256` (the server freezes them, so a difference means the artifact store
        was changed behind the server)."""
        target = self.tracker.model_version(model, version)  # unknown model or version: exit 2
        changed = files_problems(target, model_files_check(self.tracker, target.source))
        if changed:
            for reason in changed:
                click.echo(f"unmet: {reason}")
            raise Refused(f"promotion of {model} version {target.version} refused: its model files cannot be trusted")
        click.echo(refusals(lambda: self.session.promote(model, version)))

    def rollback(self, model: str, reason: str) -> None:
        click.echo(refusals(lambda: self.session.rollback(model, reason)))

    def grant_exception(self, version: VersionInfo, request: ExceptionRequest) -> None:
        """The tags risk sets (`status` last); the server records who granted it, when and for which evidence, and
        writes the audit row the exception rules read."""
        values = exception_values(request, now_iso(), evidence_digest(version))
        status = tags.exception_tag(request.gate, "status")
        for field in EXCEPTION_FIELDS_BY_RISK:  # what a client may set; the server writes the rest
            key = tags.exception_tag(request.gate, field)
            if key in values and key != status:
                refusals(lambda: self.tracker.set_version_tags(version.name, version.version, {key: values[key]}))
        refusals(lambda: self.tracker.set_version_tags(version.name, version.version, {status: values[status]}))
        click.echo(
            f"{version.name} version {version.version}: exception to {tags.VALIDATION_PREFIX}{request.gate} accepted "
            f"by {request.granted_by} (server-recorded), valid through {request.expires}; "
            "promotion still needs an approval given after it"
        )

    def audit_log(self, model: str) -> AuditLog:
        rows, broken = self.session.audit_rows(model)
        state = "BROKEN" if broken else "intact"
        return AuditLog(
            f"audit log of the team server {self.tracker.uri} (hash chain {state})", server_rows(rows), broken
        )

    def policies(self, spec_dir: Path | None = None) -> PolicyStore:
        return TeamPolicies(self.session)

    def rebuild(self, model: str, *, new_trail: bool) -> None:
        raise CreditflowError(
            f"{self.tracker.uri} is a team server: its audit log is append-only and kept by the server; there is no "
            "client-side trail to rebuild (creditflow audit verify checks it)"
        )


def refusals(call: Callable[[], T]) -> T:
    """Run a request; a refusal prints each unmet condition and exits 1, as a local refusal does."""
    try:
        return call()
    except Refused as exc:
        head, _, reasons = str(exc).partition(" refused: ")
        for reason in reasons.split("; ") if reasons else []:
            click.echo(f"unmet: {reason}")
        raise Refused(f"{head} refused by the team server" if reasons else str(exc)) from None
