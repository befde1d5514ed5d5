"""Tampering, as a careful attacker would (issue 12, items 1 and 2): model files swapped after approval, audit records
forged by adding runs to `<MODEL>-governance`. Each is refused or makes the trail untrusted, naming what is wrong."""

import json
import shutil
from datetime import datetime, timedelta, timezone
from pathlib import Path

import mlflow
import pandas as pd
import pytest
import xgboost as xgb
from click.testing import CliRunner
from mlflow.entities import Param

from pipelines.cli import cli
from pipelines.governance.local.audit_trail import load_trail
from pipelines.governance.rules.chain import seal
from pipelines.governance.rules.promotion import evidence_digest
from pipelines.tracking import Tracker
from tests.pipelines.tracking.test_model_files import plant_matching_timestamp_pyc

MODEL = "german_credit"


def invoke(*args, user=None):
    env = {"CREDITFLOW_USER": user} if user else None
    return CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False, env=env)


def promote(version):
    assert invoke("review", MODEL, version, "--approve", "--comment", "read it", user="bob").exit_code == 0
    result = invoke("promote", MODEL, version)
    assert result.exit_code == 0, result.output


def model_dir(uri, version) -> Path:
    """Where the version's logged model lives in the artifact store (shared by every test: restore what you change)."""
    client = mlflow.MlflowClient(uri)
    model_id = client.get_model_version(MODEL, version).source.removeprefix("models:/")
    return Path(client.get_logged_model(model_id).artifact_location.removeprefix("file://"))


@pytest.fixture
def artifact_store(governed):
    """Lets a test edit files of the shared artifact store; every file is put back afterwards."""
    saved: dict[Path, bytes] = {}

    def edit(path: Path, content: bytes) -> None:
        saved.setdefault(path, path.read_bytes())
        path.write_bytes(content)

    yield edit
    for path, content in saved.items():
        path.write_bytes(content)


@pytest.fixture
def applicants(governed):
    pd.read_csv("german_ids.csv").drop(columns=["creditability"]).head(200).to_csv("applicants.csv", index=False)
    return "applicants.csv"


def swap_booster(uri, edit):
    """Replace version 1's booster with another one (its first five trees)."""
    target = model_dir(uri, "1") / "artifacts" / "booster.ubj"
    edit(target, bytes(xgb.Booster(model_file=str(target))[:5].save_raw("ubj")))


def edit_settings(uri, edit):
    target = model_dir(uri, "1") / "artifacts" / "settings.json"
    settings = json.loads(target.read_text())
    edit(target, json.dumps({**settings, "cutoff": 0.999}).encode())


@pytest.mark.parametrize("tamper", [edit_settings, swap_booster], ids=["settings", "booster"])
def test_model_files_changed_after_approval_are_refused_by_score_promote_status_and_serving(
    governed, artifact_store, applicants, tamper, tmp_path, monkeypatch
):
    promote(1)
    honest = invoke("score", f"models:/{MODEL}@champion", applicants, "honest.csv")
    assert honest.exit_code == 0 and "verified against the audit trail and its files" in honest.output
    declines = (pd.read_csv("honest.csv")["decision"] == "decline").sum()
    assert declines > 0

    tamper(governed, artifact_store)
    scored = invoke("score", f"models:/{MODEL}@champion", applicants, "tampered.csv")
    assert scored.exit_code == 1 and not Path("tampered.csv").exists()
    assert "differ from lineage.model_sha256" in scored.output and "changed after registration" in scored.output
    assert invoke("score", f"models:/{MODEL}/1", applicants, "by_version.csv").exit_code == 1  # ungoverned ref too

    status = invoke("status", MODEL, "--json")
    state = json.loads(status.output)
    assert state["verified"] is False and any("differ from lineage.model_sha256" in p for p in state["problems"])
    assert invoke("audit", "verify", MODEL).exit_code == 1

    mlflow.MlflowClient(governed).delete_registered_model_alias(MODEL, "champion")
    refused = invoke("promote", MODEL, 1)
    assert refused.exit_code == 1 and "unmet: the model files of version 1 differ" in refused.output

    monkeypatch.setenv("CREDITFLOW_SERVE_VERIFY", MODEL)
    mlflow.MlflowClient(governed).set_registered_model_alias(MODEL, "champion", "1")
    local = mlflow.artifacts.download_artifacts(f"models:/{MODEL}@champion", dst_path=str(tmp_path / "served"))
    with pytest.raises(Exception, match="differ from lineage.model_sha256"):
        mlflow.pyfunc.load_model(local)  # what `mlflow models serve` calls: CreditModel.load_context refuses


@pytest.fixture
def planted_bytecode(governed):
    """Plants, in version 1's logged code, a compiled scorer.py that Python would run in place of the source (a
    timestamp .pyc naming the source's mtime and size) and whose scores are 0 for everyone; removed afterwards."""
    source = model_dir(governed, "1") / "code" / "pipelines" / "scoring" / "scorer.py"
    text = source.read_text()
    evil = text + "\n_score = Scorer.score\nScorer.score = lambda self, frame, **kw: _score(self, frame, **kw) * 0\n"
    planted = plant_matching_timestamp_pyc(source, evil)
    yield planted
    shutil.rmtree(planted.parent)


def test_a_planted_bytecode_file_is_refused_by_promote_score_status_and_serving(
    governed, planted_bytecode, applicants, tmp_path, monkeypatch
):
    """Issue 29, item 1: the tree hash leaves `__pycache__` out, so a planted .pyc kept the hash; it is refused
    everywhere because it is not the compiled form of its hashed source."""
    message = "is not the compiled form of its source"
    assert invoke("review", MODEL, 1, "--approve", "--comment", "read it", user="bob").exit_code == 0
    refused = invoke("promote", MODEL, 1)
    assert refused.exit_code == 1 and message in refused.output and "scorer.cpython" in refused.output
    mlflow.MlflowClient(governed).set_registered_model_alias(MODEL, "champion", "1")  # around creditflow
    scored = invoke("score", f"models:/{MODEL}@champion", applicants, "out.csv")
    assert scored.exit_code == 1 and message in scored.output and not Path("out.csv").exists()
    state = json.loads(invoke("status", MODEL, "--json").output)
    assert state["verified"] is False and any(message in p for p in state["problems"])
    monkeypatch.setenv("CREDITFLOW_SERVE_VERIFY", MODEL)
    local = mlflow.artifacts.download_artifacts(f"models:/{MODEL}@champion", dst_path=str(tmp_path / "served"))
    with pytest.raises(Exception, match=message):
        mlflow.pyfunc.load_model(local)


def test_the_serving_check_loads_an_untouched_verified_champion(governed, tmp_path, monkeypatch):
    promote(1)
    monkeypatch.setenv("CREDITFLOW_SERVE_VERIFY", MODEL)
    local = mlflow.artifacts.download_artifacts(f"models:/{MODEL}@champion", dst_path=str(tmp_path / "served"))
    loaded = mlflow.pyfunc.load_model(local)  # Python writes __pycache__ into the copy: not counted
    assert loaded is not None


def governance_run(uri, fields, when: datetime) -> str:
    """What anyone who may create runs in the governance experiment can do: a run with chosen params and start time."""
    client = mlflow.MlflowClient(uri)
    experiment = client.get_experiment_by_name(f"{MODEL}-governance").experiment_id
    run = client.create_run(experiment, start_time=int(when.timestamp() * 1000))
    client.log_batch(run.info.run_id, params=[Param(k, str(v)) for k, v in fields.items()])
    client.set_terminated(run.info.run_id)
    return run.info.run_id


def tamper_version_2(uri) -> str:
    """Edit version 2's lineage and return the evidence digest of the tampered version."""
    mlflow.MlflowClient(uri).set_model_version_tag(MODEL, "2", "lineage.data_digest", "f" * 64)
    return evidence_digest(Tracker(uri).model_version(MODEL, "2"))


def register_fields(evidence, when):
    return {"action": "register", "model": MODEL, "version": "2", "actor": "alice", "time": when.isoformat(),
            "outcome": "done", "evidence": evidence}  # fmt: skip


def test_a_backdated_register_record_without_chain_fields_makes_the_trail_untrusted(governed, applicants):
    promote(1)
    when = datetime(2020, 1, 1, tzinfo=timezone.utc)
    forged = governance_run(governed, register_fields(tamper_version_2(governed), when), when)
    for args in (("status", MODEL), ("promote", MODEL, 2), ("score", MODEL, applicants, "out.csv")):
        result = invoke(*args)
        assert result.exit_code == 1, (args, result.output)
        assert "untrusted" in result.output and forged in result.output and "carries no chain fields" in result.output


def test_a_backdated_register_record_inserted_into_the_chain_is_a_second_head(governed):
    trail = load_trail(Tracker(governed), MODEL)
    first = next(r for r in trail.records if r.seq == "1")
    when = datetime.fromisoformat(first.time) + timedelta(seconds=1)
    fields = seal(register_fields(tamper_version_2(governed), when), first.params())
    forged = governance_run(governed, fields, when)  # start time faked as well
    approve = invoke("review", MODEL, 2, "--approve", "--comment", "fine", user="bob")
    assert approve.exit_code == 1 and "second head (fork)" in approve.output and forged in approve.output
    result = invoke("promote", MODEL, 2)
    assert result.exit_code == 1 and "second head (fork)" in result.output


def test_a_well_formed_register_record_appended_later_does_not_replace_the_first(governed):
    assert invoke("review", MODEL, 2, "--approve", "--comment", "fine", user="bob").exit_code == 0
    now = datetime.now(timezone.utc)
    head = load_trail(Tracker(governed), MODEL).head
    governance_run(governed, seal(register_fields(tamper_version_2(governed), now), head), now)
    assert load_trail(Tracker(governed), MODEL).trusted
    result = invoke("promote", MODEL, 2)
    assert result.exit_code == 1 and "evidence changed since registration" in result.output


def test_a_promote_record_dated_2099_makes_the_trail_untrusted_until_it_is_removed(governed, applicants):
    promote(1)
    mlflow.MlflowClient(governed).set_registered_model_alias(MODEL, "champion", "2")  # around creditflow
    head = load_trail(Tracker(governed), MODEL).head
    v2 = Tracker(governed).model_version(MODEL, "2")
    future = datetime(2099, 1, 1, tzinfo=timezone.utc)
    fields = {"action": "promote", "model": MODEL, "version": "2", "actor": "carol", "time": future.isoformat(),
              "outcome": "done", "evidence": evidence_digest(v2), "to_version": "2"}  # fmt: skip
    forged = governance_run(governed, seal(fields, head), datetime.now(timezone.utc))
    scored = invoke("score", MODEL, applicants, "out.csv")
    assert scored.exit_code == 1 and "dated in the future" in scored.output and forged in scored.output
    status = invoke("status", MODEL)
    assert status.exit_code == 1 and "audit trail UNTRUSTED" in status.output and "2099" in status.output

    mlflow.MlflowClient(governed).delete_run(forged)  # the operator removes the forgery: the head is honest again
    state = invoke("status", MODEL)
    assert (
        state.exit_code == 0
        and "alias champion is on version 2 but the last recorded promote put it on version 1" in state.output
    )
    promote(2)
    assert json.loads(invoke("status", MODEL, "--json").output)["verified"] is True


def test_a_record_deleted_from_the_middle_is_a_gap_until_restored(governed):
    promote(1)
    client = mlflow.MlflowClient(governed)
    middle = next(r for r in load_trail(Tracker(governed), MODEL).records if r.action == "review")
    client.delete_run(middle.run_id)
    result = invoke("promote", MODEL, 1)
    assert result.exit_code == 1 and "a gap" in result.output and f"--run-id {middle.run_id}" in result.output
    client.restore_run(middle.run_id)
    assert invoke("status", MODEL).exit_code == 0


def test_audit_verify_passes_on_an_honest_trail(governed):
    promote(1)
    assert invoke("rollback", MODEL, "--reason", "x").exit_code == 2  # no previous: nothing written
    promote(2)
    result = invoke("audit", "verify", MODEL)
    assert result.exit_code == 0, result.output
    assert "hash chain intact; evidence of 2 version(s) matches" in result.output


def test_deleting_the_newest_record_is_a_shortened_trail(governed, applicants):
    """Issue 29, item 4: the newest record (a rejection) deleted and the approval tags reset used to pass `audit
    verify`: nothing after it names it. The head is anchored on the registered model and the version."""
    promote(1)
    assert invoke("review", MODEL, 2, "--reject", "--comment", "no", user="bob").exit_code == 0
    client = mlflow.MlflowClient(governed)
    newest = load_trail(Tracker(governed), MODEL).records[-1]
    assert newest.action == "review" and newest.version == "2"
    client.delete_run(newest.run_id)
    for key in ("approval.status", "approval.reviewer", "approval.comment", "approval.time"):
        client.delete_model_version_tag(MODEL, "2", key)
    verified = invoke("audit", "verify", MODEL)
    assert verified.exit_code == 1, verified.output
    assert "the trail is shorter than its anchor" in verified.output and newest.run_id in verified.output
    assert invoke("status", MODEL).exit_code == 1
    client.restore_run(newest.run_id)
    assert invoke("audit", "verify", MODEL).exit_code == 0
