"""review / promote / rollback / status through the CLI, on a copy of a store with two registered versions."""

import datetime as dt
import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import mlflow
import pandas as pd
import pytest
from click.testing import CliRunner

from pipelines.cli import cli
from tests.conftest import REPO
from tests.pipelines.conftest import AUTHOR, registry_snapshot, use_governed_store

# Every test copies the store `creditflow run` made (tests/pipelines/conftest.py); some spawn processes.
pytestmark = pytest.mark.slow

MODEL = "german_credit"


def invoke(*args, user=None):
    env = {"CREDITFLOW_USER": user} if user else None
    return CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False, env=env)


def approve(version, reviewer="bob", comment="evidence read, fine"):
    result = invoke("review", MODEL, version, "--approve", "--comment", comment, user=reviewer)
    assert result.exit_code == 0, result.output


def aliases(uri):
    return {k: str(v) for k, v in mlflow.MlflowClient(uri).get_registered_model(MODEL).aliases.items()}


def status(*flags):
    result = invoke("status", MODEL, "--json", *flags)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)  # progress and MLflow's log lines go to stderr


@dataclass(frozen=True)
class Step:
    """One command of the story and what it left: its exit code and output, the aliases after it."""

    exit_code: int
    output: str
    aliases: dict[str, str]


def step(uri: str, *args) -> Step:
    result = invoke(*args)
    return Step(result.exit_code, result.output, aliases(uri))


@dataclass(frozen=True)
class Story:
    """The governed story, played once on one copy of the store; the tests below each check one part."""

    before: list  # registry snapshot before anything
    pending_refused: Step
    after_pending_refused: list  # registry snapshot after the refused promote
    self_review_refused: Step
    promoted_1: Step
    promoted_1_again: Step
    scored: Step
    decisions: pd.DataFrame
    promoted_2: Step
    rolled_back: Step
    status: dict
    status_text: str
    card: str
    card_html: str


@pytest.fixture(scope="module")
def story(tmp_path_factory, registered_store) -> Story:
    """Refused while pending, refused on the author's own review, promoted, scored, 2 promoted, rolled back."""
    with pytest.MonkeyPatch.context() as patch:
        governed = use_governed_store(registered_store, tmp_path_factory.mktemp("story"), patch)
        try:
            before = registry_snapshot(governed)
            pending_refused = step(governed, "promote", MODEL, 1)
            after_pending_refused = registry_snapshot(governed)

            approve(1, reviewer=AUTHOR, comment="my own work is fine")
            self_review_refused = step(governed, "promote", MODEL, 1)

            approve(1, reviewer="bob")
            promoted_1 = step(governed, "promote", MODEL, 1)
            promoted_1_again = step(governed, "promote", MODEL, 1)
            pd.read_csv("german_ids.csv").drop(columns=["creditability"]).to_parquet("applicants.parquet")
            scored = step(governed, "score", f"models:/{MODEL}@champion", "applicants.parquet", "decisions.csv")
            decisions = pd.read_csv("decisions.csv")

            approve(2, reviewer="bob")
            promoted_2 = step(governed, "promote", MODEL, 2)
            rolled_back = step(governed, "rollback", MODEL, "--reason", "approval rates drifted in week 3")

            run_id = mlflow.MlflowClient(governed).get_model_version(MODEL, "1").run_id
            return Story(
                before=before,
                pending_refused=pending_refused,
                after_pending_refused=after_pending_refused,
                self_review_refused=self_review_refused,
                promoted_1=promoted_1,
                promoted_1_again=promoted_1_again,
                scored=scored,
                decisions=decisions,
                promoted_2=promoted_2,
                rolled_back=rolled_back,
                status=status("--audit"),
                status_text=invoke("status", MODEL, "--audit").output,
                card=Path(
                    mlflow.artifacts.download_artifacts(run_id=run_id, artifact_path="model_card/model_card.md")
                ).read_text(),
                card_html=Path(
                    mlflow.artifacts.download_artifacts(run_id=run_id, artifact_path="model_card/model_card.html")
                ).read_text(),
            )
        finally:
            mlflow.set_tracking_uri(None)


# test_the_governed_story, one part per test.


def test_a_pending_version_is_not_promoted_and_nothing_changes(story):
    assert story.pending_refused.exit_code == 1
    assert "unmet: approval.status is 'pending', not 'approved'" in story.pending_refused.output
    assert story.after_pending_refused == story.before


def test_the_author_approving_their_own_version_does_not_count(story):
    refused = story.self_review_refused
    assert refused.exit_code == 1 and "four-eyes: reviewer 'alice' is the version's author" in refused.output
    assert refused.aliases == {}


def test_a_reviewed_version_is_promoted_once(story):
    assert story.promoted_1.exit_code == 0
    assert story.promoted_1.aliases == {"champion": "1"}
    again = story.promoted_1_again
    assert again.exit_code == 0 and "already champion" in again.output


def test_the_champion_scores_applicants_after_verification(story):
    assert story.scored.exit_code == 0 and "version 1 via alias champion (verified" in story.scored.output
    decisions = story.decisions
    assert len(decisions) == 1000 and decisions.loc[decisions["decision"] == "decline", "reason_1"].notna().all()


def test_a_new_champion_keeps_the_old_as_previous_and_rollback_restores_it(story):
    assert story.promoted_2.exit_code == 0
    assert story.promoted_2.aliases == {"champion": "2", "previous": "1"}
    assert story.rolled_back.exit_code == 0, story.rolled_back.output
    assert story.rolled_back.aliases == {"champion": "1"}


def test_status_verifies_the_champion_against_the_audit_trail(story):
    state = story.status
    assert state["champion"] == "1" and state["verified"] is True
    steps = [(e["action"], e["outcome"], e["version"]) for e in state["audit"]]
    assert steps == [
        ("register", "done", "1"),
        ("register", "done", "2"),
        ("refuse", "refused", "1"),
        ("review", "done", "1"),
        ("refuse", "refused", "1"),
        ("review", "done", "1"),
        ("promote", "intent", "1"),  # every rule checked, recorded before any alias moves
        ("promote", "done", "1"),
        ("review", "done", "2"),
        ("promote", "intent", "2"),
        ("promote", "done", "2"),
        ("rollback", "intent", "1"),
        ("rollback", "done", "1"),
    ]
    assert state["audit"][-1]["why"] == "approval rates drifted in week 3" and state["audit"][-1]["actor"] == "carol"
    assert state["audit"][-1]["champion"] == "2 -> 1"
    assert (
        "champion: version 1 (verified against the audit trail)" in story.status_text
        and "rollback" in story.status_text
    )


def test_the_model_card_lists_every_review(story):
    approvals = story.card.split("## Approvals and exceptions", 1)[1]
    assert (
        "| alice | approved: my own work is fine | creditflow |" in approvals
        and "| bob | approved: evidence read, fine | creditflow |" in approvals
    )
    assert "Pending: no review decision yet." not in story.card
    governance = story.card_html.split("<h2 id='governance'>Approvals and exceptions</h2>", 1)[1]
    assert "approved: evidence read, fine" in governance


def approve_in_the_ui(client, version, **extra):
    for key, value in {
        "approval.status": "approved",
        "approval.reviewer": "bob",
        "approval.comment": "read it in the UI",
        **extra,
    }.items():
        client.set_model_version_tag(MODEL, version, key, value)


def test_an_approval_in_the_mlflow_ui_promotes_the_same_way(governed):
    approve_in_the_ui(mlflow.MlflowClient(governed), "2", **{"approval.time": "2026-11-28"})
    result = invoke("promote", MODEL, 2)
    assert result.exit_code == 0, result.output
    assert "recorded the approved decision by bob on version 2, made in the MLflow UI" in result.output
    assert status()["verified"] is True


def test_an_approval_in_the_ui_is_recorded_by_status(governed):
    """The issue: a UI approval left no review event, no approval time, and a card still saying pending."""
    client = mlflow.MlflowClient(governed)
    approve_in_the_ui(client, "1")
    before = time.time()
    first = status("--audit")
    assert first["recorded"] == [
        "recorded the approved decision by bob on version 1, made in the MLflow UI (audit trail, review page)"
    ]
    review = [e for e in first["audit"] if e["action"] == "review"]
    assert len(review) == 1 and review[0]["actor"] == "bob" and review[0]["source"] == "ui"
    assert review[0]["why"] == "approved: read it in the UI"
    assert dt.datetime.fromisoformat(review[0]["time"]).timestamp() >= before - 1  # when it was found
    assert client.get_model_version(MODEL, "1").tags["approval.time"] == review[0]["time"]  # the UI set none
    assert status("--audit")["recorded"] == []  # recorded once
    run_id = client.get_model_version(MODEL, "1").run_id
    card = Path(
        mlflow.artifacts.download_artifacts(run_id=run_id, artifact_path="model_card/model_card.md")
    ).read_text()
    assert "| bob | approved: read it in the UI | MLflow UI |" in card and "Pending" not in card
    text = invoke("status", MODEL)
    assert "made in the MLflow UI" not in text.output  # the UI decision is recorded once, not again


def test_status_check_exits_1_on_an_out_of_band_champion(governed):
    assert invoke("status", MODEL, "--check").exit_code == 1  # no champion yet
    approve(1)
    assert invoke("promote", MODEL, 1).exit_code == 0
    assert invoke("status", MODEL, "--check").exit_code == 0
    mlflow.MlflowClient(governed).set_registered_model_alias(MODEL, "champion", "2")
    result = invoke("status", MODEL, "--check")
    assert result.exit_code == 1 and "champion: version 2 UNVERIFIED" in result.output
    assert result.output.strip().endswith("error: german_credit: the champion is unverified")


def test_changes_made_around_creditflow_are_flagged(governed):
    client = mlflow.MlflowClient(governed)
    client.set_registered_model_alias(MODEL, "champion", "2")  # the UI lets any editor do this
    state = status()
    assert state["verified"] is False
    assert "alias champion on version 2 was not set by a recorded promotion" in state["problems"]
    assert "UNVERIFIED" in invoke("status", MODEL).output

    approve(1)
    assert invoke("promote", MODEL, 1).exit_code == 0
    client.set_model_version_tag(MODEL, "1", "approval.reviewer", AUTHOR)
    problems = status()["problems"]
    assert "approval tags of version 1 changed since its promote" in problems
    assert "four-eyes: reviewer 'alice' is the version's author" in problems


def test_an_edited_gate_voids_the_approval(governed):
    approve(1)
    mlflow.MlflowClient(governed).set_model_version_tag(MODEL, "1", "validation.fairness", "passed ")
    result = invoke("promote", MODEL, 1)
    assert result.exit_code == 1
    assert "evidence changed since registration" in result.output
    assert "the approval was given for other evidence" in result.output


def test_a_rejected_version_needs_a_new_review(governed):
    rejected = invoke("review", MODEL, 1, "--reject", "--comment", "fairness evidence too thin", user="bob")
    assert rejected.exit_code == 0
    before = registry_snapshot(governed)
    result = invoke("review", MODEL, 1, "--approve", "--comment", "fine", user="dave")
    assert result.exit_code == 2 and "--new-review" in result.output
    assert registry_snapshot(governed) == before
    result = invoke("review", MODEL, 1, "--approve", "--comment", "re-read", "--new-review", user="dave")
    assert result.exit_code == 0
    assert invoke("promote", MODEL, 1).exit_code == 0


def test_rollback_is_refused_when_previous_no_longer_qualifies(governed):
    approve(1), approve(2)
    assert invoke("promote", MODEL, 1).exit_code == 0 and invoke("promote", MODEL, 2).exit_code == 0
    mlflow.MlflowClient(governed).set_model_version_tag(MODEL, "1", "approval.status", "rejected")
    before = registry_snapshot(governed)
    result = invoke("rollback", MODEL, "--reason", "incident")
    assert result.exit_code == 1 and "approval.status is 'rejected'" in result.output
    assert registry_snapshot(governed) == before


@pytest.mark.parametrize(
    "args, message",
    [
        (("promote", "no_such_model", "1"), "unknown model 'no_such_model'"),
        (("promote", MODEL, "9"), "model 'german_credit' has no version 9"),
        (("review", MODEL, "9", "--approve", "--comment", "x"), "has no version 9"),
        (("review", MODEL, "1", "--approve", "--reviewer", "", "--comment", "x"), "is not the acting user 'carol'"),
        (("review", MODEL, "1", "--approve", "--comment", " "), "--comment must say why"),
        (("rollback", MODEL, "--reason", "x"), "has no alias 'previous'"),
        (("rollback", MODEL, "--reason", " "), "--reason must say why"),
        (("status", "no_such_model"), "unknown model 'no_such_model'"),
        (("promote", MODEL, "1", "--tracking-uri", "http://127.0.0.1:1"), "is unreachable"),
    ],
)
def test_bad_input_is_one_line_exit_2_and_changes_nothing(governed, args, message):
    before = registry_snapshot(governed)
    started = time.perf_counter()
    result = invoke(*args)
    assert result.exit_code == 2, result.output
    assert message in result.output and result.output.count("\n") == 1 and result.output.startswith("error: ")
    assert time.perf_counter() - started < 10
    assert registry_snapshot(governed) == before


def test_two_promotions_at_once_are_serialised(governed):
    approve(1), approve(2)
    command = [sys.executable, "-m", "pipelines.cli", "promote", MODEL]
    workers = [
        subprocess.Popen([*command, v], cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        for v in ("1", "2")
    ]
    outputs = [w.communicate(timeout=120)[0] for w in workers]
    assert [w.returncode for w in workers] == [0, 0], outputs
    moves = [e for e in status("--audit")["audit"] if e["action"] == "promote" and e["outcome"] == "done"]
    first, second = moves
    assert first["champion"] == f"- -> {first['version']}"
    assert second["champion"] == f"{first['version']} -> {second['version']}"  # the second saw the first's move
    assert aliases(governed) == {"champion": second["version"], "previous": first["version"]}
    assert status()["verified"] is True
    assert MODEL + ".lock" not in [m.name for m in mlflow.MlflowClient(governed).search_registered_models()]


def test_a_rejection_racing_a_promotion_never_leaves_champion_on_a_rejected_version(governed):
    approve(1)
    base = [sys.executable, "-m", "pipelines.cli"]
    commands = [
        [*base, "promote", MODEL, "1"],
        [*base, "review", MODEL, "1", "--reject", "--comment", "found a leak"],
    ]
    workers = [
        subprocess.Popen(
            c, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env={**os.environ, **env}
        )
        for c, env in zip(commands, [{}, {"CREDITFLOW_USER": "dave"}])
    ]
    outputs = [w.communicate(timeout=120)[0] for w in workers]
    promoted, rejected = (w.returncode == 0 for w in workers)
    assert promoted != rejected, outputs  # serialised: whichever ran second was refused
    version = mlflow.MlflowClient(governed).get_model_version(MODEL, "1")
    if promoted:
        assert version.tags["approval.status"] == "approved" and "roll it back first" in outputs[1]
        assert status()["verified"] is True
    else:
        assert version.tags["approval.status"] == "rejected" and aliases(governed) == {}
