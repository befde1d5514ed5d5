"""A store written before governance had one store port and every check was a Gate (commit e12c780: two German Credit
versions by alice, both approved by bob, version 1 promoted by carol) is read, verified and scored by this code: the
audit records keep their format and the registered evidence its meaning. Its versions predate the data-design gate:
the champion promoted then stays verified (its promotion bound the gates it carried), but a new promotion is refused,
naming the missing gate and how to get it."""

from __future__ import annotations

import json
import tarfile
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from pipelines.cli import cli
from tests.conftest import GERMAN_SPEC, _move_artifact_paths, use_store

FIXTURE = Path(__file__).resolve().parents[2] / "fixtures" / "store_e12c780.tar.gz"
WRITTEN_IN = Path("/tmp/store_e12c780")  # where e12c780 wrote it: its artifact paths name this folder


@pytest.fixture
def old_store(tmp_path, monkeypatch) -> str:
    with tarfile.open(FIXTURE) as archive:
        archive.extractall(tmp_path / "old", filter="data")
    unpacked = tmp_path / "old" / "store_e12c780"
    _move_artifact_paths(unpacked / "mlflow.db", WRITTEN_IN / "mlartifacts", unpacked / "mlartifacts")
    (tmp_path / "store").mkdir()
    return use_store(unpacked / "mlflow.db", tmp_path / "store", monkeypatch, artifacts=True)


def invoke(user: str, *args: str):
    return CliRunner(env={"CREDITFLOW_USER": user}).invoke(cli, list(args), catch_exceptions=False)


def test_the_old_champion_is_verified_and_its_trail_intact(old_store):
    status = invoke("dave", "status", "german_credit", "--json", "--check")
    assert status.exit_code == 0, status.output
    found = json.loads(status.output)
    assert found["champion"] == "1" and found["verified"] and found["trail"]["trusted"]
    assert [v["registration"] for v in found["versions"]] == ["recorded", "recorded"]
    assert {v["performance"] for v in found["versions"]} == {"passed"}
    verify = invoke("dave", "audit", "verify", "german_credit")
    assert verify.exit_code == 0, verify.output


@pytest.mark.slow  # loads and scores the model
def test_the_old_champion_scores_verified(old_store, tmp_path):
    rows = pd.read_csv(GERMAN_SPEC.parent / "data" / "german_credit.csv").head(20)
    rows.to_csv(tmp_path / "applicants.csv", index=False)
    scored = invoke("dave", "score", "models:/german_credit@champion", str(tmp_path / "applicants.csv"),
                    str(tmp_path / "scored.csv"))  # fmt: skip
    assert scored.exit_code == 0, scored.output
    assert "verified against the audit trail" in scored.output
    assert pd.read_csv(tmp_path / "scored.csv")["probability_of_default"].between(0, 1).all()


@pytest.mark.slow  # hashes the model files
def test_the_old_approved_version_is_refused_for_the_gate_it_never_had(old_store):
    promoted = invoke("carol", "promote", "german_credit", "2")
    assert promoted.exit_code == 1, promoted.output
    assert "validation.data_design is missing: version 2 was judged before the data_design gate existed" in (
        promoted.output
    )
    assert "judge it again: creditflow validate german_credit 2 recomputes every gate" in promoted.output
    status = json.loads(invoke("dave", "status", "german_credit", "--json", "--check").output)
    assert status["champion"] == "1" and status["verified"]  # the refusal moved nothing
    verify = invoke("dave", "audit", "verify", "german_credit")
    assert verify.exit_code == 0, verify.output
