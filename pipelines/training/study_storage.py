"""Where Optuna studies live: the study database beside the tracking store, opened with heartbeats (and SQLite's
write-ahead log), and the reference worker processes open it by."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import optuna
from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError

from features.errors import CreditflowError


class TuningError(CreditflowError):
    """Bad tuning input: storage, study or budget."""


@dataclass(frozen=True)
class StudyRef:
    """Where a study lives; picklable, so worker processes can open it too."""

    storage_url: str
    name: str
    heartbeat_seconds: int


def default_storage_url(tracking_uri: str) -> str:
    """The study database of a tracking store: beside a SQLite store and named after it (two stores in one folder
    keep their studies apart), else a file in the working directory named after the store's URI."""
    if tracking_uri.startswith("sqlite:///"):
        database = Path(tracking_uri.removeprefix("sqlite:///")).resolve()
        return f"sqlite:///{database.with_name(database.stem + '-optuna.db')}"
    digest = hashlib.sha256(tracking_uri.encode()).hexdigest()[:8]
    return f"sqlite:///{Path(f'optuna-{digest}.db').resolve()}"


def open_storage(ref: StudyRef) -> optuna.storages.RDBStorage:
    """RDB storage with heartbeats, so a killed trial is failed instead of RUNNING forever, and run again
    (the same parameters, at most twice) by whichever worker finds it stale: on SQLite beside one machine's
    store, or on PostgreSQL shared by workers on several machines (team mode)."""
    try:
        url = make_url(ref.storage_url)
    except ArgumentError:
        raise TuningError(f"malformed storage URL: {ref.storage_url}") from None
    if url.drivername.startswith("sqlite") and url.database and not Path(url.database).parent.is_dir():
        raise TuningError(f"storage folder does not exist: {Path(url.database).parent}")
    if url.drivername == "postgresql":
        url = url.set(drivername="postgresql+psycopg2")  # SQLAlchemy 2.1 would pick psycopg 3, which we do not ship
    try:
        storage = optuna.storages.RDBStorage(
            url.render_as_string(hide_password=False),
            heartbeat_interval=ref.heartbeat_seconds,
            grace_period=2 * ref.heartbeat_seconds,
            heartbeat_stale_trial_callback=optuna.storages.RetryHeartbeatStaleTrialCallback(max_retry=2),
        )
    except (SQLAlchemyError, ImportError, ValueError) as exc:
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise TuningError(f"cannot open Optuna storage {url.render_as_string(hide_password=True)}: {reason}") from None
    if url.drivername.startswith("sqlite") and url.database not in (None, "", ":memory:"):
        _write_ahead_log(storage.engine)
    return storage


def _write_ahead_log(engine: Any) -> None:
    """SQLite in write-ahead-log mode, synced at checkpoints rather than at each commit.

    Optuna commits every suggested parameter, pruning report and heartbeat: ~800 commits for 20 trials, each an
    fsync in SQLite's default mode (~4 ms apiece, and far more on a busy disk). In WAL mode with
    synchronous=NORMAL a commit survives the process being killed (what resuming a study relies on); only a
    power cut can lose the last commits. Concurrent workers also read while one writes.
    """

    def on_connect(connection: Any, _record: Any) -> None:
        cursor = connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    event.listen(engine, "connect", on_connect)
    engine.dispose()  # connections opened before the listener reconnect with it
