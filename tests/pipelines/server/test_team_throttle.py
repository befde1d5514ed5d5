"""Issue 24.4 against a real team server: failed logins are throttled per user and per address, refused with 429
and Retry-After before the password is checked (the right password too, until the lockout ends), counted in the
governance database (so every worker sees them) and never written as audit rows under a claimed name."""

from __future__ import annotations

import time

import pytest
import requests

from pipelines.server.login_counts import LoginCounts
from pipelines.server.login_guard import LoginGuard
from pipelines.server.store import GovernanceStore
from pipelines.server.throttle import ADDRESS, USER, LoginLimits
from tests.pipelines.server.conftest import TEST_LOGIN_LIMITS, connect
from tests.pipelines.server.test_team_faults import scratch_governance_db  # noqa: F401

pytestmark = pytest.mark.slow
SEARCH = "/api/2.0/mlflow/registered-models/search"


@pytest.fixture(autouse=True)
def fresh_counts(request):
    """Every test of the session logs in from 127.0.0.1: start these with no failures counted (as the superuser)."""
    if "team_server" in request.fixturenames:
        conn = connect(f"{request.getfixturevalue('team_server').prefix}_governance")
        with conn.cursor() as cur:
            cur.execute("DELETE FROM login_failures")
        conn.close()


def _get(server, user: str, password: str) -> requests.Response:
    return requests.get(f"{server.uri}{SEARCH}", auth=(user, password), timeout=60)


def _counted(server, kind: str, key: str) -> int | None:
    conn = connect(f"{server.prefix}_governance")
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT failures FROM login_failures WHERE kind = %s AND key = %s", (kind, key))
            found = cur.fetchone()
    finally:
        conn.close()
    return None if found is None else found[0]


def _wait_out(answer: requests.Response) -> None:
    time.sleep(int(answer.headers["Retry-After"]) + 0.5)


def _add_user(server, name: str) -> None:
    server.passwords[name] = f"{name}-password-123"
    password = server.passwords[name]
    command = ("server", "user", "add", name, "--role", "reviewer")
    added = server.cli("admin", *command, CREDITFLOW_NEW_USER_PASSWORD=password)
    assert added.exit_code == 0, added.output


def test_fifty_wrong_passwords_lock_the_user_out_and_the_right_one_waits_for_the_lockout(team_server):
    server = team_server
    _add_user(server, "lock1")
    before = len(server.audit())
    answers = [_get(server, "lock1", f"wrong-{i}") for i in range(50)]
    codes = [a.status_code for a in answers]
    limit = TEST_LOGIN_LIMITS.user_failures
    assert codes[:limit] == [401] * limit and set(codes[limit:]) == {429}, codes
    retry = [int(a.headers["Retry-After"]) for a in answers[limit:]]
    assert all(1 <= r <= TEST_LOGIN_LIMITS.lockout_seconds for r in retry)
    assert "too many failed logins for user lock1" in answers[-1].json()["message"]
    assert _counted(server, USER, "lock1") == limit  # the 45 refused were never checked, so never counted
    right = _get(server, "lock1", server.passwords["lock1"])
    assert right.status_code == 429  # the right password too, until the lockout ends
    assert _get(server, "ds2", server.passwords["ds2"]).status_code == 200  # another user is not affected
    refused = server.cli("lock1", "status", "german_credit")
    lines = refused.output.strip().splitlines()
    assert refused.exit_code == 2 and len(lines) == 1, refused.output
    assert "refused the login (429, locked out): too many failed logins for user lock1" in lines[0]
    assert "retry after" in lines[0]
    rows = server.audit()[before:]
    lockout = ("creditflow-server", "login_lockout", "lock1")
    assert [(r["username"], r["action"], r["target"]) for r in rows] == [lockout]
    _wait_out(right)
    assert _get(server, "lock1", server.passwords["lock1"]).status_code == 200
    assert _counted(server, USER, "lock1") is None  # a successful login clears the user's count


def test_an_invented_name_locks_out_without_an_audit_row(team_server):
    server = team_server
    before = len(server.audit())
    codes = [_get(server, "ghost", "x" * 12).status_code for _ in range(8)]
    assert codes[:5] == [401] * 5 and set(codes[5:]) == {429}
    assert len(server.audit()) == before  # anonymous: counted, never a row
    _wait_out(_get(server, "ghost", "x" * 12))


def test_twenty_failures_from_one_address_lock_every_login_from_it(team_server):
    server = team_server
    codes = []
    for i in range(TEST_LOGIN_LIMITS.address_failures + 5):
        codes.append(_get(server, f"spray{i}", "x" * 12).status_code)
        if codes[-1] == 429:
            break
    assert codes[-1] == 429 and len(codes) <= TEST_LOGIN_LIMITS.address_failures + 1, codes
    locked = _get(server, "ds2", server.passwords["ds2"])
    assert locked.status_code == 429 and "too many failed logins for address 127.0.0.1" in locked.json()["message"]
    _wait_out(locked)
    assert _get(server, "ds2", server.passwords["ds2"]).status_code == 200


def test_the_counts_are_shared_by_every_worker(scratch_governance_db):  # noqa: F811
    """Two guards on one governance database, as two workers of one server: failures counted by one lock the user
    out in the other (an attacker cannot spread guesses over workers)."""
    limits = LoginLimits(user_failures=3, address_failures=100, window_seconds=60, lockout_seconds=60)
    store = GovernanceStore(scratch_governance_db, max_connections=2)
    first, second = (LoginGuard(LoginCounts(store), limits) for _ in range(2))
    for guard in (first, second, first):
        login, refused = guard.check("ds1", "10.0.0.9")
        assert refused is None
        guard.failed(login)
    _, refused = second.check("ds1", "10.0.0.9")
    assert refused is not None and (refused.kind, refused.key) == (USER, "ds1")
    _, other = second.check("ds2", "10.0.0.9")
    assert other is None
    assert LoginCounts(store).read([(ADDRESS, "10.0.0.9")])[(ADDRESS, "10.0.0.9")].failures == 3
    store.close()
