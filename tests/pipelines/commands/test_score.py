"""`creditflow score` through the CLI: verification of the champion, files in and out, bad input."""

import os
from pathlib import Path

import mlflow
import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from pipelines.cli import cli
from pipelines.scoring.scorer import OUTPUT_COLUMNS

# Every test copies the store `creditflow run` made (tests/pipelines/conftest.py).
pytestmark = pytest.mark.slow

MODEL = "german_credit"


def invoke(*args):
    return CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)


def promote_version_1():
    result = CliRunner().invoke(
        cli, ["review", MODEL, "1", "--approve", "--comment", "fine"], env={"CREDITFLOW_USER": "bob"}
    )
    assert result.exit_code == 0, result.output
    assert invoke("promote", MODEL, 1).exit_code == 0


@pytest.fixture
def applicants(governed):
    frame = pd.read_csv("german_ids.csv")
    return frame.drop(columns=["creditability"])


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_the_champion_scores_a_file_in_chunks_with_ids_decisions_and_reasons(governed, applicants, suffix):
    promote_version_1()
    source = f"applicants{suffix}"
    applicants.to_csv(source, index=False) if suffix == ".csv" else applicants.to_parquet(source, row_group_size=128)
    result = invoke("score", f"models:/{MODEL}@champion", source, f"scored{suffix}", "--chunk-rows", 300)
    assert result.exit_code == 0, result.output
    assert (
        "german_credit version 1 via alias champion (verified against the audit trail and its files)" in result.output
    )
    scored = pd.read_csv(f"scored{suffix}") if suffix == ".csv" else pd.read_parquet(f"scored{suffix}")
    assert list(scored.columns) == ["applicant_id", *OUTPUT_COLUMNS]
    assert scored["applicant_id"].tolist() == applicants["applicant_id"].tolist()
    assert scored["probability_of_default"].between(0, 1).all()
    declined = scored["decision"] == "decline"
    assert declined.any() and (~declined).any()
    assert scored.loc[declined, "reason_1"].notna().all()
    assert f"{int(declined.sum()):,} declined" in result.output

    # the same rows in one chunk give the same scores (chunking changes nothing)
    assert invoke("score", MODEL, source, "whole.csv", "--chunk-rows", 10_000).exit_code == 0
    whole = pd.read_csv("whole.csv")
    np.testing.assert_allclose(whole["probability_of_default"], scored["probability_of_default"])


def test_reasons_can_be_exact_or_skipped(governed, applicants):
    promote_version_1()
    applicants.head(50).to_csv("few.csv", index=False)
    assert invoke("score", MODEL, "few.csv", "none.csv", "--reasons", "none").exit_code == 0
    assert list(pd.read_csv("none.csv").columns) == ["applicant_id", "probability_of_default", "decision"]
    assert invoke("score", MODEL, "few.csv", "exact.csv", "--reasons", "exact").exit_code == 0
    assert pd.read_csv("exact.csv")["reason_1"].notna().any()


def test_score_gives_exact_reasons_by_default_and_none_to_approved_applicants(governed, applicants):
    from pipelines.scoring.reasons import contributions, top_reasons
    from pipelines.tracking import connect
    from pipelines.tracking.pyfunc_model import load_model_scorer

    applicants.head(300).to_csv("few.csv", index=False)
    result = invoke("score", f"models:/{MODEL}/1", "few.csv", "out.csv")
    assert result.exit_code == 0, result.output
    assert "reasons: exact, for declined applicants" in result.output
    scored = pd.read_csv("out.csv")
    declined = (scored["decision"] == "decline").to_numpy()
    assert declined.any() and (~declined).any()
    approved = (scored["decision"] == "approve").to_numpy()  # referred applicants get reasons too
    assert scored.loc[approved, [f"reason_{i}" for i in range(1, 5)]].isna().all().all()
    scorer, _ = load_model_scorer(connect(governed), f"models:/{MODEL}/1")
    features = scorer.transform.transform(applicants.head(300)[declined])
    exact = top_reasons(contributions(scorer.booster, features, exact=True), scorer.baseline, texts=scorer.texts)
    assert scored.loc[declined, "reason_1"].tolist() == exact["reason_1"].tolist()

    everyone = invoke("score", f"models:/{MODEL}/1", "few.csv", "all.csv", "--all-reasons")
    assert everyone.exit_code == 0 and pd.read_csv("all.csv")["reason_1"].notna().sum() > declined.sum()


def test_approximate_reasons_are_given_only_when_asked_with_their_measured_agreement(governed, applicants):
    applicants.head(300).to_csv("few.csv", index=False)
    result = invoke("score", f"models:/{MODEL}/1", "few.csv", "out.csv", "--reasons", "approx")
    assert result.exit_code == 0, result.output
    assert "approximate (Saabas) reasons: the same set as exact TreeSHAP for" in result.output
    assert "declined applicants checked" in result.output


def test_an_alias_set_around_creditflow_is_refused_unless_allowed(governed, applicants):
    promote_version_1()
    mlflow.MlflowClient(governed).set_registered_model_alias(MODEL, "champion", "2")
    applicants.head(20).to_csv("few.csv", index=False)
    refused = invoke("score", f"models:/{MODEL}@champion", "few.csv", "out.csv")
    assert refused.exit_code == 1
    assert "last recorded promote put it on version 1" in refused.output
    assert not Path("out.csv").exists()
    allowed = invoke("score", f"models:/{MODEL}@champion", "few.csv", "out.csv", "--allow-unverified")
    assert allowed.exit_code == 0 and "UNVERIFIED, scored with --allow-unverified" in allowed.output


def test_a_version_reference_is_scored_and_said_unverified(governed, applicants):
    applicants.head(20).to_csv("few.csv", index=False)
    result = invoke("score", f"models:/{MODEL}/2", "few.csv", "out.parquet")
    assert result.exit_code == 0, result.output
    assert "version 2 (unverified: only alias champion is governed)" in result.output
    run_id = mlflow.MlflowClient(governed).get_model_version(MODEL, "2").run_id
    result = invoke("score", f"runs:/{run_id}/model", "few.csv", "run.parquet")
    assert result.exit_code == 0 and "unverified" in result.output


def test_unseen_categories_and_missing_integers_are_scored_as_missing(governed, applicants):
    promote_version_1()
    few = applicants.head(30).copy()
    few.loc[:4, "purpose"] = "space travel"
    few["duration_in_month"] = few["duration_in_month"].astype(float)
    few.loc[0, "duration_in_month"] = np.nan  # an int column with a gap arrives as float
    few.to_csv("few.csv", index=False)
    result = invoke("score", MODEL, "few.csv", "out.csv")
    assert result.exit_code == 0, result.output
    assert "unseen categories scored as missing: purpose 5" in result.output
    assert pd.read_csv("out.csv")["probability_of_default"].notna().all()


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda f: f.drop(columns=["credit_amount"]), "missing column(s): credit_amount"),
        (lambda f: f.assign(credit_amount=["a lot"] * len(f)), "column 'credit_amount' must be numeric, got 'a lot'"),
        # XGBoost used to answer these with its native stack trace (float32 makes 1e300 infinite)
        *[
            (
                lambda f, v=value: f.assign(credit_amount=f["credit_amount"].astype(float).where(f.index != 3, v)),
                f"column 'credit_amount' must be a finite number within ±3.4e+38, got {value}",
            )
            for value in (np.inf, -np.inf, 1e300)
        ],
    ],
)
def test_input_breaking_the_contract_is_one_line_exit_2_and_no_output(governed, applicants, change, message):
    promote_version_1()
    change(applicants.head(30)).to_csv("bad.csv", index=False)
    result = invoke("score", MODEL, "bad.csv", "out.csv")
    assert result.exit_code == 2
    assert result.output.strip().splitlines()[-1] == f"error: input does not match the model: {message}"
    assert not Path("out.csv").exists()
    assert not list(Path(".").glob(".out.csv*"))


@pytest.mark.parametrize(
    "args, message",
    [
        (("models:/german_credit@challenger", "in.csv", "out.csv"), "has no alias 'challenger'"),
        (("models:/nothing@champion", "in.csv", "out.csv"), "unknown model 'nothing'"),
        (("models:/german_credit/1", "missing.csv", "out.csv"), "input file not found"),
        (("models:/german_credit/1", "in.csv", "out.json"), "unsupported format '.json'"),
        (("models:/german_credit/1", "empty.csv", "out.csv"), "input file is empty"),
        (("models:/german_credit/1", "header.csv", "out.csv"), "input has no rows: header.csv"),
    ],
)
def test_bad_references_and_files_are_exit_2(governed, applicants, args, message):
    applicants.head(5).to_csv("in.csv", index=False)
    applicants.head(0).to_csv("header.csv", index=False)
    open("empty.csv", "w").close()
    result = invoke("score", *args)
    assert result.exit_code == 2, result.output
    assert message in result.output and not Path("out.csv").exists()


def test_an_output_folder_that_cannot_be_written_is_one_line_exit_2(governed, applicants, tmp_path):
    """/proc refuses new files even to root; an ordinary read-only folder does the same to other users."""
    applicants.head(5).to_csv("in.csv", index=False)
    folder = Path("/proc") if os.geteuid() == 0 else tmp_path / "locked"
    if folder != Path("/proc"):
        folder.mkdir()
        folder.chmod(0o555)
    result = invoke("score", f"{MODEL}/1", "in.csv", folder / "out.csv")
    assert result.exit_code == 2, result.output
    assert result.output.strip().splitlines()[-1].startswith(f"error: cannot write {folder / 'out.csv'}: ")


def test_scoring_off_a_terminal_prints_no_progress_label(governed, applicants):
    applicants.to_csv("applicants.csv", index=False)
    result = invoke("score", f"{MODEL}/1", "applicants.csv", "scored.csv")
    assert result.exit_code == 0, result.output
    assert "scoring" not in result.output.splitlines()  # click's bar prints its label alone off a terminal
