"""`creditflow validate`: the validator recomputes a version's evidence from its registered files, its data by digest
and the governed policy; the author's numbers are kept beside, never trusted; an approval given for other evidence is
void. Bad input is one line and exit 2 with nothing written."""

from __future__ import annotations

import shutil
from pathlib import Path

import mlflow
import pandas as pd
from click.testing import CliRunner

from pipelines.cli import cli
from tests.pipelines.conftest import registry_snapshot

MODEL = "german_credit"


def invoke(*args, user="carol"):
    return CliRunner().invoke(cli, [*map(str, args)], env={"CREDITFLOW_USER": user})


def trail_actions(uri):
    client = mlflow.MlflowClient(uri)
    experiment = client.get_experiment_by_name(f"{MODEL}-governance")
    runs = client.search_runs([experiment.experiment_id], order_by=["attributes.start_time ASC"])
    return [(r.data.params.get("action"), r.data.params.get("version"), r.data.params.get("actor")) for r in runs]


def test_a_forged_verdict_is_recomputed_and_the_author_kept_beside_it(governed):
    client = mlflow.MlflowClient(governed)
    client.set_model_version_tag(MODEL, "1", "validation.performance", "failed")  # the author's report, edited
    result = invoke("validate", MODEL, 1)
    assert result.exit_code == 0, result.output
    assert "german_credit version 1: validated by carol under policy relaxed v1" in result.output
    tags = client.get_model_version(MODEL, "1").tags
    assert tags["validation.validator"] == "carol" and tags["validation.time"]
    assert tags["validation.performance"] == "passed" and tags["author.performance"] == "failed"
    assert tags["author.policy_digest"] == tags["validation.policy_digest"]
    assert ("validate", "1", "carol") in trail_actions(governed)
    page = result.output.split("review page: ")[1].strip()
    assert "german_credit-validation" in page and Path(page).is_file()  # a run of its own
    text = Path(page).read_text()
    described = client.get_model_version(MODEL, "1").description
    assert "**Validated** by carol" in described and described.count("**Validated**") == 1  # the label once
    assert "Validator and author" in text and "validated by carol" in text
    assert "DISAGREE" in text and "validation.performance" in text
    again = invoke("validate", MODEL, 1, user="dave")
    assert again.exit_code == 0 and client.get_model_version(MODEL, "1").tags["author.performance"] == "failed"
    verified = invoke("audit", "verify", MODEL)  # the validated verdicts stand; the forged report is named
    assert verified.exit_code == 1 and "validation.performance" not in verified.output
    assert "version 1: author.performance is 'failed', its run judged 'passed'" in verified.output


def test_an_approval_given_before_validation_is_void(governed):
    assert invoke("review", MODEL, 2, "--approve", "--comment", "read it").exit_code == 0
    assert invoke("validate", MODEL, 2, user="dave").exit_code == 0
    refused = invoke("promote", MODEL, 2)
    assert refused.exit_code == 1 and "the approval was given for other evidence" in refused.output
    assert invoke("review", MODEL, 2, "--approve", "--comment", "read the validated page").exit_code == 0
    promoted = invoke("promote", MODEL, 2)
    assert promoted.exit_code == 0, promoted.output
    status = invoke("status", MODEL, "--check")
    assert status.exit_code == 0 and "champion: version 2 (verified" in status.output


def test_bad_input_is_one_line_and_writes_nothing(governed, registered_store, tmp_path, monkeypatch):
    before = registry_snapshot(governed)
    other = tmp_path / "other.csv"
    frame = pd.read_csv(registered_store / "german_ids.csv")
    frame.iloc[:-1].to_csv(other, index=False)
    cases = [
        (("validate", MODEL, 9), "has no version 9"),
        (("validate", "nobody", 1), "nobody"),
        (("validate", MODEL, 1, "--data", other), "is not the lineage.data_digest of german_credit version 1"),
        (("validate", MODEL, 1, "--data", tmp_path / "gone.csv"), "gone.csv"),
    ]
    for args, message in cases:
        result = invoke(*args)
        assert result.exit_code == 2 and result.output.count("\n") == 1 and message in result.output, result.output
    shutil.copytree(registered_store / "policies", tmp_path / "policies")
    (tmp_path / "policies" / "relaxed.yaml").unlink()
    monkeypatch.setenv("CREDITFLOW_POLICY_DIR", str(tmp_path / "policies"))
    gone = invoke("validate", MODEL, 1)
    assert gone.exit_code == 2 and "no governed policy 'relaxed'" in gone.output
    assert registry_snapshot(governed) == before
