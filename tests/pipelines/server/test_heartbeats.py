"""Issue 24.5: which runs a team server closes when their client's heartbeat stopped (pure)."""

from __future__ import annotations

from pipelines.server.heartbeats import stale_runs


def test_a_run_whose_heartbeat_stopped_is_closed_with_its_nested_runs():
    running = {
        "dead": {"creditflow.heartbeat": "1000"},
        "trial": {"mlflow.parentRunId": "dead"},
        "alive": {"creditflow.heartbeat": "1095"},
        "alive-trial": {"mlflow.parentRunId": "alive"},
        "older-client": {},
        "garbled": {"creditflow.heartbeat": "soon"},
    }
    found = stale_runs(running, now=1100.0, timeout=60)
    assert found == {
        "dead": "its heartbeat stopped 100 s ago (timeout 60 s)",
        "trial": "nested in run dead, whose heartbeat stopped",
    }
