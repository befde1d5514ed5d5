"""Issue 24.5, crash safety of decisions on a real team server: the audit row is the commit point of a review.

A server killed before the row leaves nothing; killed after it, the tags do not say the recorded decision yet:
`status` and `audit verify` name it and `audit rebuild` (a reviewer's) writes them from the trail. An
`approval.status` an older server let MLflow write with no row behind it is named and put back to undecided."""

from __future__ import annotations

import pytest
import requests

from pipelines.server.decisions import FAULT_ENV
from tests.pipelines.server.conftest import connect, start, stop, wait_until_up

pytestmark = pytest.mark.slow
SET_TAG = "/api/2.0/mlflow/model-versions/set-tag"


def restart(server, monkeypatch, fault: str | None) -> None:
    """Stop the server (if a fault has not already killed it) and start it again with the test fault set or not."""
    stop(server.process)
    if fault:
        monkeypatch.setenv(FAULT_ENV, fault)
    else:
        monkeypatch.delenv(FAULT_ENV, raising=False)
    with (server.folder / "server.log").open("a") as log:
        server.process = start(server.folder, log)
    wait_until_up(server.uri, server.process, server.folder / "server.log")


def approve_and_die(server, model: str, version: str) -> None:
    approve = {"name": model, "version": version, "key": "approval.status", "value": "approved"}
    with pytest.raises(requests.ConnectionError):
        server.rest("rev1", "POST", SET_TAG, json=approve)
    server.process.wait(timeout=30)  # the fault killed the server's whole process group


def decisions(server, model: str) -> list[tuple[str, str, str]]:
    return [(r["version"], r["action"], r["username"]) for r in server.audit(model) if r["action"] != "validate"]


def test_a_server_killed_mid_approval_leaves_the_row_or_nothing(team_server, monkeypatch):
    server = team_server
    after_row, before_row = server.register("crashed", versions=2)
    restart(server, monkeypatch, "decision-after-row")
    approve_and_die(server, "crashed", after_row)
    restart(server, monkeypatch, "decision-before-row")
    approve_and_die(server, "crashed", before_row)
    restart(server, monkeypatch, None)

    tags = server.client("rev1").get_model_version("crashed", before_row).tags
    assert tags["approval.status"] == "pending" and "approval.reviewer" not in tags  # nothing happened
    assert (before_row, "review", "rev1") not in decisions(server, "crashed")
    assert (after_row, "review", "rev1") in decisions(server, "crashed")  # the commit point was passed

    status = server.cli("rev2", "status", "crashed")
    assert status.exit_code == 0, status.output
    (half,) = [line for line in status.output.splitlines() if line.startswith("HALF-WRITTEN DECISION")]
    assert f"version {after_row}: half-written decision: the tags say approval.status=pending" in half
    assert "the audit trail records approved by rev1" in half
    verified = server.cli("rev2", "audit", "verify", "crashed")
    assert verified.exit_code == 1 and f"version {after_row}: half-written decision" in verified.output

    refused = server.cli("ds1", "audit", "rebuild", "crashed")
    assert refused.exit_code == 1 and "may not rebuild decisions" in refused.output, refused.output
    rebuilt = server.cli("rev2", "audit", "rebuild", "crashed")
    assert rebuilt.exit_code == 0, rebuilt.output
    assert f"rebuilt version {after_row}: approval.status pending -> approved" in rebuilt.output
    tags = server.client("rev1").get_model_version("crashed", after_row).tags
    assert tags["approval.status"] == "approved" and tags["approval.reviewer"] == "rev1"
    assert tags["approval.time"] and tags["approval.evidence"]
    assert (after_row, "rebuild", "rev2") in decisions(server, "crashed")
    assert ("", "rebuild", "ds1") in [(r["version"], r["action"], r["username"]) for r in server.audit("crashed")]
    assert "HALF-WRITTEN" not in server.cli("rev2", "status", "crashed").output
    promoted = server.cli("rev2", "promote", "crashed", after_row)  # the rebuilt approval is a whole one
    assert promoted.exit_code == 0, promoted.output


def test_an_older_servers_orphan_status_is_named_and_put_back_to_undecided(team_server):
    server = team_server
    (version,) = server.register("orphaned")
    conn = connect(f"{server.prefix}_mlflow")  # what an older server left: MLflow's tag, no reviewer, no row
    with conn.cursor() as cur:
        cur.execute(
            "UPDATE model_version_tags SET value = 'approved' WHERE name = %s AND version = %s AND key = %s",
            ("orphaned", int(version), "approval.status"),
        )
        assert cur.rowcount == 1
    conn.close()
    status = server.cli("rev1", "status", "orphaned")
    assert "the tags say approval.status=approved, the audit trail records no decision" in status.output
    refused = server.cli("ds1", "promote", "orphaned", version)
    assert refused.exit_code == 1
    rebuilt = server.cli("rev1", "audit", "rebuild", "orphaned")
    assert rebuilt.exit_code == 0, rebuilt.output
    assert f"rebuilt version {version}: approval.status approved -> pending" in rebuilt.output
    assert server.client("rev1").get_model_version("orphaned", version).tags["approval.status"] == "pending"
    (row,) = [r for r in server.audit("orphaned") if r["action"] == "rebuild"]
    assert row["username"] == "rev1" and row["decision"] == "allowed"
    assert server.cli("rev1", "audit", "verify", "orphaned").exit_code == 0
