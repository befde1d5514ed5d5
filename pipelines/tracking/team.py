"""The client side of team mode: creditflow's endpoints on a team server, and the admin's user management.

Credentials are MLflow's: `MLFLOW_TRACKING_USERNAME`/`MLFLOW_TRACKING_PASSWORD`, or the credentials file
`~/.mlflow/credentials` (`[mlflow]`, `mlflow_tracking_username = ...`, `mlflow_tracking_password = ...`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mlflow.exceptions import MlflowException
from mlflow.utils.credentials import get_default_host_creds
from mlflow.utils.rest_utils import http_request
from mlflow.utils.workspace_utils import DEFAULT_WORKSPACE_NAME

from features.errors import CreditflowError, Refused
from features.policy import FilePolicySource, GoverningPolicy, PolicySource, governing
from pipelines.gates.promotion import AuditRecord
from pipelines.gates.team_rules import ADMIN
from pipelines.server.rows import as_record
from pipelines.tracking.common import TrackingError

log = logging.getLogger("creditflow")
API = "/api/2.0/creditflow"
ROLE_PREFIX = "creditflow-"
CREDENTIALS_HINT = "set MLFLOW_TRACKING_USERNAME and MLFLOW_TRACKING_PASSWORD (or ~/.mlflow/credentials)"


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
        """The model's trail as the promotion rules read it (pipelines/server/rows.py), and the problems of the
        server's hash chain as the server found them."""
        rows, problems = self.audit_rows(model)
        return [r for row in rows if (r := as_record(row)) is not None], problems

    def promote(self, model: str, version: str) -> str:
        return self._call("POST", "promote", json={"name": model, "version": str(version)})["message"]

    def rollback(self, model: str, reason: str) -> str:
        return self._call("POST", "rollback", json={"name": model, "reason": reason})["message"]

    def policy(self, name: str) -> dict[str, Any] | None:
        """The governed policy `name` as the server stores it (document, digest, who, when), or None."""
        try:
            return self._call("GET", "policy", params={"name": name})
        except TrackingError as exc:
            if "no governed policy" in str(exc):
                return None
            raise

    def put_policy(self, name: str, document: dict[str, Any]) -> str:
        return self._call("PUT", "policy", json={"name": name, "document": document})["digest"]


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


def policy_source(session: TeamSession | None, spec_path: Path) -> PolicySource | None:
    """Where a spec's governed policy comes from: the team server when there is one, else None (the files)."""
    return TeamPolicySource(session, FilePolicySource(spec_path.parent)) if session is not None else None


def _refused_credentials(uri: str) -> TrackingError:
    return TrackingError(
        f"tracking server {uri} refused the credentials (401: unknown user, wrong password or expired login): "
        f"{CREDENTIALS_HINT}"
    )


def call(uri: str, method: str, endpoint: str, **kwargs: Any) -> dict[str, Any]:
    """One request with the user's credentials; errors as one-line creditflow errors (403: a refusal)."""
    try:
        response = http_request(get_default_host_creds(uri), endpoint, method, max_retries=0, timeout=60, **kwargs)
    except MlflowException as exc:
        raise TrackingError(f"tracking server {uri}: {exc.message.splitlines()[0]}") from None
    if response.status_code == 401:
        raise _refused_credentials(uri)
    try:
        payload = response.json()
    except ValueError:
        payload = {"message": response.text.strip()[:300]}
    if response.status_code == 403:
        raise Refused(str(payload.get("message", "permission denied")).removeprefix("creditflow: "))
    if response.status_code >= 400:
        raise TrackingError(f"tracking server {uri}: {payload.get('message', response.status_code)}")
    return payload


def team_session(uri: str) -> TeamSession | None:
    """The creditflow session on an HTTP tracking server, or None when it is not a creditflow team server."""
    try:
        response = http_request(get_default_host_creds(uri), f"{API}/whoami", "GET", max_retries=0, timeout=10)
    except MlflowException as exc:
        raise TrackingError(f"tracking server {uri}: {exc.message.splitlines()[0]}") from None
    if response.status_code == 401:
        raise _refused_credentials(uri)
    if response.status_code != 200:
        return None  # a plain MLflow server (404, or basic-auth's 403 for routes it does not know)
    found = response.json()
    if found.get("server") != "creditflow":
        return None
    return TeamSession(uri, found["user"], found["role"])


def add_user(uri: str, name: str, role: str, password: str) -> None:
    """Create a user with one creditflow role (an admin's credentials must be the client's)."""
    from mlflow.server import get_app_client

    client = get_app_client("basic-auth", tracking_uri=uri)
    try:
        roles = {r.name: r.id for r in client.list_roles(DEFAULT_WORKSPACE_NAME)}
        if role != ADMIN and f"{ROLE_PREFIX}{role}" not in roles:
            raise CreditflowError(f"the server has no role {ROLE_PREFIX}{role} (made by `creditflow server init`)")
        client.create_user(name, password)
        if role == ADMIN:
            client.update_user_admin(name, True)
        else:
            client.assign_role(name, roles[f"{ROLE_PREFIX}{role}"])
    except MlflowException as exc:
        message = exc.message.splitlines()[0]
        if exc.get_http_status_code() in (401, 403) or "403" in message or "401" in message:
            raise TrackingError(f"only an admin may add users: {CREDENTIALS_HINT} of an admin") from None
        raise TrackingError(f"tracking server {uri}: {message}") from None
