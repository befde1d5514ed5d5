"""The rules of failed-login throttling on the team server, as pure functions (data in, decisions out).

A failed login is a request whose basic-auth credentials MLflow refused (401): each one cost the server a password
hash (~0.3-0.5 s of CPU). Failures are counted per claimed user name and per client address; after `user_failures`
(or `address_failures`) of them within `window_seconds`, logins of that user (from that address) are refused with 429
and `Retry-After` for `lockout_seconds`, BEFORE MLflow checks the password: a correct password is refused too until
the lockout ends, and the refusal costs no hash. A lockout that ended starts the count afresh; a successful login
clears its user's count (never the address's: an attacker with an account of their own could clear it between
guesses). The counts live in the governance database (`GovernanceStore.login_*`), so every worker sees them.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, fields
from typing import Mapping

from features.errors import CreditflowError

USER, ADDRESS = "user", "address"
_KEY_LENGTH = 200  # a claimed name is stored for counting only: longer ones are cut (they are not users anyway)


@dataclass(frozen=True)
class LoginLimits:
    """How many failed logins lock a user or an address out, and for how long (`server.env`, read by every worker)."""

    user_failures: int = 5
    address_failures: int = 20
    window_seconds: int = 300
    lockout_seconds: int = 300

    @classmethod
    def from_environment(cls, environment: Mapping[str, str] = os.environ) -> "LoginLimits":
        """The limits `CREDITFLOW_LOGIN_*` set (the defaults for those unset); one line naming a bad value."""
        values = {}
        for item in fields(cls):
            name = env_name(item.name)
            text = environment.get(name, "").strip()
            if not text:
                continue
            if not text.isdigit() or int(text) < 1:
                raise CreditflowError(f"{name}={text!r}: a whole number of at least 1 (server.env)")
            values[item.name] = int(text)
        return cls(**values)

    def environment(self) -> dict[str, str]:
        """The limits as `server.env` lines (what `server init` writes, with the defaults)."""
        return {env_name(item.name): str(getattr(self, item.name)) for item in fields(self)}


def env_name(field_name: str) -> str:
    return f"CREDITFLOW_LOGIN_{field_name.upper()}"


@dataclass(frozen=True)
class Count:
    """Failed logins of one user name or one address: how many since `window_start`, locked until when (epoch s)."""

    failures: int = 0
    window_start: float = 0.0
    locked_until: float = 0.0


@dataclass(frozen=True)
class Refusal:
    """A login refused without checking its password: whose lockout, and how many seconds until it ends."""

    kind: str
    key: str
    retry_after: int

    def message(self) -> str:
        who = f"user {self.key}" if self.kind == USER else f"address {self.key}"
        return (
            f"creditflow: too many failed logins for {who}: logins are refused for {self.retry_after} s more "
            f"(retry after {self.retry_after} s)"
        )


def keys(username: str, address: str) -> list[tuple[str, str]]:
    """The counters a login from `address` as `username` touches."""
    return [(USER, username[:_KEY_LENGTH]), (ADDRESS, address[:_KEY_LENGTH])]


def refusal(counts: Mapping[tuple[str, str], Count], now: float) -> Refusal | None:
    """The lockout that refuses a login now (the one that lasts longest when both the user and the address are
    locked), or None."""
    locked = [(count.locked_until, kind, key) for (kind, key), count in counts.items() if count.locked_until > now]
    if not locked:
        return None
    until, kind, key = max(locked)
    return Refusal(kind, key, max(1, math.ceil(until - now)))


def after_failure(count: Count | None, kind: str, now: float, limits: LoginLimits) -> Count:
    """The count after one more failed login: a fresh window when the last one ended or a lockout expired; locked for
    `lockout_seconds` when the limit is reached."""
    fresh = (
        count is None
        or now - count.window_start >= limits.window_seconds
        or 0 < count.locked_until <= now  # the lockout was served: the count starts again
    )
    failures, start = (1, now) if fresh or count is None else (count.failures + 1, count.window_start)
    limit = limits.user_failures if kind == USER else limits.address_failures
    locked_until = now + limits.lockout_seconds if failures >= limit else 0.0
    return Count(failures, start, locked_until)


def newly_locked(before: Count | None, after: Count, now: float) -> bool:
    """Whether this failure is the one that imposed the lockout (worth one line in the audit log)."""
    return after.locked_until > now and not (before is not None and before.locked_until > now)
