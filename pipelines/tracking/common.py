"""What every part of the MLflow adapter shares: errors, value types, the connection and its guard."""

from __future__ import annotations

import os
import socket
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import TYPE_CHECKING

import mlflow
from mlflow import MlflowClient
from mlflow.exceptions import MlflowException

from features.errors import CreditflowError

if TYPE_CHECKING:
    from pipelines.tracking.team import TeamSession

DEFAULT_TRACKING_URI = "sqlite:///mlflow.db"

_MAX_PARAM_CHARS = 6000


class TrackingError(CreditflowError):
    """The tracking store cannot be reached or refused an operation."""


class RefusedByServer(TrackingError):
    """A team server's gate (or its basic-auth) said no to a change: a verdict, exit 1."""

    exit_code = 1


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
        self._team: tuple[TeamSession | None] | None = None

    @property
    def team(self) -> TeamSession | None:
        """The authenticated session when the store is a creditflow team server (asked once), else None."""
        if self._team is None:
            from pipelines.tracking.team import team_session  # team.py builds on this module's errors

            http = self.uri.startswith(("http://", "https://"))
            self._team = (team_session(self.uri) if http else None,)
        return self._team[0]

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
        self.team  # a team server refuses wrong credentials here, in one line

    def _guard(self, call):
        try:
            return call()
        except MlflowException as exc:
            raise self._error(exc) from None

    def _error(self, exc: MlflowException) -> TrackingError:
        first_line = str(exc.message).strip().splitlines()[0] if exc.message else type(exc).__name__
        status = exc.get_http_status_code()
        if status == 401 or "error code 401 " in first_line:
            from pipelines.tracking.team import CREDENTIALS_HINT

            return TrackingError(
                f"tracking server {self.uri} refused the credentials (401: unknown user, wrong password or "
                f"expired login): {CREDENTIALS_HINT}"
            )
        if status == 503 or "503 error responses" in first_line or "error code 503 " in first_line:
            return TrackingError(
                f"tracking server {self.uri} answered 503: its database is unavailable; try again when it is back"
            )
        if status == 403 or "error code 403 " in first_line:
            reason = first_line.removeprefix(f"{exc.error_code}: ").removeprefix("creditflow: ")
            return RefusedByServer(f"refused by {self.uri}: {reason}")
        return TrackingError(f"tracking store {self.uri}: {first_line.removeprefix(f'{exc.error_code}: ')}")


def _now_ms() -> int:
    return int(time.time() * 1000)
