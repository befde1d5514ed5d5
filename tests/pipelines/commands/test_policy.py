"""`creditflow policy push/show/list` on a workbench: the project's policy folder, a changed policy needs a new
version, bad input is one line and exit 2 with nothing written."""

from __future__ import annotations

import yaml
from click.testing import CliRunner

from pipelines.cli import cli
from tests.conftest import POLICY


def invoke(*args: str):
    return CliRunner().invoke(cli, list(args))


def draft(tmp_path, name="consumer-credit", **limits) -> str:
    document = yaml.safe_load(POLICY.read_text())
    document["name"] = name
    for key, value in limits.items():
        if key == "version":
            document["version"] = value
        else:
            section, leaf = key.split("__")
            document["limits"].setdefault(section, {})[leaf] = value
    path = tmp_path / "draft.yaml"
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    return str(path)


def test_push_show_list_in_the_policy_folder(tmp_path, tracking_uri, monkeypatch):
    folder = tmp_path / "lender-policies"
    monkeypatch.setenv("CREDITFLOW_POLICY_DIR", str(folder))
    assert invoke("policy", "list").output.strip() == f"no governed policy in the policy folder {folder}"
    pushed = invoke("policy", "push", draft(tmp_path))
    assert pushed.exit_code == 0 and "policy consumer-credit v2 stored in the policy folder" in pushed.output
    assert (folder / "consumer-credit.yaml").is_file()
    again = invoke("policy", "push", draft(tmp_path))
    assert again.exit_code == 0 and "already the current version" in again.output
    listed = invoke("policy", "list")
    assert listed.exit_code == 0 and listed.output.startswith("consumer-credit  v2  ")
    shown = invoke("policy", "show", "consumer-credit")
    assert shown.exit_code == 0 and shown.output.startswith("# policy consumer-credit v2, digest ")
    assert yaml.safe_load(shown.output)["limits"] == yaml.safe_load(POLICY.read_text())["limits"]


def test_a_changed_policy_needs_a_new_version(tmp_path, tracking_uri, monkeypatch):
    folder = tmp_path / "lender-policies"
    monkeypatch.setenv("CREDITFLOW_POLICY_DIR", str(folder))
    assert invoke("policy", "push", draft(tmp_path)).exit_code == 0
    before = (folder / "consumer-credit.yaml").read_text()
    loosened = invoke("policy", "push", draft(tmp_path, fairness__min_air=0.5))
    assert loosened.exit_code == 2 and loosened.output.count("\n") == 1
    assert "version 2 is already stored with other limits; a changed policy needs a new `version`" in loosened.output
    assert (folder / "consumer-credit.yaml").read_text() == before
    newer = invoke("policy", "push", draft(tmp_path, fairness__min_air=0.85, version="3"))
    assert newer.exit_code == 0 and "policy consumer-credit v3 stored" in newer.output


def test_bad_input_is_one_line_exit_2(tmp_path, tracking_uri, monkeypatch):
    folder = tmp_path / "lender-policies"
    monkeypatch.setenv("CREDITFLOW_POLICY_DIR", str(folder))
    (tmp_path / "bad.yaml").write_text("name: x\nversion: '1'\nlimits: {fairness: {min_ari: 0.8}}\n")
    cases = [
        (("policy", "push", str(tmp_path / "missing.yaml")), "policy file not found"),
        (("policy", "push", str(tmp_path / "bad.yaml")), "unknown key 'limits.fairness.min_ari'"),
        (("policy", "show", "consumer-credit"), "no governed policy 'consumer-credit'"),
        (("policy", "show", "../etc"), "policy name '../etc'"),
    ]
    for args, message in cases:
        result = invoke(*args)
        assert result.exit_code == 2 and result.output.count("\n") == 1 and message in result.output, result.output
    assert not folder.exists()
    invoke("policy", "push", draft(tmp_path))
    result = invoke("policy", "show", "consumer-credit", "--version", "7")
    assert result.exit_code == 2 and "has no version '7'" in result.output and "(kept: 2)" in result.output
