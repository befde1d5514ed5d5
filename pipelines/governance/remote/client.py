"""An authenticated user of a creditflow team server, and what the server answers about governance: its audit rows
as the rules read them, champion moves, and the governed policies it stores. The HTTP itself is the tracking
adapter's (pipelines/tracking/http.py)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pipelines.core.audit_rows import as_record
from pipelines.core.records import AuditRecord
from pipelines.tracking.common import TrackingError
from pipelines.tracking.http import API, call, whoami

__all__ = ["API", "TeamSession", "team_session"]


@dataclass(frozen=True)
class TeamSession:
    """An authenticated user of a creditflow team server."""

    uri: str
    user: str
    role: str

    def _call(self, method: str, endpoint: str, **kwargs: Any) -> dict[str, Any]:
        return call(self.uri, method, f"{API}/{endpoint}", **kwargs)

    def audit_rows(self, model: str | None = None) -> tuple[list[dict[str, Any]], list[str]]:
        """The server's audit rows (of one model, or all) and the problems of the whole hash chain."""
        found = self._call("GET", "audit", params={"model": model} if model is not None else {})
        return found["rows"], found["chain_problems"]

    def trail(self, model: str) -> tuple[list[AuditRecord], list[str]]:
        """The model's trail as the promotion rules read it (pipelines/core/audit_rows.py), and the problems of the
        server's hash chain as the server found them."""
        rows, problems = self.audit_rows(model)
        return [r for row in rows if (r := as_record(row)) is not None], problems

    def promote(self, model: str, version: str) -> str:
        return self._call("POST", "promote", json={"name": model, "version": str(version)})["message"]

    def rollback(self, model: str, reason: str) -> str:
        return self._call("POST", "rollback", json={"name": model, "reason": reason})["message"]

    def rebuild(self, model: str) -> list[str]:
        """Have the server re-write approval tags its audit log does not back; one line per repaired version."""
        return self._call("POST", "rebuild", json={"name": model})["repaired"]

    def policy(self, name: str) -> dict[str, Any] | None:
        """The governed policy `name` as the server stores it (document, digest, who, when), or None."""
        try:
            return self._call("GET", "policy", params={"name": name})
        except TrackingError as exc:
            if "no governed policy" in str(exc):
                return None
            raise

    def policy_versions(self, name: str) -> list[dict[str, Any]]:
        """Every stored version of policy `name`, oldest first."""
        return self._call("GET", "policies", params={"name": name})["versions"]

    def policy_names(self) -> list[str]:
        return self._call("GET", "policies")["names"]

    def push_policy(self, name: str, document: dict[str, Any]) -> dict[str, Any]:
        return self._call("PUT", "policy", json={"name": name, "document": document})


def team_session(uri: str) -> TeamSession | None:
    """The creditflow session on an HTTP tracking server, or None when it is a plain MLflow server."""
    found = whoami(uri)
    return TeamSession(uri, found["user"], found["role"]) if found is not None else None
