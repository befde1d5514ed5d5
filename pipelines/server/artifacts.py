"""The gate for writes that never reach Flask: under uvicorn, MLflow serves some routes as FastAPI routes
(artifact uploads `PUT /api/2.0/mlflow-artifacts/artifacts/<path>`, the gateway, jobs, OTLP traces...), so Flask's
hooks do not see them. This ASGI middleware sits inside basic-auth's (the user is authenticated and named in the
request state) and judges every write a native FastAPI route would serve with the same classification
(pipelines/server/routes.py): frozen files by the same check as the Flask gate, unknown writes refused."""

from __future__ import annotations

from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.routing import Match, Mount
from starlette.types import ASGIApp, Receive, Scope, Send

from pipelines.governance.rules.permissions import Actor
from pipelines.server.gate import frozen_problems
from pipelines.server.routes import READS, Route, classify
from pipelines.server.services import Pending, Services, error_body


class FreezeArtifacts:
    def __init__(self, app: ASGIApp, services: Services, router: Any = None) -> None:
        self.app = app
        self.services = services
        self.router = router  # the FastAPI app's router: which paths it serves itself

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] not in READS and self._native(scope):
            route = classify(scope["method"], scope["path"])
            problems, status = [], 403
            if route is not None and route.kind == "frozen":
                problems = await run_in_threadpool(frozen_problems, self.services, route)
            elif route is not None and route.kind == "refused":
                problems, status = [route.reason], route.status
            if route is not None and problems:
                await run_in_threadpool(self._audit, scope, route, problems)
                await _refuse(send, status, "creditflow: " + "; ".join(problems))
                return
        await self.app(scope, receive, send)

    def _native(self, scope: Scope) -> bool:
        """Whether FastAPI serves the request itself (not through the Flask app mounted at /)."""
        if self.router is None:
            return True
        for route in self.router.routes:
            if isinstance(route, Mount):
                continue
            if route.matches(scope)[0] == Match.FULL:  # PARTIAL (another method): Flask serves it
                return True
        return False

    def _audit(self, scope: Scope, route: Route, problems: list[str]) -> None:
        user = (scope.get("state") or {}).get("username")
        if not user:
            self.services.count_anonymous()
            return
        pending = Pending(f"{scope['method']} {scope['path']}", route.action, Actor(user, ""), {}, "")
        pending.target = route.path or route.run_id or route.model_id
        self.services.audit(pending, "refused", "; ".join(problems))


async def _refuse(send: Send, status: int, message: str) -> None:
    code = "PERMISSION_DENIED" if status == 403 else "INVALID_PARAMETER_VALUE"
    body = error_body(code, message).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
