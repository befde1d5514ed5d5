"""Failed-login throttling in front of MLflow's basic-auth: a login from a locked-out user or address is answered
429 with `Retry-After` before MLflow hashes its password (the hash is what an attacker spends the server's CPU on).

MLflow authenticates in two places: Flask's `_before_request` (every REST and UI route, and creditflow's own
endpoints) and, under uvicorn, a FastAPI middleware for the routes FastAPI serves itself (artifact up/downloads,
gateway...). So the guard is an ASGI middleware outside all of basic-auth's under uvicorn (it sees every request),
and Flask hooks that run first under gunicorn (where there is no FastAPI). Either way a 401 to a request that carried
credentials is a failed login (counted, never an audit row: the name is only claimed), any other answer a successful
one (the user's count cleared). The lockout of an existing user is one audit row, written by the server.
"""

from __future__ import annotations

import base64
import binascii
import logging
import random
import time
from dataclasses import dataclass
from functools import partial
from typing import Any, Callable

import psycopg2
from flask import Response, g, request
from psycopg2.pool import PoolError
from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from pipelines.governance.rules.permissions import SERVER, Actor
from pipelines.server.login_counts import LoginCounts
from pipelines.server.services import Pending, Services, error_body
from pipelines.server.throttle import USER, Count, LoginLimits, Refusal, after_failure, keys, newly_locked, refusal

log = logging.getLogger("creditflow.server")
UNAVAILABLE = "creditflow: the governance database is unavailable: logins wait until it is back"
_UNPROTECTED = ("/static", "/favicon.ico", "/health")  # MLflow checks no password there


@dataclass(frozen=True)
class Login:
    """One request's claimed credentials, and the counts the guard read for them."""

    username: str
    address: str
    counts: dict[tuple[str, str], Count]


class LoginGuard:
    def __init__(
        self,
        counts: LoginCounts,
        limits: LoginLimits,
        on_lockout: Callable[[str, str, Count], None] = lambda kind, key, count: None,
        clock: Callable[[], float] = time.time,
    ):
        self.counts, self.limits, self.on_lockout, self.clock = counts, limits, on_lockout, clock
        self.refused = 0  # logins this process refused without checking the password (a metric, not audit rows)

    def check(self, username: str, address: str) -> tuple[Login, Refusal | None]:
        login = Login(username, address, self.counts.read(keys(username, address)))
        found = refusal(login.counts, self.clock())
        if found is not None:
            self.refused += 1
        return login, found

    def failed(self, login: Login) -> None:
        now = self.clock()
        for kind, key in keys(login.username, login.address):
            before, after = self.counts.count(kind, key, partial(after_failure, kind=kind, now=now, limits=self.limits))
            if newly_locked(before, after, now):
                self.on_lockout(kind, key, after)
        if random.random() < 0.05:  # now and then, not on every failure: the table is small either way
            self.counts.drop_stale(now - self.limits.window_seconds - self.limits.lockout_seconds)

    def succeeded(self, login: Login) -> None:
        user = keys(login.username, login.address)[0]
        if user in login.counts:  # a count to clear: the one write a successful login may cost
            self.counts.forget(*user)


def record_lockout(services: Services, limits: LoginLimits, kind: str, key: str, count: Count) -> None:
    """One audit row when an existing user is locked out (an attack on a real account is worth a reviewer's eye); an
    address or a made-up name is only counted, or anyone could fill the log with names they invent."""
    if kind != USER or not services.is_user(key):
        return
    until = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(count.locked_until))
    pending = Pending("login", "login_lockout", Actor(SERVER, ""), {}, "", kind="login", target=key)
    reason = f"{count.failures} failed logins within {limits.window_seconds} s: logins of {key} refused until {until}"
    services.audit(pending, "refused", reason)


def basic_credentials(header: str) -> str | None:
    """The user name of a `Basic` Authorization header; None for no header, another scheme or one no parser of
    MLflow's reads (it answers those 401 without hashing anything). Decoded as leniently as the most lenient of them
    (werkzeug's strict base64 and UTF-8, MLflow's FastAPI path lenient base64), so none checks a password unguarded."""
    scheme, _, encoded = header.strip().partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        raw = base64.b64decode(encoded.strip())
    except (binascii.Error, ValueError):
        return None
    try:
        decoded = raw.decode("utf-8")
    except UnicodeDecodeError:
        decoded = raw.decode("latin-1")
    username, colon, _password = decoded.partition(":")
    return username if colon else None


def too_many(found: Refusal) -> tuple[int, str, dict[str, str]]:
    """The 429 answer: status, MLflow's error shape, and when to come back."""
    return 429, error_body("REQUEST_LIMIT_EXCEEDED", found.message()), {"Retry-After": str(found.retry_after)}


# Flask (gunicorn workers): the first before_request hook and an after_request hook


def flask_before(guard: LoginGuard) -> Response | None:
    if request.path.startswith(_UNPROTECTED):
        return None
    username = basic_credentials(request.headers.get("Authorization", ""))
    if username is None:
        return None
    try:
        login, found = guard.check(username, request.remote_addr or "")
    except (psycopg2.Error, PoolError):
        return Response(error_body("TEMPORARILY_UNAVAILABLE", UNAVAILABLE), status=503, mimetype="application/json")
    if found is not None:
        status, body, headers = too_many(found)
        return Response(body, status=status, headers=headers, mimetype="application/json")
    g.creditflow_login = login
    return None


def flask_after(guard: LoginGuard, response: Response) -> Response:
    login = g.pop("creditflow_login", None)
    if login is not None:
        _settle(guard, login, response.status_code)
    return response


def _settle(guard: LoginGuard, login: Login, status: int) -> None:
    try:
        guard.failed(login) if status == 401 else guard.succeeded(login)
    except Exception:  # the answer is given; a lost count must be loud, not a lost response
        log.exception("creditflow: could not count the login of %s from %s", login.username, login.address)


# uvicorn: an ASGI middleware outside basic-auth's


class ThrottleLogins:
    def __init__(self, app: ASGIApp, guard: LoginGuard) -> None:
        self.app = app
        self.guard = guard

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        username = _asgi_username(scope) if scope["type"] == "http" else None
        if username is None:
            await self.app(scope, receive, send)
            return
        address = (scope.get("client") or ("", 0))[0] or ""
        try:
            login, found = await run_in_threadpool(self.guard.check, username, address)
        except (psycopg2.Error, PoolError):
            await _answer(send, 503, error_body("TEMPORARILY_UNAVAILABLE", UNAVAILABLE), {})
            return
        if found is not None:
            await _answer(send, *too_many(found))
            return

        async def recording(message: Message) -> None:
            if message["type"] == "http.response.start":
                # settled before the caller hears of it: its next guess meets the count, and after a success the
                # count is gone (a success with no count to clear costs nothing here)
                await run_in_threadpool(_settle, self.guard, login, message["status"])
            await send(message)

        await self.app(scope, receive, recording)


def _asgi_username(scope: Scope) -> str | None:
    path = scope.get("path", "")
    if path.startswith(_UNPROTECTED):
        return None
    headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
    gateway = headers.get("x-mlflow-authorization", "") if path.startswith("/gateway/") else ""
    return basic_credentials(gateway or headers.get("authorization", ""))


async def _answer(send: Send, status: int, body: str, headers: dict[str, str]) -> None:
    raw = body.encode()
    listed: list[Any] = [(b"content-type", b"application/json"), (b"content-length", str(len(raw)).encode())]
    listed += [(k.lower().encode(), v.encode()) for k, v in headers.items()]
    await send({"type": "http.response.start", "status": status, "headers": listed})
    await send({"type": "http.response.body", "body": raw})


__all__ = ["USER", "LoginGuard", "ThrottleLogins", "basic_credentials", "flask_after", "flask_before"]
