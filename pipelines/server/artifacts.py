"""The artifact freeze for uploads that never reach Flask: under uvicorn, MLflow serves artifact uploads
(`PUT /api/2.0/mlflow-artifacts/artifacts/<path>`) as FastAPI routes, so Flask's hooks do not see them.
This ASGI middleware sits inside basic-auth's (the user is authenticated and named in the request state) and
refuses an upload into a registered version's files with the same check as the Flask gate."""

from __future__ import annotations

import re

from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Receive, Scope, Send

from pipelines.governance.rules.permissions import Actor
from pipelines.server.gate import frozen_problems
from pipelines.server.routes import artifact_route, unprefixed
from pipelines.server.services import Pending, Services, error_body

_UPLOAD = re.compile(r"^/mlflow-artifacts/artifacts/(?P<path>.+)$")


class FreezeArtifacts:
    def __init__(self, app: ASGIApp, services: Services) -> None:
        self.app = app
        self.services = services

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "PUT":
            found = _UPLOAD.match(unprefixed(scope["path"]) or "")
            route = artifact_route("PUT", found.group("path")) if found else None
            if route is not None:
                problems = await run_in_threadpool(frozen_problems, self.services, route)
                if problems:
                    await run_in_threadpool(self._audit, scope, route.path, problems)
                    await _forbidden(send, "creditflow: " + "; ".join(problems))
                    return
        await self.app(scope, receive, send)

    def _audit(self, scope: Scope, path: str, problems: list[str]) -> None:
        user = (scope.get("state") or {}).get("username") or "(anonymous)"
        pending = Pending(f"PUT {scope['path']}", "put_artifact", Actor(user, ""), {}, "")
        pending.target = path
        self.services.audit(pending, "refused", "; ".join(problems))


async def _forbidden(send: Send, message: str) -> None:
    body = error_body("PERMISSION_DENIED", message).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": 403, "headers": headers})
    await send({"type": "http.response.body", "body": body})
