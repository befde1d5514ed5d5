"""A real team server on loopback: the gate enforces four-eyes on the authenticated user, every registry change
(allowed or refused) is a row of the hash-chained audit log, and bad input and faults give one-line errors."""

from __future__ import annotations

import datetime as dt
import json
import threading

import pytest
import yaml

from pipelines.server.audit_chain import chain_problems

pytestmark = pytest.mark.slow


def last_row(server, model):
    return server.audit(model)[-1]


@pytest.fixture(scope="module")
def forged_target(team_server) -> tuple[str, str]:
    return "forged", team_server.register("forged")[0]


@pytest.fixture(scope="module")
def governed_model(team_server) -> str:
    """A validated version 1 of `governed` (each refusal of a registry change leaves it as it was)."""
    return team_server.register("governed")[0]


def test_the_governed_story_through_the_cli(team_server):
    server = team_server
    (version,) = server.register("story_cli")
    refused = server.cli("ds1", "review", "story_cli", version, "--approve", "--reviewer", "ds1", "--comment", "mine")
    assert refused.exit_code == 1
    assert "four-eyes: ds1 registered version" in refused.output and "Traceback" not in refused.output
    assert (
        server.cli(
            "rev1", "review", "story_cli", version, "--approve", "--reviewer", "rev1", "--comment", "ok"
        ).exit_code
        == 0
    )
    other = server.cli("rev1", "review", "story_cli", version, "--approve", "--reviewer", "rev2", "--comment", "x")
    assert (
        other.exit_code == 2
        and "is not the acting user 'rev1' (the user the team server authenticated)" in other.output
    )
    own = server.cli("ds1", "promote", "story_cli", version)
    assert own.exit_code == 1 and "unmet: four-eyes: ds1 registered version" in own.output
    promoted = server.cli("rev2", "promote", "story_cli", version)
    assert promoted.exit_code == 0, promoted.output
    shown = server.cli("rev2", "status", "story_cli", "--audit")
    assert "champion: version 1 (verified against the audit trail)" in shown.output
    assert "hash chain intact" in shown.output
    rows = [(r["username"], r["action"], r["decision"]) for r in server.audit("story_cli")]
    assert ("ds1", "register", "allowed") in rows
    assert ("ds1", "set_version_tag", "refused") in rows
    assert ("rev1", "review", "allowed") in rows
    assert ("ds1", "promote", "refused") in rows
    assert rows[-1] == ("rev2", "promote", "allowed")
    assert chain_problems(server.audit()) == []


def test_the_server_records_the_author_and_the_reviewer_whatever_the_client_says(team_server):
    server = team_server
    client = server.client("ds2")
    forged = {**server.base_tags, "lineage.author": "rev1"}
    client.create_registered_model("authorship")
    version = client.create_model_version(
        "authorship", f"models:/{server.model_id}", tags=forged, model_id=server.model_id
    ).version
    assert client.get_model_version("authorship", version).tags["lineage.author"] == "ds2"
    assert "client sent 'rev1'" in last_row(server, "authorship")["reason"]
    server.client("rev1").set_model_version_tag("authorship", version, "approval.status", "approved")
    tags = server.client("rev1").get_model_version("authorship", version).tags
    assert tags["approval.reviewer"] == "rev1" and tags["approval.time"] and tags["approval.evidence"]


@pytest.mark.parametrize(
    "user, key, value, reason",
    [
        ("ds1", "approval.status", "approved", "may not review"),
        ("rev1", "approval.reviewer", "rev2", "must be the authenticated reviewer"),
        ("rev1", "approval.time", "2020-01-01", "written by the server"),
        ("rev1", "validation.fairness", "passed", "evidence written at registration"),
        ("ds1", "lineage.author", "rev1", "evidence written at registration"),
        ("rev1", "exception.fairness.status", "accepted", "risk grants them"),
    ],
)
def test_a_forged_reserved_tag_over_rest_is_refused_and_recorded(team_server, forged_target, user, key, value, reason):
    server = team_server
    model, version = forged_target  # one validated version for every forgery: a refused one changes nothing
    before = server.client("ds1").get_model_version(model, version).tags.get(key)
    response = server.rest(
        user,
        "POST",
        "/api/2.0/mlflow/model-versions/set-tag",
        json={"name": model, "version": version, "key": key, "value": value},
    )
    assert response.status_code == 403 and reason in response.json()["message"]
    assert server.client("ds1").get_model_version(model, version).tags.get(key) == before
    row = last_row(server, model)
    assert (row["username"], row["target"], row["decision"]) == (user, key, "refused") and reason in row["reason"]


def approved(server, model, versions):
    for version in versions:
        response = server.rest(
            "rev1",
            "POST",
            "/api/2.0/mlflow/model-versions/set-tag",
            json={"name": model, "version": version, "key": "approval.status", "value": "approved"},
        )
        assert response.status_code == 200, response.text


def test_two_reviewers_promoting_at_once_are_served_one_after_the_other(team_server):
    server = team_server
    v1, v2 = server.register("race", versions=2)
    approved(server, "race", [v1, v2])
    answers = {}

    def promote(user, version):
        answers[user] = server.rest(
            user, "POST", "/api/2.0/creditflow/promote", json={"name": "race", "version": version}
        )

    threads = [threading.Thread(target=promote, args=a) for a in (("rev1", v1), ("rev2", v2))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert {a.status_code for a in answers.values()} == {200}
    moves = [r for r in server.audit("race") if r["action"] == "promote" and r["decision"] == "allowed"]
    assert len(moves) == 2
    first, second = (json.loads(m["detail"]) for m in moves)
    assert second["from_version"] == first["to_version"] and first["from_version"] == ""
    aliases = server.client("rev1").get_registered_model("race").aliases
    assert aliases == {"champion": second["to_version"], "previous": first["to_version"]}


def test_rollback_and_the_rules_on_it(team_server):
    server = team_server
    v1, v2 = server.register("rollback", versions=2)
    approved(server, "rollback", [v1, v2])
    for version in (v1, v2):
        assert server.cli("rev2", "promote", "rollback", version).exit_code == 0
    refused = server.cli("ds1", "rollback", "rollback", "--reason", "drift")
    assert refused.exit_code == 1 and "may not move champion" in refused.output
    long = {"name": "rollback", "reason": "r" * 10_000}  # issue 28: the reason reaches the audit table whole or not
    too_long = server.rest("rev1", "POST", "/api/2.0/creditflow/rollback", json=long)
    assert too_long.status_code == 400 and "the reason is 10,000 characters long" in too_long.text
    done = server.cli("rev1", "rollback", "rollback", "--reason", "approval rates drifted")
    assert done.exit_code == 0, done.output
    assert server.client("rev1").get_registered_model("rollback").aliases == {"champion": v1}
    row = server.audit("rollback")[-1]
    assert (row["action"], row["decision"], row["reason"]) == ("rollback", "allowed", "approval rates drifted")


@pytest.mark.parametrize(
    "method, path, body, reason",
    [
        ("POST", "/api/2.0/mlflow/registered-models/rename", {"new_name": "renamed"}, "rename model is refused"),
        ("DELETE", "/api/2.0/mlflow/registered-models/delete", {}, "delete model is refused"),
        ("DELETE", "/api/2.0/mlflow/model-versions/delete", {"version": "1"}, "delete version is refused"),
        (
            "POST",
            "/api/2.0/mlflow/registered-models/alias",
            {"alias": "previous", "version": "1"},
            "moved by the server",
        ),
        ("DELETE", "/api/2.0/mlflow/registered-models/alias", {"alias": "champion"}, "use creditflow rollback"),
        ("POST", "/api/2.0/mlflow/registered-models/alias", {"alias": "Champion", "version": "1"}, "move champion"),
        ("POST", "/api/2.0/mlflow/model-versions/transition-stage", {"version": "1", "stage": "Production"}, "stages"),
        (
            "POST",
            "/api/2.0/mlflow/registered-models/set-tag",
            {"key": "approval.status", "value": "x"},
            "versions only",
        ),
    ],
)
def test_governed_models_keep_their_names_versions_and_aliases(team_server, governed_model, method, path, body, reason):
    server = team_server
    response = server.rest("ds1", method, path, json={"name": "governed", **body})
    assert response.status_code == 403 and reason in response.json()["message"]
    assert server.audit("governed")[-1]["decision"] == "refused"


def test_mlflows_promote_model_button_is_not_a_promotion(team_server):
    server = team_server
    (version,) = server.register("copied")
    response = server.rest(
        "ds1",
        "POST",
        "/api/2.0/mlflow/model-versions/create",
        json={"name": "german_credit", "source": f"models:/copied/{version}", "tags": []},
    )
    assert response.status_code == 403 and "creditflow promote" in response.json()["message"]


def test_exceptions_are_granted_by_risk_and_recorded_by_the_server(team_server):
    server = team_server
    (version,) = server.register("excepted")
    body = {"name": "excepted", "version": version, "key": "exception.fairness.status", "value": "accepted"}
    assert server.rest("ds1", "POST", "/api/2.0/mlflow/model-versions/set-tag", json=body).status_code == 403
    assert server.rest("risk1", "POST", "/api/2.0/mlflow/model-versions/set-tag", json=body).status_code == 200
    tags = server.client("risk1").get_model_version("excepted", version).tags
    assert tags["exception.fairness.granted_by"] == "risk1" and tags["exception.fairness.evidence"]
    assert server.audit("excepted")[-1]["action"] == "exception"


def test_the_governed_policy_is_stored_on_the_server_and_only_risk_changes_it(team_server):
    server = team_server
    document = {"name": "consumer-credit", "version": "2", "limits": {"fairness": {"min_air": 0.85}}}
    refused = server.rest(
        "rev1", "PUT", "/api/2.0/creditflow/policy", json={"name": "consumer-credit", "document": document}
    )
    assert refused.status_code == 403 and "risk owns it" in refused.json()["message"]
    stored = server.rest(
        "risk1", "PUT", "/api/2.0/creditflow/policy", json={"name": "consumer-credit", "document": document}
    )
    assert stored.status_code == 200
    found = server.rest("ds1", "GET", "/api/2.0/creditflow/policy", params={"name": "consumer-credit"}).json()
    assert found["document"] == document and found["username"] == "risk1" and found["digest"] == stored.json()["digest"]
    rows = [(r["username"], r["action"], r["decision"]) for r in server.audit() if r["target"] == "consumer-credit"]
    assert rows[-2:] == [("rev1", "policy", "refused"), ("risk1", "policy", "allowed")]


def test_only_admins_change_grants(team_server):
    """ds1 created experiment german_credit, so MLflow gave them MANAGE on it, which lets them grant."""
    server = team_server
    experiment = server.client("ds1").get_experiment_by_name("german_credit").experiment_id
    grant = {"username": "rev1", "resource_type": "experiment", "resource_id": experiment, "permission": "MANAGE"}
    response = server.rest("ds1", "POST", "/api/3.0/mlflow/users/permissions/grant", json=grant)
    assert response.status_code == 403 and "admins manage users and grants" in response.json()["message"]
    assert server.audit()[-1]["username"] == "ds1" and server.audit()[-1]["decision"] == "refused"


def test_a_registered_version_carries_its_model_hash_which_nobody_changes_later(team_server):
    """`lineage.model_sha256` is written once, by the validator, from the files the server froze at registration;
    the server refuses every later change of lineage.*, so the hash a promotion checks the files against holds."""
    server = team_server
    registered = server.client("ds1").get_model_version("german_credit", "1").tags
    assert len(registered["lineage.model_sha256"]) == 64
    body = {"name": "german_credit", "version": "1", "key": "lineage.model_sha256", "value": "0" * 64}
    response = server.rest("ds1", "POST", "/api/2.0/mlflow/model-versions/set-tag", json=body)
    assert response.status_code == 403 and "evidence written at registration" in response.json()["message"]
    again = server.rest("val1", "POST", "/api/2.0/mlflow/model-versions/set-tag", json=body)
    assert again.status_code == 403, again.text  # once: not even the validator rewrites it


def test_a_policy_the_policy_loader_refuses_is_not_stored(team_server):
    server = team_server
    document = {"name": "broken", "version": "1", "limits": {"fairness": {"min_airr": 0.8}}}
    response = server.rest("risk1", "PUT", "/api/2.0/creditflow/policy", json={"name": "broken", "document": document})
    assert response.status_code == 403 and "not a valid policy" in response.json()["message"]
    assert "min_airr" in response.json()["message"]
    missing = server.rest("ds1", "GET", "/api/2.0/creditflow/policy", params={"name": "broken"})
    assert missing.status_code == 404


def test_a_run_is_judged_under_the_policy_the_server_stores(team_server, tmp_path):
    """One policy-resolution path: the spec names policy `relaxed-30d`; the version stored on the server governs,
    not the author's file of that name in the policy folder beside the spec (the team store's policy source)."""
    server = team_server
    document = yaml.safe_load((server.folder / "policies" / "relaxed.yaml").read_text())
    document.update(name="relaxed-30d", version="7", exceptions={"max_days": 30})
    body = {"name": "relaxed-30d", "document": document}
    stored = server.rest("risk1", "PUT", "/api/2.0/creditflow/policy", json=body)
    assert stored.status_code == 200, stored.text
    (tmp_path / "policies").mkdir()
    loose = {**document, "limits": {**document["limits"], "fairness": {"min_air": 0.01}}, "exceptions": {}}
    (tmp_path / "policies" / "relaxed-30d.yaml").write_text(yaml.safe_dump(loose))  # the author's own
    spec = tmp_path / "judged.yaml"
    text = (server.folder / "german_credit.yaml").read_text().replace("name: german_credit", "name: judged")
    spec.write_text(text.replace("  name: relaxed\n", "  name: relaxed-30d\n"))
    result = server.cli("ds1", "run", spec)
    assert result.exit_code == 0, result.output
    assert server.client("ds1").get_model_version("judged", "1").tags["author.policy"] == "relaxed-30d v7"
    tags = server.validated("judged", "1")
    assert tags["validation.policy"] == "relaxed-30d v7"
    assert tags["validation.policy_digest"] == stored.json()["digest"]
    # ... and the server judges exceptions under the stored policy's terms (30 days at most)
    late = (dt.date.today() + dt.timedelta(days=60)).isoformat()
    body = {"name": "judged", "version": "1", "key": "exception.stability.expires", "value": late}
    refused = server.rest("risk1", "POST", "/api/2.0/mlflow/model-versions/set-tag", json=body)
    assert refused.status_code == 403 and "beyond the policy's maximum of 30 days" in refused.json()["message"]


def test_an_exception_granted_through_the_cli_lets_an_approved_version_be_promoted(team_server):
    server = team_server
    document = yaml.safe_load((server.folder / "policies" / "relaxed.yaml").read_text())
    document.update(name="unstable")
    document["limits"]["stability"] = {"warn": 0.000001, "alert": 0.000002}  # German Credit's split fails it
    stored = server.rest("risk1", "PUT", "/api/2.0/creditflow/policy", json={"name": "unstable", "document": document})
    assert stored.status_code == 200, stored.text
    base = server.base_tags
    try:
        label = f"unstable v{document['version']}"
        server.base_tags = {**base, "author.policy": label, "author.policy_digest": stored.json()["digest"]}
        (version,) = server.register("excused")
    finally:
        server.base_tags = base
    assert server.client("rev1").get_model_version("excused", version).tags["validation.stability"] == "failed"
    expires = (dt.date.today() + dt.timedelta(days=20)).isoformat()
    grant = ["review", "excused", version, "--exception", "stability", "--justification", "seasonal book"]
    own = server.cli("ds1", *grant, "--expires", expires)
    assert own.exit_code == 2 and "the version's author" in own.output
    granted = server.cli("risk1", *grant, "--expires", expires)
    assert granted.exit_code == 0, granted.output
    tags = server.client("rev1").get_model_version("excused", version).tags
    assert tags["exception.stability.granted_by"] == "risk1" and tags["exception.stability.expires"] == expires
    assert server.cli("rev1", "review", "excused", version, "--approve", "--comment", "exception read").exit_code == 0
    promoted = server.cli("rev2", "promote", "excused", version)
    assert promoted.exit_code == 0, promoted.output
    shown = server.cli("rev2", "status", "excused")
    assert "champion: version 1 (verified against the audit trail)" in shown.output, shown.output
    assert "validation.stability: granted by risk1" in shown.output
