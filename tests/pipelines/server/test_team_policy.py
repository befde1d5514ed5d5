"""Team mode: governed policies live on the server (risk stores them, every version kept and audited); a spec
names one, never a file; a version judged under anything but the current governed version is not promoted."""

from __future__ import annotations

import pytest
import yaml

pytestmark = pytest.mark.slow


def approve(server, model, version):
    body = {"name": model, "version": version, "key": "approval.status", "value": "approved"}
    response = server.rest("rev1", "POST", "/api/2.0/mlflow/model-versions/set-tag", json=body)
    assert response.status_code == 200, response.text


def test_policy_push_show_list_through_the_cli(team_server, tmp_path):
    server = team_server
    document = yaml.safe_load((server.folder / "policies" / "relaxed.yaml").read_text())
    document["name"] = "cli-policy"
    path = tmp_path / "cli-policy.yaml"
    path.write_text(yaml.safe_dump(document))
    by_ds = server.cli("ds1", "policy", "push", path)
    assert by_ds.exit_code == 1 and "may not change the governed policy (risk owns it)" in by_ds.output
    assert server.cli("risk1", "policy", "push", path).exit_code == 0
    document["limits"]["fairness"]["min_air"] = 0.001  # a loosening under the same version number
    path.write_text(yaml.safe_dump(document))
    loosened = server.cli("risk1", "policy", "push", path)
    assert loosened.exit_code == 2 and "a changed policy needs a new `version`" in loosened.output
    document["version"] = "2"
    path.write_text(yaml.safe_dump(document))
    assert server.cli("risk1", "policy", "push", path).exit_code == 0
    listed = server.cli("ds1", "policy", "list")
    assert "cli-policy  v2  " in listed.output and "(2 version(s) kept)" in listed.output
    old = server.cli("ds1", "policy", "show", "cli-policy", "--version", "1")
    assert old.exit_code == 0 and "# stored by risk1" in old.output and "min_air: 0.01" in old.output
    rows = [(r["username"], r["decision"]) for r in server.audit() if r["target"] == "cli-policy"]
    assert rows == [("ds1", "refused"), ("risk1", "allowed"), ("risk1", "refused"), ("risk1", "allowed")]


def test_a_spec_naming_an_unstored_policy_or_none_is_refused(team_server, tmp_path):
    server = team_server
    text = (server.folder / "german_credit.yaml").read_text().replace("name: german_credit", "name: unstored")
    (tmp_path / "policies").mkdir()
    (tmp_path / "policies" / "authors-own.yaml").write_text(
        (server.folder / "policies" / "relaxed.yaml").read_text().replace("name: relaxed", "name: authors-own")
    )
    for name, message in (("authors-own", "no governed policy 'authors-own' on the team server"),):
        spec = tmp_path / "unstored.yaml"
        spec.write_text(text.replace("  name: relaxed\n", f"  name: {name}\n"))
        result = server.cli("ds1", "run", spec)
        assert result.exit_code == 2 and message in result.output and result.output.count("\n") == 1
    spec.write_text(text.replace("  name: relaxed\n", ""))
    result = server.cli("ds1", "run", spec)
    assert result.exit_code == 2 and "the spec must name a governed policy" in result.output
    assert not server.client("ds1").search_registered_models("name = 'unstored'")


def test_a_version_judged_under_an_authors_policy_document_is_never_promoted(team_server):
    """The issue's trick: same policy label, the author's own limits (another digest), registered over REST."""
    server = team_server
    base = server.base_tags
    try:
        server.base_tags = {**base, "validation.policy_digest": "f" * 64}
        (version,) = server.register("own_policy")
    finally:
        server.base_tags = base
    approve(server, "own_policy", version)
    refused = server.cli("rev2", "promote", "own_policy", version)
    assert refused.exit_code == 1, refused.output
    assert "was judged under policy relaxed v1 (digest ffffffffffff), not the governed relaxed v1" in refused.output
    status = server.cli("rev2", "status", "own_policy")
    assert "POLICY NOT CURRENT: version 1 was judged under policy relaxed v1" in status.output


def test_audit_verify_is_clean_on_an_untampered_version_and_names_each_forgery(team_server):
    """Issue 22: `audit verify` cried wolf on every team version (the run's lineage.author was the OS user)."""
    server = team_server
    clean = server.cli("rev1", "audit", "verify", "german_credit")
    assert clean.exit_code == 0, clean.output
    base = server.base_tags
    try:
        server.base_tags = {**base, "validation.fairness": "passed", "validation.performance": "failed"}
        (forged_gate,) = server.register("forged_gate")
        server.base_tags = {**base, "validation.policy_digest": "e" * 64}
        (forged_policy,) = server.register("forged_policy")
    finally:
        server.base_tags = base
    gate = server.cli("rev1", "audit", "verify", "forged_gate")
    assert gate.exit_code == 1 and f"version {forged_gate}: validation.performance is 'failed', its run" in gate.output
    policy = server.cli("rev1", "audit", "verify", "forged_policy")
    assert policy.exit_code == 1 and f"version {forged_policy} was judged under policy relaxed v1 with digest eee" in (
        policy.output
    )
