"""End to end through the CLI: a generated book with repayment facts recorded after the decision
(`generate --post-decision`) among the features fails `validation.performance`, naming each by its name and reason
text, although neither ranks defaults past the single-feature limit."""

from __future__ import annotations

import mlflow
import pytest
import yaml
from click.testing import CliRunner

from pipelines.cli import cli
from tests.conftest import CONSUMER_SPEC, write_spec
from tests.pipelines.conftest import AUTHOR


def invoke(*args):
    return CliRunner(env={"CREDITFLOW_USER": AUTHOR}).invoke(cli, [str(a) for a in args], catch_exceptions=False)


@pytest.mark.slow  # generates a book and runs the pipeline on it
def test_repayment_facts_fail_the_performance_gate_by_name(tmp_path, tracking_uri):
    book = tmp_path / "book.parquet"
    assert invoke("generate", "--rows", 6000, "--seed", 3, "--post-decision", book).exit_code == 0
    raw = yaml.safe_load(write_spec(tmp_path, CONSUMER_SPEC).read_text())
    raw["features"]["numeric"] += ["principal_paid", "late_fees_paid"]
    raw["reasons"].update({"principal_paid": "Principal paid", "late_fees_paid": "Late fees paid"})
    spec = write_spec(tmp_path, raw, **{"data.synthetic": None, "data.source": str(book), "policy.fairness.n_boot": 20})
    ran = invoke("run", spec, "--tracking-uri", tracking_uri)
    assert ran.exit_code == 0, ran.output
    verdict = next(line for line in ran.output.splitlines() if line.startswith("validation.performance:"))
    assert "'principal_paid' has a name describing the loan after the decision ('paid'" in verdict
    assert "'late_fees_paid' has a name describing the loan after the decision" in verdict
    version = mlflow.MlflowClient(tracking_uri).get_model_version("consumer_loans", "1")
    assert version.tags["validation.performance"] == "failed"
    assert mlflow.get_run(version.run_id).data.metrics["leakage.max_single_feature_auc"] < 0.85
