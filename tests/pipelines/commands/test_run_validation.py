"""Validation that cannot be fooled, end to end through `creditflow run`/`train`: a cutoff that declines nobody, a
leaky column, an outcome column mapped to a target."""

from pathlib import Path

import mlflow
import pandas as pd
import pytest
from click.testing import CliRunner

from features.spec import load_spec
from pipelines.cli import cli
from tests.conftest import GERMAN_SPEC, write_spec

CONSUMER_SPEC = GERMAN_SPEC.parent / "consumer_loans.yaml"
LEAK = "months_in_arrears_12m"


def invoke(*args):
    return CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)


@pytest.mark.slow
def test_a_cutoff_that_declines_nobody_fails_performance_and_is_not_assessable_for_fairness(tracking_uri, tmp_path):
    result = invoke("run", write_spec(tmp_path, **{"policy.cutoff": 0.99}))
    assert result.exit_code == 0, result.output
    assert "validation.performance: failed: test: the cutoff 0.99 declines nobody (minimum decline rate 2%)" in (
        result.output
    )
    assert "validation.fairness: failed: not assessable: the cutoff 0.99 declines nobody" in result.output
    tags = mlflow.MlflowClient(tracking_uri).get_model_version("german_credit", "1").tags
    assert tags["validation.performance"] == "failed" and tags["validation.fairness"] == "failed"


def leak_spec(folder: Path, **changes) -> Path:
    book = folder / "book.parquet"
    if not book.exists():  # generate never overwrites an existing file unasked
        assert invoke("generate", "--rows", 6000, "--seed", 3, "--leak", book).exit_code == 0
    spec = load_spec(CONSUMER_SPEC)
    return write_spec(
        folder,
        CONSUMER_SPEC,
        **{
            "data.synthetic": None,
            "data.source": str(book),
            "features.numeric": [*spec.features.numeric, LEAK],
            "reasons": {**spec.reasons, LEAK: "Months in arrears"},
            **changes,
        },
    )


@pytest.mark.slow
def test_a_leak_book_fails_the_gate_and_passes_once_the_column_is_reviewed(tracking_uri, tmp_path):
    refused = invoke("train", leak_spec(tmp_path))  # its reason text "Months in arrears" reads as after the decision
    assert refused.exit_code == 2 and "reasons.months_in_arrears_12m: the reason text 'Months in arrears'" in (
        refused.output
    )
    result = invoke("train", leak_spec(tmp_path, **{f"reasons.{LEAK}": "Months behind on payments"}))
    assert result.exit_code == 0, result.output
    verdict = next(line for line in result.output.splitlines() if line.startswith("validation.performance"))
    assert verdict.startswith("validation.performance: failed: leakage: 'months_in_arrears_12m'")
    assert "'months_in_arrears_12m' alone ranks defaults" in verdict  # and its name says it describes arrears
    assert "carries" in verdict  # the model leans on it too

    why = "arrears before the application, from the bureau (reviewed by risk, 2026-11)"
    result = invoke("run", leak_spec(tmp_path, **{"features.reviewed": {LEAK: why}}))
    assert result.exit_code == 0, result.output
    assert "validation.performance: passed" in result.output
    assert f"note: leakage (reviewed): '{LEAK}' alone ranks defaults" in result.output
    client = mlflow.MlflowClient(tracking_uri)
    version = client.get_model_version("consumer_loans", "1")
    assert version.tags["validation.performance"] == "passed"
    card = Path(mlflow.artifacts.download_artifacts(run_id=version.run_id, artifact_path="model_card/model_card.md"))
    assert why in card.read_text()


@pytest.mark.slow
def test_a_status_mapped_target_trains_and_counts_the_dropped_rows(tracking_uri, tmp_path, caplog):
    frame = pd.read_csv(GERMAN_SPEC.parent / "data" / "german_credit.csv")
    bad = frame.pop("creditability") == "bad"
    position = pd.Series(range(len(frame)))
    frame["loan_status"] = (
        bad.map({True: "Charged Off", False: "Fully Paid"})
        .where(~bad | (position % 2 == 0), "Default")
        .where(bad | (position % 5 != 0), "Current")  # outcome still open: dropped
    )
    frame.to_csv(tmp_path / "status.csv", index=False)
    target = {"column": "loan_status", "positive": ["Charged Off", "Default"], "negative": ["Fully Paid"]}
    spec = write_spec(tmp_path, **{"data.source": str(tmp_path / "status.csv"), "data.target": target})
    spec.write_text(spec.read_text().replace("  positive: bad\n", ""))
    caplog.set_level("INFO", logger="creditflow")
    result = invoke("train", spec)
    assert result.exit_code == 0, result.output
    current = int((frame["loan_status"] == "Current").sum())
    assert f"dropped {current} rows whose outcome is neither positive nor negative (Current {current})" in caplog.text
    run = mlflow.MlflowClient(tracking_uri).search_runs(
        [mlflow.MlflowClient(tracking_uri).get_experiment_by_name("german_credit").experiment_id]
    )[0]
    assert run.data.params["data.rows"] == str(len(frame) - current)
    assert 0.65 < run.data.metrics["test_auc"] < 0.9


BAD_SPECS = {
    "unknown reviewed feature": ({"features.reviewed": {"salary": "known"}}, "features.reviewed: unknown feature"),
    "leakage limit at 0.5": ({"policy.leakage.max_single_feature_auc": 0.5}, "policy.leakage.max_single_feature_auc"),
    "leakage limit above 1": ({"policy.leakage.max_contribution_share": 1.5}, "policy.leakage.max_contribution_share"),
    "reason text missing": ({"reasons.telephone": None}, "no applicant-facing text for 1 feature(s)"),
    "yaml boolean label": ({"data.positive": False}, "YAML read an unquoted no/false/off as the boolean False"),
}


def test_bad_validation_settings_exit_2_with_one_line_and_write_nothing(tracking_uri, tmp_path):
    for case, (changes, message) in BAD_SPECS.items():
        result = CliRunner().invoke(cli, ["run", str(write_spec(tmp_path, **changes))])
        assert result.exit_code == 2, (case, result.output)
        lines = [line for line in result.output.splitlines() if line.strip()]
        assert len(lines) == 1 and lines[0].startswith("error: ") and message in lines[0], (case, result.output)
    client = mlflow.MlflowClient(tracking_uri)
    assert client.search_registered_models() == [] and client.get_experiment_by_name("german_credit") is None
