"""What the gate, the API and the artifact freeze share inside one server process: the governance store, the
server's registry view, and who a user is (their creditflow role, kept in basic-auth's own role tables)."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from typing import Any, Callable

from mlflow.exceptions import MlflowException
from mlflow.server import auth as basic_auth
from mlflow.server.constants import BACKEND_STORE_URI_ENV_VAR, REGISTRY_STORE_URI_ENV_VAR

from features.policy import ExceptionTerms, StoredPolicySource
from pipelines.core import tags
from pipelines.core.records import VersionInfo
from pipelines.governance.rules.permissions import ADMIN, ROLE_PREFIX, ROLES, Actor
from pipelines.server.registry import ServerRegistry
from pipelines.server.store import GovernanceStore

GOVERNANCE_DB_ENV = "CREDITFLOW_GOVERNANCE_DB"
STORE_URI_ENVS = (REGISTRY_STORE_URI_ENV_VAR, BACKEND_STORE_URI_ENV_VAR)  # set by `mlflow server` for its workers


@dataclass
class Pending:
    """One judged request on its way through the hooks: what the audit row will say."""

    route: str
    action: str
    actor: Actor
    body: dict[str, Any]
    digest: str
    kind: str = "registry"
    model: str = ""
    version: str = ""
    target: str = ""
    refused: list[str] = field(default_factory=list)
    audited: bool = False


class Services:
    def __init__(self, governance_dsn: str, store_uri: str):
        self.store = GovernanceStore(governance_dsn)
        self.registry = ServerRegistry(store_uri)
        self.anonymous_refusals = 0  # unauthenticated writes refused by this process (never audit rows)
        self.unclassified: list[str] = []  # write routes of this app the gate does not know (refused)
        self.throttled_logins: Callable[[], int] = lambda: 0  # logins refused before their password was checked

    def count_anonymous(self) -> None:
        self.anonymous_refusals += 1

    @classmethod
    def from_environment(cls) -> "Services":
        dsn = os.environ.get(GOVERNANCE_DB_ENV, "")
        store_uri = next((os.environ[name] for name in STORE_URI_ENVS if os.environ.get(name)), "")
        if not dsn or not store_uri:
            raise RuntimeError(
                f"creditflow server: set {GOVERNANCE_DB_ENV} (see `creditflow server init`) and start the server "
                "with `creditflow server start` or `mlflow server --app-name creditflow --backend-store-uri ...`"
            )
        return cls(dsn, store_uri)

    def actor(self, username: str) -> Actor:
        """The user and their creditflow role: admin for basic-auth admins, else their creditflow-* role. Read
        through basic-auth's store as it is now (`auth_cache.install` wraps it), so both judge on the same answer."""
        auth_store = basic_auth.store
        user = auth_store.get_user(username)
        if user.is_admin:
            return Actor(username, ADMIN)
        names = {role.name for role in auth_store.list_user_roles(user.id)}
        role = next((r for r in ROLES if f"{ROLE_PREFIX}{r}" in names), "")
        return Actor(username, role)

    def is_user(self, username: str) -> bool:
        try:
            basic_auth.store.get_user(username)
        except MlflowException:
            return False
        return True

    def exception_terms(self, version: VersionInfo) -> ExceptionTerms:
        """The exception terms of the governed policy a version was judged under, as the server stores it (read
        by the one policy loader); the defaults when the server stores no policy of that name."""
        label = version.tags.get(tags.POLICY, "")
        stored = self.store.policy(label.rsplit(" v", 1)[0]) if label else None
        if stored is None:
            return ExceptionTerms()
        return StoredPolicySource(stored["document"]).load(None).policy.exceptions

    def audit(self, pending: Pending, decision: str, reason: str = "", *, detail: dict | None = None) -> None:
        pending.audited = True
        self.store.append(
            {
                "username": pending.actor.name,
                "route": pending.route,
                "action": pending.action,
                "model": pending.model,
                "version": pending.version,
                "target": pending.target,
                "payload_digest": pending.digest,
                "decision": decision,
                "reason": reason,
                "detail": detail or {},
            }
        )


def error_body(code: str, message: str) -> str:
    """MLflow's error shape, so clients show the message (`RestException`)."""
    return json.dumps({"error_code": code, "message": message})
