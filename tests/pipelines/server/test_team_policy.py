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
    first = document["version"]
    document["version"] = str(int(first) + 1)
    path.write_text(yaml.safe_dump(document))
    assert server.cli("risk1", "policy", "push", path).exit_code == 0
    listed = server.cli("ds1", "policy", "list")
    assert f"cli-policy  v{document['version']}  " in listed.output and "(2 version(s) kept)" in listed.output
    old = server.cli("ds1", "policy", "show", "cli-policy", "--version", first)
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
    """The issue's trick: same policy label, the author's own limits (another digest), registered over REST: the
    registration is refused; the author's claim (author.policy_digest) is not what the validator judges under."""
    server = team_server
    base = server.base_tags
    try:
        server.base_tags = {**base, "validation.policy_digest": "f" * 64}
        with pytest.raises(Exception, match="validation.policy_digest is evidence the validator writes"):
            server.register("own_policy", wait=False)
        server.base_tags = {**base, "author.policy_digest": "f" * 64}
        (version,) = server.register("own_policy")
    finally:
        server.base_tags = base
    tags = server.client("rev1").get_model_version("own_policy", version).tags
    stored = server.rest("rev1", "GET", "/api/2.0/creditflow/policy?name=relaxed").json()
    assert tags["validation.policy_digest"] == stored["digest"] and tags["author.policy_digest"] == "f" * 64
    approve(server, "own_policy", version)
    promoted = server.cli("rev2", "promote", "own_policy", version)
    assert promoted.exit_code == 0, promoted.output


def test_audit_verify_is_clean_on_an_untampered_version_and_names_each_forgery(team_server):
    """Issue 22: `audit verify` cried wolf on every team version (the run's lineage.author was the OS user)."""
    server = team_server
    clean = server.cli("rev1", "audit", "verify", "german_credit")
    assert clean.exit_code == 0, clean.output
    (version,) = server.register("verified")
    assert server.cli("rev1", "audit", "verify", "verified").exit_code == 0
    base = server.base_tags
    try:  # the forgeries of issue 22 no longer reach the registry: refused at registration, and audited
        for forged in ({"validation.fairness": "passed"}, {"validation.policy_digest": "e" * 64}):
            server.base_tags = {**base, **forged}
            with pytest.raises(Exception, match="is evidence the validator writes"):
                server.register("forged_gate", wait=False)
    finally:
        server.base_tags = base
    refused = [r for r in server.audit("forged_gate") if r["action"] == "create_version"]
    assert [r["decision"] for r in refused] == ["refused", "refused"]
