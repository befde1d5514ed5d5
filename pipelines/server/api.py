"""creditflow's own endpoints on the team server, under `/api/2.0/creditflow/`:

| endpoint | method | who | does |
| --- | --- | --- | --- |
| `whoami` | GET | any user | the authenticated user and their creditflow role (how the CLI knows it is in team mode) |
| `audit?model=NAME` | GET | any user | the model's rows (all without `model`), chain problems, and this process's |
| | | | counts of anonymous refusals and throttled logins |
| `routes` | GET | any user | the app's write routes the gate does not know (refused): empty on a known MLflow |
| `promote` | POST `{name, version}` | reviewers | move `champion` under the promotion rules (`creditflow promote`) |
| `rollback` | POST `{name, reason}` | reviewers | put `champion` back on `previous` (`creditflow rollback`) |
| `policy?name=NAME` | GET | any user | the governed policy as stored, with its digest, who stored it and when |
| `policy` | PUT `{name, document}` | risk | store a new version of a policy (a changed one needs a new `version`) |
| `policies[?name=NAME]` | GET | any user | the stored policies' names, or every stored version of one |

They are answered before basic-auth's route checks (which refuse routes they do not know), after the same
authentication.
"""

from __future__ import annotations

import json
from typing import Any

from flask import Response, g, request
from mlflow.server.auth import authenticate_request

from features.errors import SpecError
from features.policy import PolicyVersion, governing, refuse_same_version
from pipelines.core.free_text import text_problem
from pipelines.governance.rules import permissions as rules
from pipelines.server import promotion
from pipelines.server.audit_chain import chain_problems, payload_digest
from pipelines.server.routes import CREDITFLOW_API
from pipelines.server.services import Pending, Services, error_body


def dispatch(services: Services) -> Response | None:
    """Answer a request to a creditflow endpoint; None for every other request."""
    found = CREDITFLOW_API.match(request.path)
    if not found:
        return None
    authorization = authenticate_request()
    if isinstance(authorization, Response):
        return authorization
    username = authorization.username
    assert username is not None  # basic-auth authenticated a named user
    g.mlflow_authenticated_user = username
    actor = services.actor(username)
    handler = ENDPOINTS.get((request.method, found.group("endpoint")))
    if handler is None:
        return _json(404, json.loads(error_body("ENDPOINT_NOT_FOUND", f"no creditflow endpoint {request.path}")))
    return handler(services, actor)


def whoami(services: Services, actor: rules.Actor) -> Response:
    return _json(200, {"user": actor.name, "role": actor.role, "server": "creditflow"})


def audit(services: Services, actor: rules.Actor) -> Response:
    model = request.args.get("model")
    every = services.store.rows()
    rows = every if model is None else [r for r in every if r["model"] == model]
    counted = {"anonymous_refusals": services.anonymous_refusals, "throttled_logins": services.throttled_logins()}
    return _json(200, {"rows": rows, "chain_problems": chain_problems(every), **counted})


def promote(services: Services, actor: rules.Actor) -> Response:
    body = _body()
    pending = _pending(actor, "promote", body)
    with services.store.model_lock(pending.model):
        outcome = promotion.promote(services, pending, str(body.get("version", "")))
    return _outcome(outcome)


def rollback(services: Services, actor: rules.Actor) -> Response:
    body = _body()
    pending = _pending(actor, "rollback", body)
    reason = str(body.get("reason", "")).strip()
    if not reason:
        return _json(400, json.loads(error_body("INVALID_PARAMETER_VALUE", "a rollback needs a reason")))
    too_long = text_problem("the reason", reason)  # it reaches the audit table: the stated limit, whole
    if too_long:
        return _json(400, json.loads(error_body("INVALID_PARAMETER_VALUE", f"creditflow: {too_long}")))
    with services.store.model_lock(pending.model):
        outcome = promotion.rollback(services, pending, reason)
    return _outcome(outcome)


def routes(services: Services, actor: rules.Actor) -> Response:
    """The app's write routes the gate does not know (each refused): empty when every route is classified."""
    return _json(200, {"unclassified": services.unclassified})


def get_policy(services: Services, actor: rules.Actor) -> Response:
    name = request.args.get("name", "")
    found = services.store.policy(name)
    if found is None:
        return _json(404, json.loads(error_body("RESOURCE_DOES_NOT_EXIST", f"no governed policy {name!r} stored")))
    return _json(200, found)


def put_policy(services: Services, actor: rules.Actor) -> Response:
    """Store a policy document (risk only), validated by the one policy loader (`features.policy.governing`, as
    every client reads it) and digested as it digests it; every version is kept, append-only."""
    body = _body()
    pending = _pending(actor, "policy", body)
    document, name = body.get("document"), str(body.get("name", ""))
    pending.model, pending.target = "", name
    problems = rules.policy_problems(actor)
    found = None
    if not isinstance(document, dict) or not name or document.get("name", name) != name:
        problems.append("a policy is {name, document} with document a mapping whose name is `name`")
    else:
        try:
            found = governing(document, f"policy {name}")
        except SpecError as exc:
            problems.append(f"not a valid policy: {exc}")
    if problems or found is None:
        services.audit(pending, "refused", "; ".join(problems))
        return _json(403, json.loads(error_body("PERMISSION_DENIED", "creditflow: " + "; ".join(problems))))
    kept = [_kept(row) for row in services.store.policy_versions(name)]
    if kept and kept[-1].digest == found.digest:
        return _json(200, {"name": name, "digest": found.digest, "unchanged": True})
    try:
        refuse_same_version(kept, found)
    except SpecError as exc:
        services.audit(pending, "refused", str(exc))
        return _json(400, json.loads(error_body("INVALID_PARAMETER_VALUE", str(exc))))
    services.store.put_policy(name, found.document, found.digest, actor.name)
    services.audit(pending, "allowed", f"policy {found.label} stored", detail={"digest": found.digest})
    return _json(200, {"name": name, "digest": found.digest})


def list_policies(services: Services, actor: rules.Actor) -> Response:
    name = request.args.get("name")
    if name is None:
        return _json(200, {"names": services.store.policy_names()})
    return _json(200, {"versions": services.store.policy_versions(name)})


def _kept(row: dict[str, Any]) -> PolicyVersion:
    document = row["document"]
    return PolicyVersion(
        row["name"], str(document.get("version", "")), row["digest"], row["username"], row["time"], document
    )


ENDPOINTS = {
    ("GET", "whoami"): whoami,
    ("GET", "audit"): audit,
    ("GET", "routes"): routes,
    ("POST", "promote"): promote,
    ("POST", "rollback"): rollback,
    ("GET", "policy"): get_policy,
    ("PUT", "policy"): put_policy,
    ("GET", "policies"): list_policies,
}


def _body() -> dict[str, Any]:
    body = request.get_json(force=True, silent=True)
    return body if isinstance(body, dict) else {}


def _pending(actor: rules.Actor, action: str, body: dict[str, Any]) -> Pending:
    pending = Pending(f"{request.method} {request.path}", action, actor, body, payload_digest(request.get_data()))
    pending.model = str(body.get("name", ""))
    return pending


def _outcome(outcome: promotion.Outcome) -> Response:
    if outcome.code:
        return _json(outcome.status, json.loads(error_body(outcome.code, f"creditflow: {outcome.message}")))
    return _json(200, {"message": outcome.message, "changed": outcome.changed})


def _json(status: int, payload: Any) -> Response:
    return Response(json.dumps(payload, default=str), status=status, mimetype="application/json")
