"""The Flask hooks of the login throttle (the gunicorn path; uvicorn's middleware is tried against a real server in
test_team_throttle.py): a locked-out login never reaches the password check, a 401 is counted before the answer
leaves, a success clears the user's count."""

from __future__ import annotations

import base64
from typing import Callable

from flask import Flask, Response, request

from pipelines.server.login_guard import LoginGuard, flask_after, flask_before
from pipelines.server.throttle import USER, Count, LoginLimits

LIMITS = LoginLimits(user_failures=3, address_failures=100, window_seconds=60, lockout_seconds=30)


class MemoryCounts:
    """LoginCounts' interface on a dict (the SQL is exercised against PostgreSQL in test_team_throttle.py)."""

    def __init__(self) -> None:
        self.counts: dict[tuple[str, str], Count] = {}

    def read(self, pairs: list[tuple[str, str]]) -> dict[tuple[str, str], Count]:
        return {pair: self.counts[pair] for pair in pairs if pair in self.counts}

    def count(self, kind: str, key: str, update: Callable[[Count | None], Count]) -> tuple[Count | None, Count]:
        before = self.counts.get((kind, key))
        self.counts[(kind, key)] = update(before)
        return before, self.counts[(kind, key)]

    def forget(self, kind: str, key: str) -> None:
        self.counts.pop((kind, key), None)

    def drop_stale(self, before: float) -> None:
        pass


def app_with_guard(checked: list[str]) -> tuple[Flask, LoginGuard, list[tuple[str, str]]]:
    lockouts: list[tuple[str, str]] = []
    guard = LoginGuard(
        MemoryCounts(), LIMITS, lambda kind, key, count: lockouts.append((kind, key)), clock=lambda: 1000
    )
    app = Flask("t")

    def password_check() -> Response | None:  # what basic-auth's _before_request does
        checked.append(request.authorization.username if request.authorization else "")
        ok = request.authorization is not None and request.authorization.password == "right"
        return None if ok else Response("no", status=401)

    app.before_request(password_check)
    app.before_request_funcs[None].insert(0, lambda: flask_before(guard))
    app.after_request(lambda response: flask_after(guard, response))
    app.add_url_rule("/api", "api", lambda: "ok")
    return app, guard, lockouts


def auth(user: str, password: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


def test_a_locked_out_login_never_reaches_the_password_check():
    checked: list[str] = []
    app, guard, lockouts = app_with_guard(checked)
    client = app.test_client()
    codes = [client.get("/api", headers=auth("ds1", "wrong")).status_code for _ in range(6)]
    assert codes == [401, 401, 401, 429, 429, 429] and checked == ["ds1"] * 3
    assert lockouts == [(USER, "ds1")]
    refused = client.get("/api", headers=auth("ds1", "right"))
    assert refused.status_code == 429 and refused.headers["Retry-After"] == "30" and checked == ["ds1"] * 3
    assert "too many failed logins for user ds1" in refused.get_json()["message"]
    assert client.get("/api", headers=auth("ds2", "right")).status_code == 200
    assert client.get("/api").status_code == 401  # no credentials: no password checked, so not a failed login
    assert guard.counts.read([("address", "127.0.0.1")])[("address", "127.0.0.1")].failures == 3
    assert guard.refused == 4


def test_a_successful_login_clears_its_users_count():
    app, guard, _ = app_with_guard([])
    client = app.test_client()
    client.get("/api", headers=auth("ds1", "wrong"))
    client.get("/api", headers=auth("ds1", "wrong"))
    assert client.get("/api", headers=auth("ds1", "right")).status_code == 200
    assert guard.counts.read([(USER, "ds1")]) == {}
    assert [client.get("/api", headers=auth("ds1", "wrong")).status_code for _ in range(3)] == [401, 401, 401]


def test_the_asgi_middleware_settles_a_login_before_the_caller_hears_the_answer():
    """uvicorn's path: a client that reads its 200 and at once looks again must find its count cleared (a team test
    read the count right after its 200 and found it still there: the count was cleared after the body was sent)."""
    import asyncio

    from pipelines.server.login_guard import ThrottleLogins

    guard = LoginGuard(MemoryCounts(), LIMITS, clock=lambda: 1000)
    events: list[str] = []

    async def app(scope, receive, send) -> None:  # basic-auth accepted the password
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})

    async def send(message) -> None:
        counted = guard.counts.read([(USER, "ds1")])
        events.append(f"{message['type']} with {'a count' if counted else 'no count'}")

    async def failures_then_success() -> None:
        for _ in range(2):  # two wrong passwords counted
            guard.failed(guard.check("ds1", "127.0.0.1")[0])
        headers = [(b"authorization", auth("ds1", "right")["Authorization"].encode())]
        scope = {"type": "http", "headers": headers, "client": ("127.0.0.1", 5000), "path": "/api", "method": "GET"}
        await ThrottleLogins(app, guard)(scope, lambda: None, send)

    asyncio.run(failures_then_success())
    assert events == ["http.response.start with no count", "http.response.body with no count"]
