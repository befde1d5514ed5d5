"""Caches in front of the look-ups basic-auth (and the gate) repeat on every request (issue 24.8).

A logged batch cost about 14 SQL statements before MLflow's handler ran: the user read three times (admin check,
grants, the gate's role), the grants, and the whole run (params, metrics, tags, inputs) only to learn its
experiment. Two caches, installed into MLflow's basic-auth module by `install` when the app is built:

- `CachedAuthStore` wraps basic-auth's store: `get_user`, `list_user_roles` and `list_grants` answers are kept for
  `seconds`. Every other call that may write (any method not named `get_*`, `list_*`, `has_*`, `authenticate*`)
  clears them first, so a role, grant, admin flag, password or user changed through this server process takes
  effect at its next request. Another process (a second gunicorn worker) sees it within `seconds`: that is the
  stated bound, CREDITFLOW_AUTH_CACHE_SECONDS (default 10; 0 turns the cache off).
- `RunExperiments` answers basic-auth's `get_run` with the run's experiment, the one field it reads to find the
  grants. A run never moves between experiments, so a found run's experiment is kept for the life of the process;
  an unknown run is asked of the store every time (and refused, as before). Its stand-in carries nothing else:
  a future MLflow reading another field fails loudly instead of reading a stale value.

The verified-credentials cache is MLflow's own (`auth_cache_ttl_seconds` in basic_auth.ini, keyed by an HMAC of
the password under a per-process key, dropped for a user whose password changes or who is deleted); `server init`
sets it to the same bound. When it expires, `CachedAuthStore.authenticate_user` re-checks a credential it verified
before by reading the user's stored password hash (one indexed read): unchanged, the credential still holds; changed
or gone, the full hash check runs and decides. So the bound costs a read every 10 s, not a deliberately slow hash
(~0.3 s, seconds on a loaded machine). Only an HMAC of username and password under a per-process key is kept, beside
the stored hash it was verified against (which the database holds anyway). Failed logins are never cached: a
password guess always pays the full hash.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import threading
import time
from types import SimpleNamespace
from typing import Any, Callable

AUTH_CACHE_SECONDS_ENV = "CREDITFLOW_AUTH_CACHE_SECONDS"
DEFAULT_SECONDS = 10.0
CACHED = frozenset({"get_user", "list_user_roles", "list_grants"})
READ_ONLY = ("get_", "list_", "has_", "authenticate", "_")  # `_`: SQLAlchemy internals, never a write
_MAX_ENTRIES = 10_000


def cache_seconds(environment: dict[str, str] | os._Environ[str] = os.environ) -> float:
    """The bound from the environment; a bad value is refused at start-up rather than silently ignored."""
    raw = environment.get(AUTH_CACHE_SECONDS_ENV, "")
    try:
        seconds = float(raw) if raw else DEFAULT_SECONDS
    except ValueError:
        raise ValueError(f"{AUTH_CACHE_SECONDS_ENV}={raw!r}: a number of seconds") from None
    if not 0 <= seconds <= 300:
        raise ValueError(f"{AUTH_CACHE_SECONDS_ENV}={raw!r}: between 0 and 300 seconds")
    return seconds


class TTLMemo:
    """Thread-safe answers by key, each kept for `seconds` (the request threads of one server process share it)."""

    def __init__(self, seconds: float, clock: Callable[[], float] = time.monotonic):
        self.seconds, self.clock = seconds, clock
        self._values: dict[Any, tuple[float, Any]] = {}
        self._lock = threading.Lock()

    def get(self, key: Any, load: Callable[[], Any]) -> Any:
        now = self.clock()
        with self._lock:
            found = self._values.get(key)
        if found is not None and found[0] > now:
            return found[1]
        value = load()  # outside the lock: a slow store read does not hold up other users' hits
        with self._lock:
            if len(self._values) >= _MAX_ENTRIES:
                self._values.clear()
            self._values[key] = (now + self.seconds, value)
        return value

    def clear(self) -> None:
        with self._lock:
            self._values.clear()


class CachedAuthStore:
    """basic-auth's store with its per-request reads cached; any other call clears the cache before it runs."""

    def __init__(self, store: Any, seconds: float, clock: Callable[[], float] = time.monotonic):
        self._store = store
        self._memo = TTLMemo(seconds, clock)
        self._key = secrets.token_bytes(32)
        self._verified: dict[bytes, str] = {}  # HMAC(username, password) -> the stored hash it was checked against
        self._verified_lock = threading.Lock()

    def authenticate_user(self, username: str, password: str, **options: Any) -> bool:
        """The full password check, unless this credential was verified against the hash the store still holds."""
        try:
            stored = str(self._store.get_user(username).password_hash)  # fresh, never from the memo
        except Exception:  # noqa: BLE001 - an unknown user: the store's own check answers (False)
            return bool(self._store.authenticate_user(username, password, **options))
        key = hmac.new(self._key, f"{username}\0{password}".encode(), hashlib.sha256).digest()
        with self._verified_lock:
            known = self._verified.get(key)
        if known is not None and hmac.compare_digest(known, stored):
            return True
        verified = bool(self._store.authenticate_user(username, password, **options))
        with self._verified_lock:
            if len(self._verified) >= _MAX_ENTRIES:
                self._verified.clear()
            if verified:
                self._verified[key] = stored
            else:
                self._verified.pop(key, None)
        return verified

    @property
    def wrapped(self) -> Any:
        return self._store

    def clear(self) -> None:
        self._memo.clear()

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self._store, name)
        if not callable(attribute):
            return attribute
        if name in CACHED:
            return lambda *args: _copy(self._memo.get((name, *map(_hashable, args)), lambda: attribute(*args)))
        if name.startswith(READ_ONLY):
            return attribute

        def clearing(*args: Any, **kwargs: Any) -> Any:
            self._memo.clear()  # before and after: a read racing the write cannot keep the old answer
            try:
                return attribute(*args, **kwargs)
            finally:
                self._memo.clear()

        return clearing


class RunExperiments:
    """A tracking store for basic-auth whose `get_run` returns only the run's (immutable) experiment."""

    _experiments: dict[str, str] = {}
    _lock = threading.Lock()

    def __init__(self, store: Any):
        self._store = store

    def get_run(self, run_id: str) -> Any:
        experiment = self._experiments.get(run_id)
        if experiment is None:
            experiment = str(self._store.get_run(run_id).info.experiment_id)  # unknown runs raise, as before
            with self._lock:
                if len(self._experiments) >= _MAX_ENTRIES:
                    self._experiments.clear()
                self._experiments[run_id] = experiment
        return SimpleNamespace(info=SimpleNamespace(run_id=run_id, experiment_id=experiment))

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)


def install(auth_module: Any, seconds: float) -> CachedAuthStore | None:
    """Put both caches into MLflow's basic-auth module (its functions read `store` and `_get_tracking_store` at
    call time); None, and nothing changed, when `seconds` is 0."""
    if seconds <= 0:
        return None
    store = auth_module.store
    if not isinstance(store, CachedAuthStore):
        store = CachedAuthStore(store, seconds)
        auth_module.store = store
    tracking = auth_module._get_tracking_store
    if not getattr(tracking, "creditflow_cached", False):
        cached_tracking: Any = lambda: RunExperiments(tracking())  # noqa: E731
        cached_tracking.creditflow_cached = True
        auth_module._get_tracking_store = cached_tracking
    return store


def _hashable(value: Any) -> Any:
    if isinstance(value, (set, frozenset)):
        return frozenset(value)
    if isinstance(value, list):
        return tuple(value)
    return value


def _copy(value: Any) -> Any:
    """A fresh list for each caller (callers may sort or extend it); entities themselves are not changed by
    basic-auth's readers."""
    return list(value) if isinstance(value, list) else value
