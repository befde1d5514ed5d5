"""The failed-login rules (pure): counts per user and per address, lockout after the limit, a fresh count after a
served lockout or an ended window; the limits from server.env; the Basic header read as leniently as MLflow reads it."""

from __future__ import annotations

import base64

import pytest

from features.errors import CreditflowError
from pipelines.server.login_guard import basic_credentials
from pipelines.server.throttle import (
    ADDRESS,
    USER,
    Count,
    LoginLimits,
    after_failure,
    keys,
    newly_locked,
    refusal,
)

LIMITS = LoginLimits(user_failures=5, address_failures=20, window_seconds=300, lockout_seconds=60)


def failures(n: int, kind: str = USER, start: float = 1000.0, every: float = 1.0) -> Count | None:
    count = None
    for i in range(n):
        count = after_failure(count, kind, start + i * every, LIMITS)
    return count


def test_the_fifth_failure_of_a_user_locks_it_for_the_lockout():
    fourth, fifth = failures(4), failures(5)
    assert fourth == Count(4, 1000.0, 0.0)
    assert fifth == Count(5, 1000.0, 1004.0 + 60)
    assert newly_locked(fourth, fifth, 1004.0)
    assert refusal({(USER, "ds1"): fourth}, 1004.0) is None
    refused = refusal({(USER, "ds1"): fifth}, 1005.0)
    assert refused is not None and (refused.kind, refused.key, refused.retry_after) == (USER, "ds1", 59)
    assert "too many failed logins for user ds1" in refused.message() and "retry after 59 s" in refused.message()


def test_an_address_takes_twenty():
    assert failures(19, ADDRESS).locked_until == 0.0
    assert failures(20, ADDRESS).locked_until > 0


def test_failures_spread_wider_than_the_window_never_lock():
    assert failures(50, every=LIMITS.window_seconds / 4).locked_until == 0.0


def test_after_the_lockout_the_count_starts_again():
    locked = failures(5)
    assert refusal({(USER, "ds1"): locked}, locked.locked_until) is None  # served
    again = after_failure(locked, USER, locked.locked_until + 1, LIMITS)
    assert again == Count(1, locked.locked_until + 1, 0.0)


def test_a_late_failure_during_a_lockout_extends_it_but_is_not_a_new_lockout():
    locked = failures(5)
    later = after_failure(locked, USER, 1010.0, LIMITS)
    assert later.locked_until == 1010.0 + 60 and not newly_locked(locked, later, 1010.0)


def test_the_longest_lockout_answers():
    counts = {(USER, "ds1"): Count(5, 0, 1100.0), (ADDRESS, "10.0.0.1"): Count(20, 0, 1300.0)}
    found = refusal(counts, 1000.0)
    assert found is not None and (found.kind, found.retry_after) == (ADDRESS, 300)


def test_keys_cut_long_claimed_names():
    assert keys("x" * 10_000, "::1") == [(USER, "x" * 200), (ADDRESS, "::1")]


def test_limits_from_the_server_environment():
    assert LoginLimits.from_environment({}) == LoginLimits()
    assert LoginLimits.from_environment(LoginLimits(3, 9, 30, 5).environment()) == LoginLimits(3, 9, 30, 5)
    for bad in ("0", "-1", "five", "1.5"):
        with pytest.raises(CreditflowError, match=rf"CREDITFLOW_LOGIN_USER_FAILURES='{bad}': a whole number"):
            LoginLimits.from_environment({"CREDITFLOW_LOGIN_USER_FAILURES": bad})


def basic(text: bytes) -> str:
    return "Basic " + base64.b64encode(text).decode()


@pytest.mark.parametrize(
    "header, user",
    [
        (basic(b"ds1:secret"), "ds1"),
        (basic(b"ds1:"), "ds1"),
        (basic(b"d\xe9:x"), "d\xe9"),  # not UTF-8: werkzeug refuses it, the name is still counted
        ("basic " + base64.b64encode(b"ds1:pw").decode(), "ds1"),
        (basic(b"no-colon"), None),
        ("Bearer abc", None),
        ("", None),
        ("Basic !!!!", None),
    ],
)
def test_the_user_name_of_a_basic_header(header, user):
    assert basic_credentials(header) == user
