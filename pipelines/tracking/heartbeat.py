"""A run's heartbeat on a tracking server: a process that logs a run to a server tags it `creditflow.heartbeat` with
the time every CREDITFLOW_HEARTBEAT_INTERVAL seconds (default 30) while the run is open, so that the server can
close it FAILED when the process dies without a word (killed, its machine gone), which no later command of another
user may do (a team server refuses to let anyone close another user's run)."""

from __future__ import annotations

import logging
import os
import threading
import time
from contextlib import contextmanager
from typing import Iterator

from mlflow import MlflowClient

from pipelines.core.tags import HEARTBEAT

log = logging.getLogger("creditflow")
INTERVAL_ENV = "CREDITFLOW_HEARTBEAT_INTERVAL"


def beats(uri: str) -> bool:
    """Whether runs logged to `uri` carry a heartbeat: those on an HTTP tracking server."""
    return uri.startswith(("http://", "https://"))


def first_beat(uri: str) -> dict[str, str]:
    """The heartbeat tag a run starts with (none on a local store, where the owner's pid tells)."""
    return {HEARTBEAT: f"{time.time():.0f}"} if beats(uri) else {}


@contextmanager
def heartbeat(client: MlflowClient, uri: str, run_id: str) -> Iterator[None]:
    """Tag the run with the time every interval until the block ends (a missed beat is only logged)."""
    if not beats(uri):
        yield
        return
    interval = float(os.environ.get(INTERVAL_ENV, "30"))
    stopped = threading.Event()

    def beat() -> None:
        while not stopped.wait(interval):
            try:
                client.set_tag(run_id, HEARTBEAT, f"{time.time():.0f}")
            except Exception as exc:  # noqa: BLE001 - a registered run is frozen; a server down is the run's own error
                log.debug("heartbeat of run %s not sent: %s", run_id, str(exc).splitlines()[:1])

    thread = threading.Thread(target=beat, name=f"creditflow-heartbeat-{run_id}", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stopped.set()
