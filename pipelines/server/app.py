"""The `creditflow` MLflow app (entry point `mlflow.app: creditflow`): MLflow's basic-auth with creditflow's
governance gate around it. `mlflow server --app-name creditflow ...` (what `creditflow server start` runs)
builds it in each worker through `create_app`.

In front of all of it, the login throttle (pipelines/server/login_guard.py) refuses logins of locked-out users and
addresses before basic-auth hashes their passwords. Then the Flask hooks: creditflow's endpoints (they authenticate
like basic-auth, and basic-auth's route checks would refuse paths it does not know), then basic-auth (who is this,
and do they hold the grant), then the gate (do creditflow's rules allow it). Under uvicorn the artifact uploads
bypass Flask, so an ASGI middleware inside basic-auth's applies the artifact freeze to them.
"""

from __future__ import annotations

from typing import Any

from pipelines.server import api, auth_cache, gate
from pipelines.server.gate import log
from pipelines.server.login_counts import LoginCounts
from pipelines.server.login_guard import LoginGuard, ThrottleLogins, flask_after, flask_before, record_lockout
from pipelines.server.routes import unclassified
from pipelines.server.services import Services
from pipelines.server.throttle import LoginLimits


def create_app(app: Any = None) -> Any:
    from mlflow.server import app as mlflow_app
    from mlflow.server import auth as basic_auth
    from mlflow.server.auth import create_app as basic_auth_app
    from starlette.middleware import Middleware

    from pipelines.server.artifacts import FreezeArtifacts

    flask_app = app if app is not None else mlflow_app
    services = Services.from_environment()
    flask_app.extensions["creditflow"] = services
    limits = LoginLimits.from_environment()
    guard = LoginGuard(LoginCounts(services.store), limits, lambda *lockout: record_lockout(services, limits, *lockout))
    services.throttled_logins = lambda: guard.refused
    flask_app.before_request(lambda: api.dispatch(services))
    served = basic_auth_app(flask_app)
    auth_cache.install(basic_auth, auth_cache.cache_seconds())  # its store is ready once basic-auth's app is built
    _throttle_logins(flask_app, served, guard)
    flask_app.before_request(gate.before)
    flask_app.after_request(gate.after)
    flask_app.teardown_request(gate.teardown)
    native = []
    if served is not flask_app:  # uvicorn: a FastAPI app around Flask; innermost, so the user is known
        served.user_middleware.append(Middleware(FreezeArtifacts, services=services, router=served.router))
        native = [(m, r.path) for r in served.routes for m in getattr(r, "methods", None) or ()]
    flask_rules = [(m, rule.rule) for rule in flask_app.url_map.iter_rules() for m in rule.methods or ()]
    services.unclassified = unclassified([*flask_rules, *native])
    if services.unclassified:  # a new MLflow version added writes the gate does not know: they are refused
        log.warning("creditflow: writes refused as unknown: %s", ", ".join(services.unclassified))
    return served


def _throttle_logins(flask_app: Any, served: Any, guard: LoginGuard) -> None:
    """Put the login throttle in front of every password check: outside basic-auth's middleware under uvicorn
    (it authenticates FastAPI's own routes there, Flask the rest), else before every other Flask hook."""
    from starlette.middleware import Middleware

    if served is flask_app:
        flask_app.before_request_funcs.setdefault(None, []).insert(0, lambda: flask_before(guard))
        flask_app.after_request(lambda response: flask_after(guard, response))
    else:
        served.user_middleware.insert(0, Middleware(ThrottleLogins, guard=guard))
