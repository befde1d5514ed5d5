"""Monitoring on a team server: a version's monitoring verdict (the monitoring.* tags and the description's
monitoring paragraph) is evidence of its life after go-live, recorded by risk or the validator. A data scientist
who could write `monitoring.status=ok` on the champion would hide an alert from the risk officer; the server refuses
it, and `creditflow monitor` run by one says so in one line before anything is logged."""

from __future__ import annotations

import mlflow
import pytest

from tests.conftest import REPO

pytestmark = pytest.mark.slow
DATA = REPO / "experiments" / "data" / "german_credit.csv"


def _monitoring_runs(server) -> list:
    client = server.client("rev1")
    found = client.get_experiment_by_name("german_credit-monitoring")
    return [] if found is None else client.search_runs([found.experiment_id])


def test_a_data_scientist_may_not_monitor_or_write_the_monitoring_verdict(team_server):
    server = team_server
    (version,) = server.register("watched")
    before = _monitoring_runs(server)
    refused = server.cli("ds1", "monitor", f"watched/{version}", "--current", DATA, "--window", "2026-01")
    assert refused.exit_code == 2, refused.output
    assert refused.output.strip().splitlines() == [
        "error: ds1 (role data-scientist) may not record monitoring (risk or the validator monitors a version)"
    ]
    assert _monitoring_runs(server) == before
    client = server.client("ds1")
    with pytest.raises(mlflow.exceptions.MlflowException, match="may not record monitoring"):
        client.set_model_version_tag("watched", version, "monitoring.status", "ok")
    described = client.get_model_version("watched", version).description or ""
    with pytest.raises(mlflow.exceptions.MlflowException, match="frozen from registration"):
        client.update_model_version("watched", version, description=described + "\n\nMonitoring: all fine")
    rows = [r for r in server.audit("watched") if r["username"] == "ds1" and r["decision"] == "refused"]
    assert {r["target"] for r in rows} >= {"monitoring.status"}


def test_risk_monitors_and_may_rewrite_only_the_monitoring_paragraph(team_server):
    server = team_server
    (version,) = server.register("watched-by-risk")
    done = server.cli("risk1", "monitor", f"watched-by-risk/{version}", "--current", DATA, "--window", "2026-01")
    assert done.exit_code in (0, 1), done.output  # a verdict, whichever it is
    found = server.client("risk1").get_model_version("watched-by-risk", version)
    assert found.tags["monitoring.last_window"] == "2026-01" and found.tags["monitoring.status"]
    assert "Monitoring: latest window 2026-01" in found.description and "**Validated** by" in found.description
    forged = found.description.replace("**Validated** by", "**Validated** (not really) by")
    with pytest.raises(mlflow.exceptions.MlflowException, match="frozen from registration"):
        server.client("risk1").update_model_version("watched-by-risk", version, description=forged)
