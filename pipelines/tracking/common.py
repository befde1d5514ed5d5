"""What every part of the MLflow adapter shares: errors, value types, the connection and its guard."""

from __future__ import annotations

import logging
import os
import re
import socket
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, TypeVar

import mlflow
from mlflow import MlflowClient
from mlflow.exceptions import MlflowException
from mlflow.tracking.registry import UnsupportedModelRegistryStoreURIException
from sqlalchemy.exc import SQLAlchemyError

from features.errors import CreditflowError

DEFAULT_TRACKING_URI = "sqlite:///mlflow.db"
_DATABASE_SCHEMES = ("sqlite", "postgresql", "mysql", "mssql")  # stores MLflow reaches through SQLAlchemy

_MAX_PARAM_CHARS = 6000
T = TypeVar("T")
CREDENTIALS_HINT = "set MLFLOW_TRACKING_USERNAME and MLFLOW_TRACKING_PASSWORD (or ~/.mlflow/credentials)"


class TrackingError(CreditflowError):
    """The tracking store cannot be reached or refused an operation."""


class RefusedByServer(TrackingError):
    """A team server's gate (or its basic-auth) said no to a change: a verdict, exit 1."""

    exit_code = 1


class UnknownModelError(CreditflowError):
    """A registered model, version or alias that does not exist."""


def parse_model_ref(ref: str, *, default_alias: str = "champion") -> tuple[str, str | None, str | None]:
    """`NAME`, `NAME@ALIAS`, `NAME/VERSION` or `models:/...` of those → (name, alias, version).

    A bare NAME means its `default_alias`.
    """
    text = ref.removeprefix("models:/").strip()
    if "@" in text:
        name, alias = text.split("@", 1)
        version = None
    elif "/" in text:
        name, version = text.rsplit("/", 1)
        alias = None
    else:
        name, alias, version = text, default_alias, None
    if not name or (alias is not None and not alias) or (version is not None and not version.isdigit()):
        raise UnknownModelError(f"model reference {ref!r}: expected NAME, NAME@ALIAS or NAME/VERSION")
    return name, alias, version


def resolve_tracking_uri(value: str | None) -> str:
    """`--tracking-uri`, else MLFLOW_TRACKING_URI, else ./mlflow.db (never the refused ./mlruns file store)."""
    return value or os.environ.get("MLFLOW_TRACKING_URI") or DEFAULT_TRACKING_URI


@dataclass(frozen=True)
class StoredRun:
    """A run read back as a stored record: its params and what the store says about it."""

    run_id: str
    params: dict[str, str]
    start_ms: int
    deleted: bool


@dataclass(frozen=True)
class RunSummary:
    run_id: str
    tags: dict[str, str]
    metrics: dict[str, float]


def _check_sqlite_path(uri: str, *, existing: bool) -> None:
    """A SQLite store whose folder does not exist is named as such (MLflow would create the folder and an empty
    database, and the command would then say the model is unknown); with `existing`, so is a missing database."""
    if not uri.startswith("sqlite:"):
        return
    from sqlalchemy.engine import make_url

    database = make_url(uri).database
    if not database or database == ":memory:":
        return
    path = Path(database.removeprefix("file:"))  # sqlite:///file:PATH?mode=ro&uri=true names PATH
    if not path.parent.is_dir():
        raise TrackingError(f"tracking store {_masked(uri)}: folder {path.parent} does not exist (a mistyped path?)")
    if existing and not path.exists():
        raise TrackingError(
            f"tracking store {_masked(uri)}: no database at {path} (a mistyped path?); nothing was created"
        )


class Connection:
    """A connection to one tracking store and model registry; MLflow errors become one-line TrackingErrors."""

    def __init__(self, tracking_uri: str | None = None, *, existing: bool = False):
        """`existing`: the store must already exist (a command that reads one never creates a SQLite database)."""
        self.uri = resolve_tracking_uri(tracking_uri)
        _check_sqlite_path(self.uri, existing=existing)
        _quiet_store_tracebacks()
        mlflow.set_tracking_uri(self.uri)
        self.client = self._open()

    def _open(self) -> MlflowClient:
        """The client, with a database store reached at once: an unknown scheme, a missing database driver or
        an unreadable database is one line here, not a traceback at the command's first write."""
        scheme = self.uri.split(":", 1)[0]
        try:
            client = MlflowClient(self.uri)
            if scheme.split("+")[0] in _DATABASE_SCHEMES:
                client.search_experiments(max_results=1)
            return client
        except UnsupportedModelRegistryStoreURIException:
            raise TrackingError(
                f"tracking store {_masked(self.uri)}: unsupported URI scheme '{scheme}' "
                "(use sqlite:///PATH, postgresql://..., mysql://... or http(s)://HOST:PORT)"
            ) from None
        except ModuleNotFoundError as exc:  # SQLAlchemy imports the database driver on first use
            raise TrackingError(
                f"tracking store {_masked(self.uri)}: its database driver '{exc.name}' is not installed"
            ) from None
        except (MlflowException, SQLAlchemyError) as exc:
            raise self._error(exc) from None

    def probe(self, timeout: float = 3.0) -> None:
        """Fail in seconds, not minutes, when an HTTP tracking server does not answer (MLflow retries
        each request with backoff for minutes before giving up)."""
        if not self.uri.startswith(("http://", "https://")):
            return
        try:
            urllib.request.urlopen(f"{self.uri.rstrip('/')}/health", timeout=timeout).close()
        except (urllib.error.URLError, OSError, socket.timeout) as exc:
            reason = getattr(exc, "reason", exc)
            raise TrackingError(f"tracking store {_masked(self.uri)} is unreachable: {reason}") from None

    def _guard(self, call: Callable[[], T]) -> T:
        try:
            return call()
        except (MlflowException, SQLAlchemyError) as exc:
            raise self._error(exc) from None

    def _error(self, exc: Exception) -> TrackingError:
        """One line: an HTTP server's refusal (401, 403, 503) in its own words, the database's own words when
        SQLAlchemy is underneath ("attempt to write a readonly database"), else the first line of MLflow's
        message."""
        uri = _masked(self.uri)
        if isinstance(exc, MlflowException) and self.uri.startswith(("http://", "https://")):
            message = str(exc.message).strip()
            first = message.splitlines()[0] if message else ""
            status = exc.get_http_status_code()
            if status == 401 or "error code 401 " in first:
                return TrackingError(
                    f"tracking server {uri} refused the credentials (401: unknown user, wrong password or "
                    f"expired login): {CREDENTIALS_HINT}"
                )
            if status == 429 or "error code 429 " in first or "429 error responses" in first:
                return throttled(uri, message)
            if status == 503 or "503 error responses" in first or "error code 503 " in first:
                return TrackingError(
                    f"tracking server {uri} answered 503: its database is unavailable; try again when it is back"
                )
            if status == 403 or "error code 403 " in first:
                reason = first.removeprefix(f"{exc.error_code}: ").removeprefix("creditflow: ")
                return RefusedByServer(f"refused by {uri}: {reason}")
        cause: BaseException | None = exc
        while cause is not None and not hasattr(cause, "orig"):
            cause = cause.__cause__
        text = str(getattr(cause, "orig", None) or getattr(exc, "message", None) or exc).strip()
        first_line = text.splitlines()[0] if text else type(exc).__name__
        if isinstance(exc, MlflowException):
            first_line = first_line.removeprefix(f"{exc.error_code}: ")
        return TrackingError(f"tracking store {uri}: {first_line}")


def throttled(uri: str, message: str, retry_after: str = "") -> TrackingError:
    """One line for a team server's 429: the lockout in the server's words (whose, and for how long)."""
    found = re.search(r"too many failed logins for [^\"]*?\(retry after \d+ s\)", message)
    when = f"retry after {retry_after} s" if retry_after.isdigit() else "retry later"
    said = found.group(0) if found else f"too many failed logins: {when}"
    return TrackingError(f"tracking server {uri} refused the login (429, locked out): {said}")


def _masked(uri: str) -> str:
    """The URI with any password replaced, so it can go into an error line and a log."""
    return re.sub(r"(//[^/:@]*):[^/@]*@", r"\1:***@", uri)


def _quiet_store_tracebacks() -> None:
    """MLflow logs a database error's whole traceback before raising it; creditflow turns the error into one
    line (TrackingError), so the traceback is dropped. Idempotent."""
    store_log = logging.getLogger("mlflow.store.db.utils")
    if not any(isinstance(f, _NoTracebacks) for f in store_log.filters):
        store_log.addFilter(_NoTracebacks())


class _NoTracebacks(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return not record.exc_info


def _now_ms() -> int:
    return int(time.time() * 1000)
