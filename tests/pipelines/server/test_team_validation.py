"""Team mode: only the validator rewrites a version's evidence; its recomputed verdicts replace what the author
registered, the author's are kept beside them, and the server's `validate` row is the evidence promotion checks."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.slow


def test_only_the_validator_recomputes_the_evidence_and_promotion_follows_it(team_server):
    server = team_server
    base = server.base_tags
    try:
        server.base_tags = {**base, "validation.performance": "failed"}  # what the author's process reported
        (version,) = server.register("validated")
    finally:
        server.base_tags = base
    by_author = server.cli("ds1", "validate", "validated", version)
    assert by_author.exit_code == 1, by_author.output
    assert "is evidence written at registration and cannot be changed (but by the validator)" in by_author.output
    validated = server.cli("val1", "validate", "validated", version)
    assert validated.exit_code == 0, validated.output
    tags = server.client("val1").get_model_version("validated", version).tags
    assert tags["validation.validator"] == "val1" and tags["validation.performance"] == "passed"
    assert tags["author.performance"] == "failed"
    rows = [(r["username"], r["action"], r["decision"]) for r in server.audit("validated")]
    assert ("ds1", "set_version_tag", "refused") in rows and ("val1", "validate", "allowed") in rows
    approve = {"name": "validated", "version": version, "key": "approval.status", "value": "approved"}
    assert server.rest("rev1", "POST", "/api/2.0/mlflow/model-versions/set-tag", json=approve).status_code == 200
    promoted = server.cli("rev2", "promote", "validated", version)
    assert promoted.exit_code == 0, promoted.output
    described = server.client("rev2").get_model_version("validated", version).description
    assert "**Validated** by val1" in described
