"""`score --engine spark`: the registered model through mlflow's spark_udf gives the in-process engine's output."""

from __future__ import annotations

import pandas as pd
import pytest
from click.testing import CliRunner

from pipelines.cli import cli

pytestmark = pytest.mark.slow


def invoke(*args):
    return CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)


@pytest.mark.parametrize("reasons", ["approx", "none"])
def test_spark_scores_like_the_in_process_engine(governed, tmp_path, spark, reasons):
    source = tmp_path / "applicants.parquet"
    pd.read_csv(tmp_path / "german_ids.csv").to_parquet(source, index=False)
    local = invoke("score", "german_credit/1", source, tmp_path / "local.parquet", "--reasons", reasons)
    assert local.exit_code == 0, local.output
    on_spark = invoke("score", "german_credit/1", source, tmp_path / "spark", "--reasons", reasons, "--engine", "spark")
    assert on_spark.exit_code == 0, on_spark.output
    assert "scored 1,000 applications on Spark" in on_spark.output
    expected = pd.read_parquet(tmp_path / "local.parquet")
    got = pd.read_parquet(tmp_path / "spark").set_index("applicant_id").loc[expected["applicant_id"]].reset_index()
    assert list(got.columns) == list(expected.columns)
    pd.testing.assert_frame_equal(got, expected, check_dtype=False)


def test_spark_refuses_a_missing_column_and_an_existing_output(governed, tmp_path, spark):
    source = tmp_path / "short.parquet"
    pd.read_csv(tmp_path / "german_ids.csv").drop(columns="purpose").to_parquet(source, index=False)
    result = invoke("score", "german_credit/1", source, tmp_path / "out", "--engine", "spark")
    assert result.exit_code == 2 and "error: input does not match the model: missing column(s) purpose" in result.output
    (tmp_path / "taken").mkdir()
    result = invoke("score", "german_credit/1", source, tmp_path / "taken", "--engine", "spark")
    assert result.exit_code == 2 and "error: output already exists" in result.output
    result = invoke("score", "german_credit/1", tmp_path / "german_ids.csv", tmp_path / "out", "--engine", "spark")
    assert result.exit_code == 2 and "as Parquet with Spark" in result.output
