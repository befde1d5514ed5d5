"""Issue 24.3 and 24.7 against a real team server: look-alike governed names (`Approval.status`, ` approval.status`,
a full-width `ｃhampion`) set through MLflow's REST API by a data scientist or a reviewer are refused with the
governed name in the message and an audit row, and leave the version's tags and aliases as they were; the version's
description opens with its review page as an http link the browser opens."""

from __future__ import annotations

import re

import pytest

from pipelines.reports.review_page import PAGE_PATH

pytestmark = pytest.mark.slow
TAG, ALIAS = "/api/2.0/mlflow/model-versions/set-tag", "/api/2.0/mlflow/registered-models/alias"


@pytest.mark.parametrize("user", ["ds1", "rev1"])
@pytest.mark.parametrize(
    "path, field, value, governed",
    [
        (TAG, "key", "Approval.status", "approval.status"),
        (TAG, "key", " approval.status", "approval.status"),
        (ALIAS, "alias", "\uff43hampion", "champion"),  # full-width c
    ],
)
def test_a_look_alike_governed_name_is_refused_audited_and_changes_nothing(
    team_server, user, path, field, value, governed
):
    server = team_server
    model = f"lookalike_{user}"
    found = server.client("rev2").search_registered_models(f"name = '{model}'")
    version = str(found[0].latest_versions[0].version) if found else server.register(model)[0]
    before = server.client("rev2").get_model_version(model, version)
    body = {"name": model, "version": version, field: value, "value": "approved"}
    answer = server.rest(user, "POST", path, json=body)
    assert 400 <= answer.status_code < 500, (answer.status_code, answer.text)
    assert governed in answer.json()["message"], answer.text
    row = server.audit(model)[-1]
    assert (row["username"], row["decision"], row["target"]) == (user, "refused", value)
    after = server.client("rev2").get_model_version(model, version)
    assert after.tags == before.tags and after.aliases == before.aliases
    assert after.tags["approval.status"] == "pending"


def test_the_description_opens_with_the_review_page_as_an_http_link(team_server):
    server = team_server
    version = server.client("rev1").get_model_version("german_credit", "1")
    first = version.description.strip().splitlines()[0]
    links = re.findall(r"\]\(([^)]+)\)", first)
    assert links and links[0].startswith(f"{server.uri}/#/experiments/"), first
    assert "review page" in first.lower() and links[0].endswith(f"/artifactPath/{PAGE_PATH}"), first
    page = links[0].split("/artifactPath/", 1)[1]
    run_id = links[0].split("/runs/", 1)[1].split("/", 1)[0]
    served = server.rest("rev1", "GET", "/get-artifact", params={"run_uuid": run_id, "path": page})
    assert served.status_code == 200 and b"Review page" in served.content
