"""End to end through `creditflow monitor` on generated books: one consumer-loan model trained per module."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import mlflow
import pandas as pd
import pytest
from click.testing import CliRunner

from features.synthetic import BookOptions, generate_book, scenario_options
from pipelines.cli import cli
from tests.conftest import REPO, use_store, write_spec

CONSUMER_SPEC = REPO / "experiments" / "consumer_loans.yaml"
# The module's `trained` store comes from `creditflow run`.
pytestmark = pytest.mark.slow

MODEL = "consumer_loans"
LAST = "2025-12"  # the generated books cover 2024-01 .. 2025-12


def invoke(*args):
    return CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)


@pytest.fixture(scope="module")
def trained(tmp_path_factory, store_template) -> Path:
    """A store holding consumer_loans version 1, trained on 8,000 generated applicants (seed 3)."""
    folder = tmp_path_factory.mktemp("trained")
    shutil.copy(store_template, folder / "mlflow.db")
    generate_book(BookOptions(rows=8000, seed=3)).to_parquet(folder / "train.parquet")
    spec = write_spec(
        folder,
        CONSUMER_SPEC,
        **{"data.synthetic": None, "data.source": str(folder / "train.parquet"), "policy.fairness.n_boot": 20},
    )
    result = invoke("run", spec, "--tracking-uri", f"sqlite:///{folder / 'mlflow.db'}")
    assert result.exit_code == 0, result.output
    mlflow.set_tracking_uri(None)
    return folder


@pytest.fixture
def store(trained, tmp_path, monkeypatch) -> str:
    yield use_store(trained / "mlflow.db", tmp_path, monkeypatch)
    mlflow.set_tracking_uri(None)


def book(path: Path, scenario: str | None = None, labelled: bool = False, seed: int = 11, rows: int = 24_000) -> Path:
    frame = generate_book(BookOptions(rows=rows, seed=seed, **(scenario_options(scenario) if scenario else {})))
    if not labelled:
        frame = frame.drop(columns="default_12m")
    frame.to_parquet(path)
    return path


def window_runs(uri: str, **tags) -> list:
    client = mlflow.MlflowClient(uri)
    experiment = client.get_experiment_by_name(f"{MODEL}-monitoring")
    if experiment is None:
        return []
    condition = " and ".join(f"tags.`monitoring.{k}` = '{v}'" for k, v in {"role": "window", **tags}.items())
    return client.search_runs([experiment.experiment_id], condition)


@pytest.mark.parametrize(
    "scenario, column",
    [("income_shock", "income"), ("utilisation_rise", "revolving_utilisation"), ("mix_shift", "channel")],
)
def test_each_drift_scenario_alerts_on_its_column(store, tmp_path, scenario, column):
    result = invoke("monitor", f"{MODEL}/1", "--current", book(tmp_path / "book.parquet", scenario), "--window", LAST)
    assert result.exit_code == 1, result.output
    assert f"alert: PSI of {column} " in result.output
    run = window_runs(store, window=LAST)[0]
    assert run.data.tags["monitoring.status"] == "alert"
    assert run.data.metrics[f"drift.{column}"] >= 0.25
    drift = pd.read_csv(
        mlflow.artifacts.download_artifacts(run_id=run.info.run_id, artifact_path="monitoring/drift.csv")
    )
    alerted = set(drift.loc[drift["status"] == "alert", "column"])
    assert column in alerted and alerted <= {column, "debt_to_income", "probability_of_default"}
    version = mlflow.MlflowClient(store).get_model_version(MODEL, "1")
    assert version.tags["monitoring.status"] == "alert" and version.tags["monitoring.last_window"] == LAST


def test_fresh_data_from_the_same_distribution_stays_ok(store, tmp_path):
    result = invoke("monitor", f"{MODEL}/1", "--current", book(tmp_path / "book.parquet"), "--window", LAST)
    assert result.exit_code == 0, result.output
    assert f"window {LAST}: OK" in result.output
    run = window_runs(store, window=LAST)[0]
    assert run.data.metrics["score_psi"] < 0.10 and run.data.metrics["drift_share"] == 0
    assert "outcome.auc" not in run.data.metrics  # no labels yet
    html = Path(
        mlflow.artifacts.download_artifacts(run_id=run.info.run_id, artifact_path="monitoring/drift_report.html")
    )
    text = html.read_text()
    assert "credit_psi" in text or "PSI (credit" in text
    assert not re.search(r"<script[^>]+src=[\"']https?:", text) and not re.search(r"<link[^>]+href=[\"']https?:", text)


def test_backfill_leaves_one_run_per_month_and_a_history_trend(store, tmp_path):
    data = book(tmp_path / "book.parquet", "utilisation_rise", rows=12_000)
    frame = pd.read_parquet(data)
    frame[frame["application_month"] >= "2025-01"].to_parquet(data)  # twelve months
    result = invoke("monitor", MODEL + "/1", "--backfill", data, "--by", "month")
    assert result.exit_code == 1, result.output  # the late months alert on utilisation
    runs = window_runs(store)
    assert sorted(r.data.tags["monitoring.window"] for r in runs) == [f"2025-{m:02d}" for m in range(1, 13)]
    client = mlflow.MlflowClient(store)
    experiment = client.get_experiment_by_name(f"{MODEL}-monitoring").experiment_id
    [history] = client.search_runs([experiment], "tags.`monitoring.role` = 'history'")
    trend = client.get_metric_history(history.info.run_id, "drift.revolving_utilisation")
    assert [m.step for m in trend] == list(range(12, 24))  # months since the reference's first month (2024-01)
    values = [m.value for m in sorted(trend, key=lambda m: m.step)]
    assert values[-1] > 0.25 and values[0] < values[-1] == max(values)  # the ramp rises month by month
    assert client.get_model_version(MODEL, "1").tags["monitoring.last_window"] == "2025-12"
    again = invoke("monitor", MODEL + "/1", "--current", data, "--window", "2025-03", "--force")
    assert again.exit_code in (0, 1), again.output
    assert len(window_runs(store)) == 12  # replaced, not added
    [history] = client.search_runs([experiment], "tags.`monitoring.role` = 'history'")
    assert len(client.get_metric_history(history.info.run_id, "score_psi")) == 12
    assert client.get_model_version(MODEL, "1").tags["monitoring.last_window"] == "2025-12"  # an older window


def test_rerunning_a_window_skips_it_and_force_replaces_it(store, tmp_path):
    data = book(tmp_path / "book.parquet")
    assert invoke("monitor", f"{MODEL}/1", "--current", data, "--window", LAST).exit_code == 0
    first = window_runs(store, window=LAST)
    again = invoke("monitor", f"{MODEL}/1", "--current", data, "--window", LAST)
    assert again.exit_code == 0 and "already monitored" in again.output
    assert [r.info.run_id for r in window_runs(store, window=LAST)] == [first[0].info.run_id]
    forced = invoke("monitor", f"{MODEL}/1", "--current", data, "--window", LAST, "--force")
    assert forced.exit_code == 0, forced.output
    replaced = window_runs(store, window=LAST)
    assert len(replaced) == 1 and replaced[0].info.run_id != first[0].info.run_id


def test_labelled_data_adds_outcome_and_fairness_metrics(store, tmp_path):
    data = book(tmp_path / "book.parquet", labelled=True)
    result = invoke("monitor", f"{MODEL}/1", "--current", data, "--window", LAST)
    assert result.exit_code in (0, 1), result.output
    run = window_runs(store, window=LAST)[0]
    metrics = run.data.metrics
    assert 0.6 < metrics["outcome.auc"] < 0.9 and "outcome.ks" in metrics and "outcome.auc_drop" in metrics
    assert "fairness.gender.air" in metrics
    artifacts = {a.path for a in mlflow.MlflowClient(store).list_artifacts(run.info.run_id, "monitoring")}
    assert {"monitoring/outcome_bands.csv", "monitoring/fairness.json", "monitoring/summary.json"} <= artifacts


def test_reference_stored_at_registration_has_no_pii_or_ids(store):
    client = mlflow.MlflowClient(store)
    run_id = client.get_model_version(MODEL, "1").run_id
    reference = pd.read_parquet(
        mlflow.artifacts.download_artifacts(run_id=run_id, artifact_path="monitoring/reference.parquet")
    )
    assert not {"name", "phone", "national_id", "applicant_id"} & set(reference.columns)
    assert {"income", "channel", "default_12m", "application_month", "gender", "age"} <= set(reference.columns)
    expected = json.loads(
        Path(mlflow.artifacts.download_artifacts(run_id=run_id, artifact_path="monitoring/expected.json")).read_text()
    )
    assert expected["holdout"] == "oot" and 0.6 < expected["auc"] < 0.9


def _no_window_runs(uri):
    return window_runs(uri) == []


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda f: f.drop(columns="income"), "missing model column(s): income"),
        (lambda f: f.assign(income="high"), "column 'income' must be numeric"),
        (lambda f: f.iloc[:0], "no rows"),
    ],
)
def test_bad_current_data_exits_2_and_logs_nothing(store, tmp_path, change, message):
    path = tmp_path / "bad.parquet"
    change(generate_book(BookOptions(rows=2000, seed=5))).to_parquet(path)
    result = CliRunner().invoke(cli, ["monitor", f"{MODEL}/1", "--current", str(path), "--window", LAST])
    assert result.exit_code == 2 and message in result.output and "Traceback" not in result.output
    assert _no_window_runs(store)


def test_backfill_without_time_column_no_champion_and_no_reference_exit_2(store, tmp_path):
    path = tmp_path / "untimed.parquet"
    generate_book(BookOptions(rows=2000, seed=5)).drop(columns="application_month").to_parquet(path)
    result = CliRunner().invoke(cli, ["monitor", f"{MODEL}/1", "--backfill", str(path)])
    assert result.exit_code == 2 and "no time column 'application_month'" in result.output
    result = CliRunner().invoke(cli, ["monitor", MODEL, "--current", str(path)])
    assert result.exit_code == 2 and "has no champion" in result.output
    result = CliRunner().invoke(cli, ["monitor", f"{MODEL}/1", "--current", str(path), "--window", "2031-01"])
    assert result.exit_code == 0, result.output  # no time column in the data: the whole file is the window
    assert _no_window_runs(store) is False


def test_window_outside_the_data_exits_2(store, tmp_path):
    result = CliRunner().invoke(
        cli, ["monitor", f"{MODEL}/1", "--current", str(book(tmp_path / "b.parquet", rows=3000)), "--window", "2031-01"]
    )
    assert result.exit_code == 2 and "no rows in window 2031-01" in result.output
    assert _no_window_runs(store)


def test_a_version_without_stored_reference_needs_reference_option(store, tmp_path):
    client = mlflow.MlflowClient(store)
    first = client.get_model_version(MODEL, "1")
    bare_run = client.create_run(client.get_run(first.run_id).info.experiment_id)  # a run without artifacts
    spec_folder = mlflow.artifacts.download_artifacts(
        run_id=first.run_id, artifact_path="spec", dst_path=str(tmp_path / "d")
    )
    client.log_artifacts(bare_run.info.run_id, spec_folder, "spec")  # the spec, but no monitoring reference
    client.set_terminated(bare_run.info.run_id)
    client.create_model_version(MODEL, first.source, run_id=bare_run.info.run_id)
    data = book(tmp_path / "book.parquet", rows=3000)
    result = CliRunner().invoke(cli, ["monitor", f"{MODEL}/2", "--current", str(data), "--window", LAST])
    assert result.exit_code == 2 and "has no stored monitoring reference" in result.output
    assert _no_window_runs(store)
    reference = generate_book(BookOptions(rows=3000, seed=9))
    reference[reference["application_month"] < "2025-07"].to_parquet(tmp_path / "reference.parquet")
    result = invoke(
        "monitor", f"{MODEL}/2", "--current", data, "--window", LAST, "--reference", tmp_path / "reference.parquet"
    )
    assert result.exit_code in (0, 1), result.output
    assert "outcome.auc" not in window_runs(store, version="2")[0].data.metrics


def test_a_window_label_with_quotes_is_refused(store, tmp_path):
    result = CliRunner().invoke(
        cli,
        ["monitor", f"{MODEL}/1", "--current", str(book(tmp_path / "b.parquet", rows=3000)), "--window", "x' or '1"],
    )
    assert result.exit_code == 2 and "--window" in result.output


@pytest.mark.slow
def test_monitor_on_spark_logs_the_same_window_as_in_process(store, tmp_path, spark):
    window = book(tmp_path / "window.parquet", scenario="income_shock", rows=6000)
    local = invoke("monitor", MODEL + "/1", "--current", window, "--window", LAST, "--tracking-uri", store)
    assert local.exit_code in (0, 1), local.output
    expected = window_runs(store, window=LAST)[0].data.metrics
    on_spark = invoke(
        "monitor", MODEL + "/1", "--current", window, "--window", LAST, "--engine", "spark", "--force",
        "--tracking-uri", store,
    )  # fmt: skip
    assert on_spark.exit_code == local.exit_code, on_spark.output
    runs = window_runs(store, window=LAST)
    assert len(runs) == 1  # the Spark run replaced the in-process one
    metrics = runs[0].data.metrics
    for name in [m for m in expected if m.startswith(("drift.", "missing_share.", "score_psi", "max_psi", "rows"))]:
        assert metrics[name] == pytest.approx(expected[name], abs=1e-12), name
    assert metrics["status_level"] == expected["status_level"]
