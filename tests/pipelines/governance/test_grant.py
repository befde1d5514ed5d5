"""Exceptions through the CLI, on German Credit judged under the shipped policy (its fairness gate fails honestly)."""

import datetime as dt
import json
from pathlib import Path

import mlflow
import pytest
from click.testing import CliRunner

import pipelines.commands.status as status_command
from pipelines.cli import cli
from tests.pipelines.conftest import registry_snapshot

MODEL = "german_credit"
TODAY = dt.datetime.now(dt.timezone.utc).date()
EXPIRES = (TODAY + dt.timedelta(days=30)).isoformat()
WHY = "age is an empirically derived, demonstrably sound factor; gaps reviewed with the challenger"


def invoke(*args, user=None):
    env = {"CREDITFLOW_USER": user} if user else None
    return CliRunner().invoke(cli, [str(a) for a in args], env=env, catch_exceptions=False)


def grant(version, gate="fairness", user="dora", justification=WHY, expires=EXPIRES):
    return invoke(
        "review", MODEL, version, "--exception", gate, "--justification", justification, "--expires", expires, user=user
    )


def approve(version, reviewer="bob"):
    result = invoke("review", MODEL, version, "--approve", "--comment", "evidence read", user=reviewer)
    assert result.exit_code == 0, result.output


def status(*flags):
    result = invoke("status", MODEL, "--json", *flags)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)  # progress and MLflow's log lines go to stderr


def artifact(uri, version, path):
    client = mlflow.MlflowClient(uri)
    run_id = client.get_model_version(MODEL, version).run_id
    return Path(mlflow.artifacts.download_artifacts(run_id=run_id, artifact_path=path)).read_text()


def test_an_honest_failed_version_goes_forward_with_an_exception_and_a_separate_approval(honest, monkeypatch):
    client = mlflow.MlflowClient(honest)
    assert client.get_model_version(MODEL, "1").tags["validation.fairness"] == "failed"
    refused = invoke("promote", MODEL, 1)
    assert refused.exit_code == 1
    assert "unmet: validation.fairness is 'failed', not 'passed', and no accepted exception" in refused.output

    approve(1)  # an approval given before the exception does not cover it
    granted = grant(1)
    assert granted.exit_code == 0, granted.output
    assert f"exception to validation.fairness accepted by dora, valid through {EXPIRES}" in granted.output
    refused = invoke("promote", MODEL, 1)
    assert refused.exit_code == 1 and "the approval predates its exception" in refused.output

    approve(1)
    promoted = invoke("promote", MODEL, 1)
    assert promoted.exit_code == 0, promoted.output
    tags = client.get_model_version(MODEL, "1").tags
    assert tags["exception.fairness.status"] == "accepted" and tags["exception.fairness.granted_by"] == "dora"
    assert tags["exception.fairness.expires"] == EXPIRES and tags["exception.fairness.justification"] == WHY
    assert tags["exception.fairness.alternative"].startswith("challenger under equalized_odds (bound 0.02) on test")

    state = status("--audit")
    assert state["champion"] == "1" and state["verified"] is True and state["expired"] == []
    assert [(e["version"], e["gate"], e["granted_by"], e["expires"], e["expired"]) for e in state["exceptions"]] == [
        ("1", "fairness", "dora", EXPIRES, "no")
    ]
    exception = next(e for e in state["audit"] if e["action"] == "exception")
    assert (exception["actor"], exception["gate"], exception["until"], exception["why"]) == (
        "dora",
        "fairness",
        EXPIRES,
        WHY,
    )
    text = invoke("status", MODEL).output
    assert f"version 1 validation.fairness: granted by dora, valid through {EXPIRES}: {WHY}" in text
    assert f"fairness until {EXPIRES}" in text
    page = artifact(honest, "1", "model_card/model_card.html").split("<h2 id='governance'>", 1)[1]
    assert "dora" in page and WHY in page and "challenger under equalized_odds" in page
    card = artifact(honest, "1", "model_card/model_card.md").split("## Approvals and exceptions", 1)[1]
    assert "| validation.fairness | dora |" in card and EXPIRES in card
    assert invoke("status", MODEL, "--check").exit_code == 0

    monkeypatch.setattr(status_command, "today", lambda: TODAY + dt.timedelta(days=31))
    late = invoke("status", MODEL, "--check")
    assert late.exit_code == 1
    assert f"champion validation.fairness: exception expired on {EXPIRES}" in late.output and "(EXPIRED)" in late.output


def test_a_version_without_a_sensitive_attribute_needs_an_exception_for_not_assessed(honest):
    assert mlflow.MlflowClient(honest).get_model_version(MODEL, "2").tags["validation.fairness"] == "not_assessed"
    approve(2)
    refused = invoke("promote", MODEL, 2)
    assert refused.exit_code == 1
    assert "validation.fairness is 'not_assessed', not 'passed', and no accepted exception" in refused.output
    assert grant(2, justification="no attribute collected for this product; outcome study due").exit_code == 0
    approve(2)
    assert invoke("promote", MODEL, 2).exit_code == 0


@pytest.mark.parametrize(
    "args, message",
    [
        (("--exception", "performance"), "validation.performance is 'passed': an exception is only for a failed"),
        (("--exception", "fairness", "--user", "alice"), "alice is the version's author"),
        (("--exception", "fairness", "--justification", "  "), "--justification must say why"),
        (("--exception", "fairness", "--expires", "2020-01-01"), "--expires 2020-01-01 is in the past"),
        (("--exception", "fairness", "--expires", "2999-01-01"), "is beyond the policy's maximum of 90 days"),
        (("--exception", "fairness", "--expires", "soon"), "expected a date YYYY-MM-DD"),
        (("--exception", "speed"), "--exception speed: no registered gate of that name"),
        (("--exception", "fairness", "--approve"), "--exception is recorded on its own"),
        (("--exception", "fairness", "--expires", None), "--exception needs --expires YYYY-MM-DD"),
        (("--justification", "x"), "give exactly one of --approve or --reject (a decision), or --exception GATE"),
        (("--approve", "--reviewer", "bob", "--comment", "x", "--expires", EXPIRES), "belong to --exception"),
    ],
)
def test_bad_exception_input_is_one_line_exit_2_and_changes_nothing(honest, args, message):
    options = {"--justification": WHY, "--expires": EXPIRES}
    args, user = list(args), "dora"
    if "--user" in args:
        user = args.pop(args.index("--user") + 1)
        args.remove("--user")
    if "--exception" in args:
        for key, value in list(options.items()):
            if key in args:
                at = args.index(key)
                if args[at + 1] is None:
                    del args[at : at + 2]
                continue
            args += [key, value]
    before = registry_snapshot(honest)
    result = invoke("review", MODEL, "1", *args, user=user)
    assert result.exit_code == 2, result.output
    assert message in result.output and result.output.count("\n") == 1 and result.output.startswith("error: ")
    assert registry_snapshot(honest) == before


def test_an_exception_tag_typed_in_the_ui_grants_nothing(honest):
    client = mlflow.MlflowClient(honest)
    for field, value in {"status": "accepted", "granted_by": "dora", "expires": EXPIRES}.items():
        client.set_model_version_tag(MODEL, "1", f"exception.fairness.{field}", value)
    approve(1)
    refused = invoke("promote", MODEL, 1)
    assert refused.exit_code == 1 and "validation.fairness is 'failed', not 'passed', and no accepted exception" in (
        refused.output
    )
