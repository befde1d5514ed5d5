"""The registry gate as Flask hooks around MLflow's handlers, after basic-auth has authenticated the request.

`before` judges a registry, permission or frozen-file request with the pure rules of
`pipelines.governance.rules.permissions` (holding the model's lock for registry changes) and answers 403 with the
reasons when they say no; a `champion` alias edit is carried out here, by the same code as `creditflow promote`.
`after` does what the server writes itself (the author at registration, the recorded reviewer) and appends the
audit row, for allowed, refused and failed requests alike, including those basic-auth refused before the gate.
"""

from __future__ import annotations

import logging
from typing import Any

import psycopg2
from flask import Response, current_app, g, request
from psycopg2.pool import PoolError

from pipelines.core import tags
from pipelines.core.clock import today
from pipelines.governance.rules import permissions as rules
from pipelines.server import promotion
from pipelines.server.audit_chain import payload_digest
from pipelines.server.routes import Route, classify
from pipelines.server.services import Pending, Services, error_body
from pipelines.server.writes import after_allowed

log = logging.getLogger("creditflow.server")


def services() -> Services:
    return current_app.extensions["creditflow"]


def before() -> Response | None:
    parameters = _parameters()
    route = classify(request.method, request.path, _run_id(parameters))
    user = g.get("mlflow_authenticated_user")
    if route is None or route.kind == "free" or not user:
        return None
    pending = Pending(
        f"{request.method} {request.path}",
        route.action,
        services().actor(user),
        parameters,
        payload_digest(request.get_data()),
        kind=route.kind,
    )
    g.creditflow = pending
    if route.kind == "refused":
        pending.target = route.path
        return _answer(pending, [route.reason], status=route.status)
    if route.kind == "permissions":
        return _answer(pending, rules.admin_problems(pending.actor, f"change users, roles or grants ({route.action})"))
    if route.kind == "password":
        pending.target = str(parameters.get("username", ""))
        return _answer(pending, rules.password_problems(pending.actor, pending.target))
    if route.kind == "frozen":
        pending.target = route.path or route.model_id or route.run_id
        return _answer(pending, frozen_problems(services(), route))
    return _registry(pending)


def _run_id(parameters: dict[str, Any]) -> str:
    """The run a request names: `run_id`, or `run_uuid` (MLflow's UI upload route sends that one)."""
    return str(parameters.get("run_id") or parameters.get("run_uuid") or "")


def _registry(pending: Pending) -> Response | None:
    body = pending.body
    pending.model, pending.version = str(body.get("name", "")), str(body.get("version", ""))
    pending.target = str(body.get("key") or body.get("alias") or "")
    lock = services().store.model_lock(pending.model)
    try:
        lock.__enter__()
    except (psycopg2.Error, PoolError):
        pending.audited = True  # there is nowhere to write the row: refuse the change rather than lose its record
        message = "creditflow: the governance database is unavailable: registry changes wait until it is back"
        return _response(503, error_body("TEMPORARILY_UNAVAILABLE", message))
    g.creditflow_lock = lock
    if pending.action == "set_alias" and pending.target.casefold() == tags.CHAMPION:  # "Champion" is champion too
        outcome = promotion.promote(services(), pending, pending.version)
        if outcome.code:
            return _response(outcome.status, error_body(outcome.code, f"creditflow: {outcome.message}"))
        return _response(200, "{}")
    return _answer(pending, registry_problems(services(), pending))


def registry_problems(services: Services, pending: Pending) -> list[str]:
    """What the rules say about one registry request (the champion move aside)."""
    actor, body, action, name = pending.actor, pending.body, pending.action, pending.model
    if action == "create_model":
        return rules.creation_problems(actor, "registered models")
    if action in ("rename_model", "delete_model", "delete_version"):
        return rules.governed_model_problems(action.replace("_", " "), name, services.registry.version_count(name))
    if action == "transition_stage":
        return ["stages are not used: creditflow promotes by moving alias champion (creditflow promote)"]
    if action in ("set_model_tag", "delete_model_tag"):
        return rules.model_tag_problems(pending.target)
    if action == "create_version":
        pending.version = ""
        return rules.registration_problems(actor, _tag_dict(body.get("tags")), str(body.get("source", "")))
    if action in ("set_alias", "delete_alias"):
        return rules.alias_problems(actor, pending.target, deleting=action == "delete_alias")
    if action in ("set_version_tag", "delete_version_tag"):
        version = services.registry.version(name, pending.version)
        if version is None:
            return []  # MLflow answers 404 itself
        value = str(body.get("value", "")) if action == "set_version_tag" else None
        terms = services.exception_terms(version) if pending.target.startswith(tags.EXCEPTION_PREFIX) else None
        return rules.version_tag_problems(actor, version, pending.target, value, terms=terms, today=today())
    if action == "update_version":
        old = services.registry.description(name, pending.version)
        return rules.description_problems(actor, pending.version, old, str(body.get("description") or ""))
    return []  # the registered model's own description


def frozen_problems(services: Services, route: Route) -> list[str]:
    """Why a write to stored files or a logged model is refused: it belongs to a registered version."""
    if route.model_id:
        reason = services.store.frozen("model", route.model_id)
        return [f"{reason}: its files and records are frozen"] if reason else []
    if route.action == "delete_run":
        registered = services.registry.versions_of_run(route.run_id)
        return [f"run {route.run_id} is the evidence of {registered}: it cannot be deleted"] if registered else []
    if route.run_id:
        reason = services.store.frozen("run", route.run_id)
        return [f"{reason}: its artifacts are frozen"] if reason else []
    return []


def after(response: Response) -> Response:
    pending: Pending | None = g.get("creditflow")
    try:
        if pending is None:
            _audit_unauthenticated(response)
        elif not pending.audited and pending.kind != "frozen":  # allowed file writes are not registry changes
            _audit(pending, response)
    except Exception:  # the change is made; a failed audit append must be loud, not a lost response
        log.exception("creditflow: could not append the audit row for %s %s", request.method, request.path)
    return response


def teardown(_exc: BaseException | None) -> None:
    lock = g.pop("creditflow_lock", None)
    if lock is not None:
        lock.__exit__(None, None, None)


def _audit(pending: Pending, response: Response) -> None:
    if pending.refused:
        services().audit(pending, "refused", "; ".join(pending.refused))
    elif response.status_code < 400:
        reason, detail = after_allowed(services(), pending, response.get_json(silent=True) or {})
        services().audit(pending, "allowed", reason, detail=detail)
    else:
        services().audit(pending, "failed", f"HTTP {response.status_code}: {_message(response)}")


def _audit_unauthenticated(response: Response) -> None:
    """A judged request that basic-auth refused: 403 (an authenticated user without the grant) is audited; 401
    (unknown user, wrong password) only counted: anonymous callers must not fill the audit log."""
    body = _parameters()
    route = classify(request.method, request.path, _run_id(body))
    if route is None or route.kind == "free" or response.status_code not in (401, 403):
        return
    if response.status_code == 401:  # nobody authenticated: counted, never a row under a name anyone can claim
        services().count_anonymous()
        return
    claimed = request.authorization.username if request.authorization else ""
    who = claimed or "(anonymous)"
    pending = Pending(
        f"{request.method} {request.path}", route.action, rules.Actor(who, ""), body, payload_digest(request.get_data())
    )
    pending.model, pending.version = str(body.get("name", "")), str(body.get("version", ""))
    pending.target = str(body.get("key") or body.get("alias") or route.path or route.model_id or "")
    services().audit(pending, "refused", "basic-auth: no permission on this resource")


def _answer(pending: Pending, problems: list[str], status: int = 403) -> Response | None:
    if not problems:
        return None
    pending.refused = problems
    services().audit(pending, "refused", "; ".join(problems))
    code = "PERMISSION_DENIED" if status == 403 else "INVALID_PARAMETER_VALUE"
    return _response(status, error_body(code, "creditflow: " + "; ".join(problems)))


def _response(status: int, body: str) -> Response:
    return Response(body, status=status, mimetype="application/json")


def _parameters() -> dict[str, Any]:
    """The request's JSON body over its query string: judged on everything MLflow might read."""
    body = request.get_json(force=True, silent=True)
    return {**request.args.to_dict(), **(body if isinstance(body, dict) else {})}


def _tag_dict(items: Any) -> dict[str, str]:
    return {str(t.get("key")): str(t.get("value", "")) for t in items or [] if isinstance(t, dict)}


def _message(response: Response) -> str:
    payload = response.get_json(silent=True) or {}
    return str(payload.get("message", "")).splitlines()[0][:300] if payload else ""
