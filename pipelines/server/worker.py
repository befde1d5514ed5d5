"""The validation worker `creditflow server start` runs beside the server: as the service user
`creditflow-validator` (role `validator`, made by `server init`), it validates every newly registered version in
the order the audit log recorded the registrations.

The audit log is its queue: a version whose `register` row has no later `validate` row is still to do. A validation
is `creditflow validate MODEL VERSION` run in the worker (a failure is recorded and the worker goes on); the server
records the validation only when its last tag (`validation.time`) is written, so a worker killed mid-way
leaves no `validate` row and the version is picked up again after a restart: never half-written, never skipped.
A validation that fails (unreachable data, changed files) is recorded as a failed `validate` row and tried again
after `CREDITFLOW_VALIDATION_RETRY` seconds (default 60); the worker outlives a PostgreSQL restart. Beside the
validations it closes runs whose client's heartbeat stopped (pipelines/server/heartbeats.py).
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import psycopg2
import requests

from features.errors import CreditflowError
from pipelines.governance.rules.permissions import SERVICE_VALIDATOR
from pipelines.server.heartbeats import start_sweeping
from pipelines.server.setup import VALIDATOR_PASSWORD_ENV, ServerConfig, server_environment
from pipelines.server.store import GovernanceStore

log = logging.getLogger(__name__)
POLL_ENV, RETRY_ENV = "CREDITFLOW_VALIDATION_POLL", "CREDITFLOW_VALIDATION_RETRY"


def to_validate(rows: Iterable[Mapping[str, Any]]) -> list[tuple[str, str]]:
    """(model, version) of every allowed registration with no allowed `validate` row after it, in chain order."""
    waiting: dict[tuple[str, str], int] = {}
    for row in rows:
        key = (str(row["model"]), str(row["version"]))
        if row["action"] == "register" and row["decision"] == "allowed":
            waiting.setdefault(key, int(row["seq"]))
        elif row["action"] == "validate" and row["decision"] == "allowed":
            waiting.pop(key, None)
    return sorted(waiting, key=waiting.__getitem__)


def validate_one(uri: str, model: str, version: str) -> tuple[bool, str]:
    """`creditflow validate MODEL VERSION` in this process, as the service user (credentials in the environment);
    (done, what it said last). Importing the pipeline once, not per version, halves a German Credit validation."""
    from pipelines.evidence.validation import validate_version

    said = io.StringIO()
    try:
        with contextlib.redirect_stdout(said):
            validate_version(model, version, tracking_uri=uri, data=None)
    except Exception as exc:  # noqa: BLE001 - one version's failure is recorded; the worker goes on
        if not isinstance(exc, CreditflowError):
            log.exception("creditflow worker: validating %s version %s", model, version)
        return False, (str(exc).strip().splitlines() or [type(exc).__name__])[0]
    lines = [line for line in said.getvalue().splitlines() if line.strip()]
    return True, lines[-1] if lines else "validated"


def run_worker(folder: Path, *, once: bool = False) -> None:
    """Validate what waits, then poll the audit log every CREDITFLOW_VALIDATION_POLL seconds (default 2)."""
    config = ServerConfig.load(folder)
    environment = server_environment(folder)
    password = environment.get(VALIDATOR_PASSWORD_ENV, "")
    if not password:
        log.error("creditflow worker: %s has no service validator (made by server init): no validation", folder)
        return
    os.environ["PGPASSFILE"] = environment["PGPASSFILE"]
    os.environ.pop("PGPASSWORD", None)  # libpq would prefer it to the server's pgpass file
    os.environ.pop(VALIDATOR_PASSWORD_ENV, None)
    os.environ.update(MLFLOW_TRACKING_USERNAME=SERVICE_VALIDATOR, MLFLOW_TRACKING_PASSWORD=password)
    store = GovernanceStore(config.governance_db_uri, max_connections=2)
    poll, retry = float(os.environ.get(POLL_ENV, "2")), float(os.environ.get(RETRY_ENV, "60"))
    failed: dict[tuple[str, str], float] = {}
    _wait_for(config.tracking_uri)
    if not once:
        start_sweeping(config.backend_store_uri, store)  # runs whose client died are closed by the server
    while True:
        try:
            waiting = to_validate(store.rows())
        except psycopg2.Error as exc:  # PostgreSQL restarting: the queue is read again at the next poll
            log.warning("creditflow worker: the governance database is unavailable: %s", str(exc).strip()[:200])
            waiting = []
        for model, version in waiting:
            if time.monotonic() < failed.get((model, version), 0.0):
                continue
            done, said = validate_one(config.tracking_uri, model, version)
            log.info("creditflow worker: %s version %s: %s", model, version, said)
            if not done:
                failed[(model, version)] = time.monotonic() + retry
                _record_failure(store, model, version, said)
        if once:
            return
        time.sleep(poll)


def _record_failure(store: GovernanceStore, model: str, version: str, said: str) -> None:
    entry = {"username": SERVICE_VALIDATOR, "route": "worker", "action": "validate", "model": model}
    try:
        store.append({**entry, "version": version, "payload_digest": "", "decision": "failed", "reason": said[:500]})
    except psycopg2.Error:  # the database is down: the failure is in the server's log; it is retried anyway
        log.warning("creditflow worker: could not record the failed validation of %s version %s", model, version)


def _wait_for(uri: str, seconds: float = 600) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if requests.get(f"{uri}/health", timeout=2).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.5)


def start_worker(folder: Path) -> subprocess.Popen:
    """The worker as a child of `server start`, in its process group (stopping the server stops it)."""
    command = [sys.executable, "-m", "pipelines.server.worker", str(folder)]
    return subprocess.Popen(command, env={**os.environ, "PYTHONPATH": _path()})


def _path() -> str:
    root = str(Path(__file__).resolve().parents[2])
    return os.pathsep.join(p for p in (root, os.environ.get("PYTHONPATH", "")) if p)


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    run_worker(Path(sys.argv[1]))


if __name__ == "__main__":
    main()
