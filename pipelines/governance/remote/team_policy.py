"""Governed policies in team mode: the policy a team server stores governs a run, whatever the author's file says."""

from __future__ import annotations

import logging

from features.policy import GoverningPolicy, PolicySource, governing
from pipelines.governance.remote.client import API, TeamSession

__all__ = ["TeamPolicySource"]

log = logging.getLogger("creditflow")


class TeamPolicySource:
    """Governed policies in team mode: the server's stored document governs (only risk may store one), read
    through the one policy loader (`features.policy.governing`). A spec's `policy.file` names the policy; the
    file says which (its `name`): if the server stores a policy of that name, that version governs, whatever
    the file says today; if it stores none, the file governs, as in local mode, with a warning."""

    def __init__(self, session: TeamSession, files: PolicySource):
        self.session, self.files = session, files

    def load(self, ref: str | None) -> GoverningPolicy:
        local = self.files.load(ref)
        stored = self.session.policy(local.policy.name)
        if stored is None:
            log.warning(
                "policy %s is not stored on the team server %s: judged under %s (risk stores it: PUT %s/policy)",
                local.label,
                self.session.uri,
                local.origin,
                API,
            )
            return local
        found = governing(stored["document"], f"team server {self.session.uri}: policy {local.policy.name}")
        if found.digest != local.digest:
            log.warning(
                "policy %s: %s differs from the version stored on the team server by %s at %s; the server's governs",
                local.policy.name,
                local.origin,
                stored.get("username", "?"),
                stored.get("time", "?"),
            )
        return found
