"""`creditflow review`: one actor, one decision, names compared as people, and atomic (issue 12, items 3 and 4)."""

import json

import mlflow
import pytest
from click.testing import CliRunner

from pipelines.cli import cli
from pipelines.governance.local.audit_trail import load_trail
from pipelines.tracking import Tracker, TrackingError
from pipelines.tracking.registry import Registry
from pipelines.tracking.runs import Runs
from tests.pipelines.conftest import AUTHOR, registry_snapshot

MODEL = "german_credit"


def invoke(*args, user=None):
    env = {"CREDITFLOW_USER": user} if user else None
    return CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False, env=env)


def records(uri):
    return len(load_trail(Tracker(uri), MODEL).records)


def version_tags(uri, version="1"):
    return mlflow.MlflowClient(uri).get_model_version(MODEL, version).tags


def assert_refused_unchanged(uri, result, message, code=2):
    assert result.exit_code == code, result.output
    assert message in result.output and result.output.count("\n") == 1 and result.output.startswith("error: ")


def test_the_reviewer_is_the_acting_user_and_another_name_is_refused(governed):
    before, count = registry_snapshot(governed), records(governed)
    result = invoke("review", MODEL, 1, "--approve", "--reviewer", "bob", "--comment", "fine")  # carol acting
    assert_refused_unchanged(governed, result, "--reviewer 'bob' is not the acting user 'carol'")
    impersonation = invoke("review", MODEL, 1, "--approve", "--reviewer", "bob", "--comment", "fine", user=AUTHOR)
    assert_refused_unchanged(governed, impersonation, "--reviewer 'bob' is not the acting user 'alice'")
    assert registry_snapshot(governed) == before and records(governed) == count

    assert invoke("review", MODEL, 1, "--approve", "--reviewer", " Carol ", "--comment", "fine").exit_code == 0
    assert version_tags(governed)["approval.reviewer"] == "carol"
    assert invoke("review", MODEL, 2, "--reject", "--comment", "thin evidence").exit_code == 0
    assert version_tags(governed, "2")["approval.reviewer"] == "carol"


@pytest.mark.parametrize("flags", [(), ("--approve", "--reject")], ids=["neither", "both"])
def test_exactly_one_decision_is_required(governed, flags):
    before, count = registry_snapshot(governed), records(governed)
    result = invoke("review", MODEL, 1, *flags, "--comment", "hmm")
    assert_refused_unchanged(governed, result, "give exactly one of --approve or --reject")
    assert registry_snapshot(governed) == before and records(governed) == count


@pytest.mark.parametrize(
    "variant",
    ["ali\u200bce", "\uff41lice", "ali\u00adce", "ALİCE"],
    ids=["zero-width-space", "full-width", "soft-hyphen", "dotted-capital-I"],
)
def test_every_variant_of_the_authors_login_is_the_author(governed, variant):
    assert invoke("review", MODEL, 1, "--approve", "--comment", "looks fine", user=variant).exit_code == 0
    result = invoke("promote", MODEL, 1)
    assert (
        result.exit_code == 1 and "four-eyes: reviewer" in result.output and "is the version's author" in result.output
    )


def test_a_login_mixing_scripts_is_refused_as_a_reviewer_and_in_a_ui_approval(governed):
    cyrillic = "al\u0456ce"  # Cyrillic і
    result = invoke("review", MODEL, 1, "--approve", "--comment", "fine", user=cyrillic)
    assert_refused_unchanged(governed, result, "mixes Cyrillic and Latin letters")
    client = mlflow.MlflowClient(governed)
    for key, value in {"approval.status": "approved", "approval.reviewer": cyrillic}.items():
        client.set_model_version_tag(MODEL, "1", key, value)  # typed in the MLflow UI
    refused = invoke("promote", MODEL, 1)
    assert refused.exit_code == 1
    assert "mixes Cyrillic and Latin letters" in refused.output and "is the version's author" in refused.output


def test_a_failed_audit_write_leaves_no_tags(governed, monkeypatch):
    before, count = registry_snapshot(governed), records(governed)

    def broken(self, *args, **kwargs):
        raise TrackingError("tracking store: disk I/O error")

    with monkeypatch.context() as patched:
        patched.setattr(Runs, "log_record", broken)
        result = invoke("review", MODEL, 1, "--reject", "--comment", "leak", user="bob")
    assert result.exit_code == 2 and "disk I/O error" in result.output
    assert registry_snapshot(governed) == before and records(governed) == count
    assert version_tags(governed)["approval.status"] == "pending"


def test_tags_not_written_after_the_record_are_rolled_forward_by_the_next_command(governed, monkeypatch):
    original = Registry.set_version_tags

    def crash_after_first_tag(self, name, version, values):
        if "approval.status" not in values:  # the trail's anchor (audit.head), written with the record
            return original(self, name, version, values)
        first = dict(list(values.items())[:1])
        original(self, name, version, first)
        raise TrackingError("tracking store: connection lost")

    with monkeypatch.context() as patched:
        patched.setattr(Registry, "set_version_tags", crash_after_first_tag)
        result = invoke("review", MODEL, 1, "--approve", "--comment", "evidence read", user="bob")
    assert result.exit_code == 2
    assert version_tags(governed)["approval.status"] == "approved" and "approval.reviewer" not in version_tags(governed)

    status = invoke("status", MODEL, "--json")
    assert status.exit_code == 0
    assert "rolled forward: the review of german_credit version 1 by bob was recorded" in status.output
    tags = version_tags(governed)
    assert tags["approval.reviewer"] == "bob" and tags["approval.comment"] == "evidence read"
    assert invoke("promote", MODEL, 1).exit_code == 0
    assert json.loads(invoke("status", MODEL, "--json").output)["verified"] is True
