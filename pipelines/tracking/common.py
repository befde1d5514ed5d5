"""What every part of the MLflow adapter shares: errors, value types, the connection and its guard."""

from __future__ import annotations

import os
import socket
import time
import urllib.error
import urllib.request
from dataclasses import dataclass

import mlflow
from mlflow import MlflowClient
from mlflow.exceptions import MlflowException

from features.errors import CreditflowError

DEFAULT_TRACKING_URI = "sqlite:///mlflow.db"

_MAX_PARAM_CHARS = 6000


class TrackingError(CreditflowError):
    """The tracking store cannot be reached or refused an operation."""


class UnknownModelError(CreditflowError):
    """A registered model, version or alias that does not exist."""


def parse_model_ref(ref: str, default_alias: str = "champion") -> tuple[str, str | None, str | None]:
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


class Connection:
    """A connection to one tracking store and model registry; MLflow errors become one-line TrackingErrors."""

    def __init__(self, tracking_uri: str | None = None):
        self.uri = resolve_tracking_uri(tracking_uri)
        mlflow.set_tracking_uri(self.uri)
        self.client = MlflowClient(self.uri)

    def probe(self, timeout: float = 3.0) -> None:
        """Fail in seconds, not minutes, when an HTTP tracking server does not answer (MLflow retries
        each request with backoff for minutes before giving up)."""
        if not self.uri.startswith(("http://", "https://")):
            return
        try:
            urllib.request.urlopen(f"{self.uri.rstrip('/')}/health", timeout=timeout).close()
        except (urllib.error.URLError, OSError, socket.timeout) as exc:
            reason = getattr(exc, "reason", exc)
            raise TrackingError(f"tracking store {self.uri} is unreachable: {reason}") from None

    def _guard(self, call):
        try:
            return call()
        except MlflowException as exc:
            raise self._error(exc) from None

    def _error(self, exc: MlflowException) -> TrackingError:
        first_line = str(exc.message).strip().splitlines()[0] if exc.message else type(exc).__name__
        return TrackingError(f"tracking store {self.uri}: {first_line}")


def _now_ms() -> int:
    return int(time.time() * 1000)
