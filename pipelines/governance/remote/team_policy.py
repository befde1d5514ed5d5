"""Governed policies in team mode: the team server's policy store governs, whatever files the author has.

A spec names its policy; the server resolves the name to the latest version the risk function stored (only risk
may store one, every version kept and audited). A name the server does not store is refused, as is a spec that
names no policy: the built-in defaults are nobody's governed policy on a team server.
"""

from __future__ import annotations

from typing import Any

from features.errors import CreditflowError, SpecError
from features.policy import GoverningPolicy, PolicyVersion, governing
from pipelines.governance.remote.client import TeamSession

__all__ = ["TeamPolicies"]


class TeamPolicies:
    """The server's policy store, read and written through the authenticated session (see PolicyStore)."""

    def __init__(self, session: TeamSession):
        self.session = session
        self.where = f"the team server {session.uri}"

    def load(self, ref: str | None) -> GoverningPolicy:
        if ref is None:
            raise SpecError(
                f"{self.where} governs every run: the spec must name a governed policy (`policy: {{name: NAME}}`; "
                "creditflow policy list shows them)"
            )
        stored = self.session.policy(ref)
        if stored is None:
            raise SpecError(f"no governed policy {ref!r} on {self.where} (risk stores it: creditflow policy push FILE)")
        return governing(stored["document"], f"{self.where}: policy {ref}")

    def versions(self, name: str) -> list[PolicyVersion]:
        return [_version(row) for row in self.session.policy_versions(name)]

    def names(self) -> list[str]:
        return self.session.policy_names()

    def push(self, found: GoverningPolicy) -> str:
        try:
            answer = self.session.push_policy(found.policy.name, found.document)
        except CreditflowError as exc:
            raise type(exc)(f"policy {found.label} not stored: {exc}") from None
        return f"policy {found.label} stored on {self.where} by {self.session.user} (digest {answer['digest'][:12]})"


def _version(row: dict[str, Any]) -> PolicyVersion:
    document = row["document"]
    return PolicyVersion(
        row["name"], str(document.get("version", "")), row["digest"], row["username"], row["time"], document
    )
