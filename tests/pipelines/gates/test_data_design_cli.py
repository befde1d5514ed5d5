"""End to end through the CLI: a generated book concatenated with itself, with an outcome-ordered file number among
the features and a random split of dated rows (the issue's three data-design findings), is registered with
`validation.data_design` failed for those reasons, and its promotion is refused naming the gate."""

from __future__ import annotations

import mlflow
import pytest
from click.testing import CliRunner

from pipelines.cli import cli
from tests.conftest import CONSUMER_SPEC, write_spec
from tests.pipelines.conftest import AUTHOR


def invoke(*args, user=AUTHOR):
    return CliRunner(env={"CREDITFLOW_USER": user}).invoke(cli, [str(a) for a in args], catch_exceptions=False)


@pytest.mark.slow  # generates a book and runs the pipeline on it
def test_a_careless_extract_is_registered_with_its_data_design_failed(tmp_path, tracking_uri):
    book = tmp_path / "book.csv"
    made = invoke("generate", "--rows", 6000, "--seed", 3, "--duplicate", 1.0, "--id-column", book)
    assert made.exit_code == 0, made.output and "wrote 12000 applicants" in made.output
    spec = yaml_spec(tmp_path, book)
    ran = invoke("run", spec, "--tracking-uri", tracking_uri)
    assert ran.exit_code == 0, ran.output
    verdict = next(line for line in ran.output.splitlines() if line.startswith("validation.data_design:"))
    assert verdict.startswith("validation.data_design: failed")
    assert "of holdout rows also appear among the training rows" in verdict
    assert "'file_number' looks like a row identifier (100.0% of its values are distinct)" in verdict
    assert "the split is random" in verdict and "the policy judges out of time" in verdict
    version = mlflow.MlflowClient(tracking_uri).get_model_version("consumer_loans", "1")
    assert version.tags["validation.data_design"] == "failed"
    run = mlflow.get_run(version.run_id)
    assert run.data.metrics["data_design.holdout_in_train_share"] > 0.5
    assert run.data.metrics["data_design.identifiers"] == 1.0
    refused = invoke("promote", "consumer_loans", "1", "--tracking-uri", tracking_uri, user="carol")
    assert refused.exit_code == 1 and "validation.data_design is 'failed'" in refused.output


@pytest.mark.slow  # runs the pipeline
def test_the_shipped_german_credit_spec_passes_the_data_design_gate(tmp_path, tracking_uri):
    ran = invoke("run", write_spec(tmp_path), "--tracking-uri", tracking_uri)
    assert ran.exit_code == 0, ran.output
    assert "validation.data_design: passed" in ran.output


def yaml_spec(folder, book):
    """The shipped consumer spec on the careless extract: no id (the copies repeat it), a random split, and the
    file number declared as a feature."""
    base = write_spec(folder, CONSUMER_SPEC)
    import yaml

    raw = yaml.safe_load(base.read_text())
    raw["features"]["numeric"].append("file_number")
    raw["reasons"]["file_number"] = "Your file number"
    changes = {
        "data.synthetic": None,
        "data.source": str(book),
        "data.id": None,
        "data.pii": ["name", "phone", "national_id"],
        "split.method": "random",
        "policy.fairness.n_boot": 20,
    }
    return write_spec(folder, raw, **changes)
