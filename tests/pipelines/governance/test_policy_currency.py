"""Local mode shows a version judged under a policy that is no longer the governed one: review, promote, status."""

from __future__ import annotations

import json
import shutil

import yaml
from click.testing import CliRunner

from pipelines.cli import cli

MODEL = "german_credit"


def test_a_new_governed_policy_version_is_shown_on_review_promote_and_status(
    governed, registered_store, tmp_path, monkeypatch
):
    shutil.copytree(registered_store / "policies", tmp_path / "policies")
    monkeypatch.setenv("CREDITFLOW_POLICY_DIR", str(tmp_path / "policies"))
    runner = CliRunner()
    clean = runner.invoke(cli, ["status", MODEL, "--json"])
    assert clean.exit_code == 0 and json.loads(clean.stdout)["policy_problems"] == []
    document = yaml.safe_load((tmp_path / "policies" / "relaxed.yaml").read_text())
    document["version"], document["limits"]["fairness"]["min_air"] = "2", 0.8
    (tmp_path / "draft.yaml").write_text(yaml.safe_dump(document))
    assert runner.invoke(cli, ["policy", "push", str(tmp_path / "draft.yaml")]).exit_code == 0
    status = runner.invoke(cli, ["status", MODEL])
    assert "POLICY NOT CURRENT: version 1 was judged under policy relaxed v1" in status.output
    assert "not the governed relaxed v2" in status.output
    review = runner.invoke(cli, ["review", MODEL, "1", "--approve", "--comment", "ok"])
    assert f"WARNING: {MODEL} version 1 was judged under policy relaxed v1" in review.stderr
    promote = runner.invoke(cli, ["promote", MODEL, "1"])
    assert "validate it again" in promote.stderr
