"""Runs whose client died: the validation worker closes FAILED every run left RUNNING whose heartbeat
(`creditflow.heartbeat`, pipelines/tracking/heartbeat.py) stopped more than CREDITFLOW_HEARTBEAT_TIMEOUT seconds ago
(default 300), with its nested runs (Optuna trials carry no heartbeat of their own), as the server itself: through
its backend store, not as any user, and with an audit row `close_run` by `creditflow-server`. A run with no
heartbeat (an older client) is not judged: nothing says whether its process lives."""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Mapping

from mlflow import MlflowClient

from pipelines.core.tags import HEARTBEAT
from pipelines.governance.rules.permissions import SERVER
from pipelines.server.store import GovernanceStore

log = logging.getLogger(__name__)
TIMEOUT_ENV = "CREDITFLOW_HEARTBEAT_TIMEOUT"
PARENT = "mlflow.parentRunId"


def stale_runs(running: Mapping[str, Mapping[str, str]], now: float, timeout: float) -> dict[str, str]:
    """{run id: why} of the RUNNING runs (id -> tags) to close: a heartbeat older than `timeout` seconds, or a
    nested run (no heartbeat of its own) under such a run."""
    stale = {}
    for run_id, tags in running.items():
        beat = _seconds(tags.get(HEARTBEAT, ""))
        if beat is not None and now - beat > timeout:
            stale[run_id] = f"its heartbeat stopped {now - beat:.0f} s ago (timeout {timeout:g} s)"
    for run_id, tags in running.items():
        parent = tags.get(PARENT, "")
        if run_id not in stale and HEARTBEAT not in tags and parent in stale:
            stale[run_id] = f"nested in run {parent}, whose heartbeat stopped"
    return stale


def _seconds(value: str) -> float | None:
    try:
        return float(value)
    except ValueError:
        return None


def close_stale_runs(client: MlflowClient, store: GovernanceStore, timeout: float) -> list[str]:
    """Close FAILED the runs `stale_runs` names, each with its audit row; their ids."""
    experiments = [e.experiment_id for e in client.search_experiments(max_results=1000)]
    running = {}
    for start in range(0, len(experiments), 100):  # MLflow searches at most 100 experiments at once
        found = client.search_runs(
            experiments[start : start + 100], filter_string="attributes.status = 'RUNNING'", max_results=1000
        )
        running.update({run.info.run_id: dict(run.data.tags) for run in found})
    closed = []
    for run_id, why in stale_runs(running, time.time(), timeout).items():
        client.set_terminated(run_id, status="FAILED")
        entry = {"username": SERVER, "route": "worker", "action": "close_run", "target": run_id}
        store.append({**entry, "payload_digest": "", "decision": "allowed", "reason": f"closed FAILED: {why}"})
        log.info("creditflow worker: closed run %s FAILED: %s", run_id, why)
        closed.append(run_id)
    return closed


def start_sweeping(backend_store_uri: str, store: GovernanceStore) -> threading.Thread:
    """Sweep every timeout/2 seconds (at most 30) in a thread of the worker, beside its validations."""
    timeout = float(os.environ.get(TIMEOUT_ENV, "300"))
    client = MlflowClient(tracking_uri=backend_store_uri, registry_uri=backend_store_uri)

    def sweep() -> None:
        while True:
            try:
                close_stale_runs(client, store, timeout)
            except Exception:  # noqa: BLE001 - PostgreSQL restarting: swept again next time
                log.warning("creditflow worker: could not sweep for runs whose heartbeat stopped", exc_info=True)
            time.sleep(min(timeout / 2, 30.0))

    thread = threading.Thread(target=sweep, name="creditflow-heartbeat-sweep", daemon=True)
    thread.start()
    return thread
