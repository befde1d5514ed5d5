"""HTTP to a creditflow team server: its endpoints under /api/2.0/creditflow with the user's MLflow credentials,
and basic-auth's user management. Transport only: what the answers mean for governance is
pipelines/governance/remote/'s.

Credentials are MLflow's: `MLFLOW_TRACKING_USERNAME`/`MLFLOW_TRACKING_PASSWORD`, or the credentials file
`~/.mlflow/credentials` (`[mlflow]`, `mlflow_tracking_username = ...`, `mlflow_tracking_password = ...`).
"""

from __future__ import annotations

from typing import Any

from mlflow.exceptions import MlflowException
from mlflow.utils.credentials import get_default_host_creds
from mlflow.utils.rest_utils import http_request
from mlflow.utils.workspace_utils import DEFAULT_WORKSPACE_NAME

from features.errors import CreditflowError, Refused
from pipelines.tracking.common import CREDENTIALS_HINT, TrackingError, throttled

__all__ = ["API", "add_user", "call", "whoami"]

API = "/api/2.0/creditflow"
# one attempt, and the answer whatever its status: a 429 (a login lockout) keeps its message and Retry-After
_ONCE: dict[str, Any] = {"max_retries": 0, "raise_on_status": False}


def _refused_credentials(uri: str) -> TrackingError:
    return TrackingError(
        f"tracking server {uri} refused the credentials (401: unknown user, wrong password or expired login): "
        f"{CREDENTIALS_HINT}"
    )


def call(uri: str, method: str, endpoint: str, **kwargs: Any) -> dict[str, Any]:
    """One request with the user's credentials; errors as one-line creditflow errors (403: a refusal)."""
    try:
        response = http_request(get_default_host_creds(uri), endpoint, method, **_ONCE, timeout=60, **kwargs)
    except MlflowException as exc:
        raise TrackingError(f"tracking server {uri}: {exc.message.splitlines()[0]}") from None
    if response.status_code == 401:
        raise _refused_credentials(uri)
    if response.status_code == 429:
        raise throttled(uri, response.text, response.headers.get("Retry-After", ""))
    try:
        payload = response.json()
    except ValueError:
        payload = {"message": response.text.strip()[:300]}
    if response.status_code == 403:
        raise Refused(str(payload.get("message", "permission denied")).removeprefix("creditflow: "))
    if response.status_code >= 400:
        raise TrackingError(f"tracking server {uri}: {payload.get('message', response.status_code)}")
    return payload


def whoami(uri: str) -> dict[str, Any] | None:
    """The authenticated user (`user`, `role`) when `uri` is a creditflow team server, else None (a plain MLflow
    server); wrong credentials are refused here, in one line."""
    try:
        response = http_request(get_default_host_creds(uri), f"{API}/whoami", "GET", **_ONCE, timeout=10)
    except MlflowException as exc:
        raise TrackingError(f"tracking server {uri}: {exc.message.splitlines()[0]}") from None
    if response.status_code == 401:
        raise _refused_credentials(uri)
    if response.status_code == 429:
        raise throttled(uri, response.text, response.headers.get("Retry-After", ""))
    if response.status_code != 200:
        return None  # a plain MLflow server (404, or basic-auth's 403 for routes it does not know)
    found = response.json()
    return found if found.get("server") == "creditflow" else None


def add_user(uri: str, name: str, role: str | None, password: str) -> None:
    """Create a user with one basic-auth role (its full name), or an admin (`role` None); an admin's credentials
    must be the client's."""
    from mlflow.server import get_app_client

    client = get_app_client("basic-auth", tracking_uri=uri)
    try:
        roles = {r.name: r.id for r in client.list_roles(DEFAULT_WORKSPACE_NAME)}
        if role is not None and role not in roles:
            raise CreditflowError(f"the server has no role {role} (made by `creditflow server init`)")
        client.create_user(name, password)
        if role is None:
            client.update_user_admin(name, True)
        else:
            client.assign_role(name, roles[role])
    except MlflowException as exc:
        message = exc.message.splitlines()[0]
        if exc.get_http_status_code() in (401, 403) or "403" in message or "401" in message:
            raise TrackingError(f"only an admin may add users: {CREDENTIALS_HINT} of an admin") from None
        raise TrackingError(f"tracking server {uri}: {message}") from None
