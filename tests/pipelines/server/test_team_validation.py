"""Team mode: only the validator writes a version's evidence, at registration as afterwards and under every policy;
the server's validation worker (the service user creditflow-validator) validates each new version, the author's
verdicts are kept beside as author.*, and the server's `validate` row is the evidence promotion checks."""

from __future__ import annotations

import pytest
import yaml

pytestmark = pytest.mark.slow

SET_TAG = "/api/2.0/mlflow/model-versions/set-tag"


def _strict_fairness_policy(server, name: str) -> str:
    """A governed policy (validation not required) whose fairness limit German Credit's model cannot meet."""
    document = yaml.safe_load((server.folder / "policies" / "relaxed.yaml").read_text())
    document["name"] = name
    document.pop("validation", None)
    document["limits"]["fairness"]["min_air"] = 0.99
    stored = server.rest("risk1", "PUT", "/api/2.0/creditflow/policy", json={"name": name, "document": document})
    assert stored.status_code == 200, stored.text
    return stored.json()["digest"]


def _register_rest(server, model: str, version_tags: dict[str, str]):
    """A registration as a data scientist sends it over REST (no creditflow client in between)."""
    server.rest("ds1", "POST", "/api/2.0/mlflow/registered-models/create", json={"name": model})
    body = {
        "name": model,
        "source": f"models:/{server.model_id}",
        "run_id": server.base_tags["lineage.run_id"],
        "model_id": server.model_id,
        "tags": [{"key": k, "value": v} for k, v in version_tags.items()],
    }
    return server.rest("ds1", "POST", "/api/2.0/mlflow/model-versions/create", json=body)


def test_the_forged_registration_is_refused_and_the_version_is_never_promotable(team_server):
    """Issue 22, critical: a data scientist registers over REST with a forged `validation.fairness=passed` (the
    model's real fairness gate fails under the lender's policy, which does NOT require validation)."""
    server = team_server
    digest = _strict_fairness_policy(server, "strictfair")
    claimed = {"author.policy": "strictfair v2", "author.policy_digest": digest, "author.fairness": "passed"}
    forged = _register_rest(
        server,
        "forged_fairness",
        {**server.base_tags, **claimed, "validation.fairness": "passed", "lineage.model_sha256": "0" * 64},
    )
    assert forged.status_code == 403, forged.text
    assert "validation.fairness is evidence the validator writes" in forged.json()["message"]
    assert "lineage.model_sha256 is evidence the validator writes" in forged.json()["message"]
    assert not server.client("ds1").search_model_versions("name = 'forged_fairness'")
    rows = [(r["username"], r["action"], r["decision"]) for r in server.audit("forged_fairness")]
    assert ("ds1", "create_version", "refused") in rows

    honest = _register_rest(server, "forged_fairness", {**server.base_tags, **claimed})
    assert honest.status_code == 200, honest.text
    version = honest.json()["model_version"]["version"]
    for key, value in (("validation.fairness", "passed"), ("lineage.model_sha256", "0" * 64)):
        later = server.rest(
            "ds1", "POST", SET_TAG, json={"name": "forged_fairness", "version": version, "key": key, "value": value}
        )
        assert later.status_code == 403 and "cannot be changed (but by the validator)" in later.json()["message"]
    described = server.rest(
        "ds1",
        "PATCH",
        "/api/2.0/mlflow/model-versions/update",
        json={"name": "forged_fairness", "version": version, "description": "all gates passed"},
    )
    assert described.status_code == 403 and "frozen from registration" in described.json()["message"]
    approve = {"name": "forged_fairness", "version": version, "key": "approval.status", "value": "approved"}
    assert server.rest("rev1", "POST", SET_TAG, json=approve).status_code == 200
    early = server.cli("rev2", "promote", "forged_fairness", version)
    assert early.exit_code == 1, early.output  # not validated yet, or validated and failing: refused either way

    tags = server.validated("forged_fairness", version)  # the server's worker, as creditflow-validator
    assert tags["validation.validator"] == "creditflow-validator"
    assert tags["validation.fairness"] != "passed" and tags["author.fairness"] == "passed"
    assert len(tags["lineage.model_sha256"]) == 64 and tags["validation.policy"].startswith("strictfair v")
    assert server.rest("rev1", "POST", SET_TAG, json=approve).status_code == 200
    again = server.cli("rev2", "promote", "forged_fairness", version)
    assert again.exit_code == 1 and "validation.fairness is" in again.output
    assert "champion" not in server.client("rev1").get_registered_model("forged_fairness").aliases
    page_run = tags["validation.review_run"]
    experiment = server.client("rev1").get_run(page_run).info.experiment_id
    page = f"/api/2.0/mlflow-artifacts/artifacts/{experiment}/{page_run}/artifacts/model_card/model_card.html"
    assert server.rest("ds1", "PUT", page, data=b"<h1>forged</h1>").status_code == 403
    shown = server.rest("rev1", "GET", page).text
    assert "validated by creditflow-validator" in shown and "Pending: no review decision yet" not in shown
    assert "approval.* and exception.* tags" in shown  # where the decisions made after the page are


def test_only_the_validator_recomputes_the_evidence_and_promotion_follows_it(team_server):
    server = team_server
    (version,) = server.register("validated")
    assert server.validated("validated", version)["validation.validator"] == "creditflow-validator"
    by_author = server.cli("ds1", "validate", "validated", version)
    assert by_author.exit_code == 1, by_author.output
    assert "cannot be changed (but by the validator)" in by_author.output
    validated = server.cli("val1", "validate", "validated", version)
    assert validated.exit_code == 0, validated.output
    tags = server.client("val1").get_model_version("validated", version).tags
    assert tags["validation.validator"] == "val1"
    assert tags["validation.performance"] == "passed" and tags["author.performance"] == "passed"
    rows = [(r["username"], r["action"], r["decision"]) for r in server.audit("validated")]
    assert ("ds1", "set_version_tag", "refused") in rows and ("val1", "validate", "allowed") in rows
    approve = {"name": "validated", "version": version, "key": "approval.status", "value": "approved"}
    assert server.rest("rev1", "POST", SET_TAG, json=approve).status_code == 200
    promoted = server.cli("rev2", "promote", "validated", version)
    assert promoted.exit_code == 0, promoted.output
    described = server.client("rev2").get_model_version("validated", version).description
    assert "**Validated** by" in described


def test_a_worker_stopped_mid_validation_leaves_nothing_half_written_and_validates_after_restart(team_server):
    """`server start` runs the worker in its process group: stopping the server mid-validation stops it; the
    version has no `validate` row (promotion refuses it) and is validated once the server is back."""
    import time

    from tests.pipelines.server.conftest import start, stop, wait_until_up

    server = team_server
    (version,) = server.register("restarted", wait=False)
    client = server.client("rev1")
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline:  # the worker has begun: its review page run exists (tags come after it)
        experiment = client.get_experiment_by_name("restarted-validation")
        if experiment is not None and client.search_runs([experiment.experiment_id]):
            break
        time.sleep(0.2)
    stop(server.process)
    rows = [r for r in server.audit("restarted") if r["action"] == "validate" and r["decision"] == "allowed"]
    tags = client.get_model_version  # the server is down: read what the registry holds after the restart
    with (server.folder / "server.log").open("a") as log:  # the server writes through its own copy of the handle
        server.process = start(server.folder, log)
    wait_until_up(server.uri, server.process, server.folder / "server.log")
    if not rows:  # stopped before the validation was recorded: nothing of it is trusted
        refused = server.cli("rev2", "promote", "restarted", version)
        assert refused.exit_code == 1
    validated = server.validated("restarted", version)
    assert validated["validation.validator"] == "creditflow-validator" and validated["validation.time"]
    assert tags("restarted", version).tags["lineage.model_sha256"] == validated["lineage.model_sha256"]
    approve = {"name": "restarted", "version": version, "key": "approval.status", "value": "approved"}
    assert server.rest("rev1", "POST", SET_TAG, json=approve).status_code == 200
    promoted = server.cli("rev2", "promote", "restarted", version)
    assert promoted.exit_code == 0, promoted.output
