"""End to end through `creditflow monitor` on generated books, watching the session's consumer-loan model."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from pathlib import Path

import mlflow
import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from features.synthetic import BookOptions, generate_book
from pipelines.cli import cli
from tests.conftest import REPO
from tests.monitoring.conftest import LAST, MODEL, book, invoke, window_runs

# The session's consumer-loan store comes from `creditflow run`.
pytestmark = pytest.mark.slow


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
        # booleans with a gap arrive as an object column, where pandas reads True as 1
        (lambda f: f.assign(income=pd.Series([True, None] * (len(f) // 2), dtype=object)), "got 'True'"),
    ],
)
def test_bad_current_data_exits_2_and_logs_nothing(store, tmp_path, change, message):
    path = tmp_path / "bad.parquet"
    change(generate_book(BookOptions(rows=2000, seed=5))).to_parquet(path)
    result = CliRunner().invoke(cli, ["monitor", f"{MODEL}/1", "--current", str(path), "--window", LAST])
    assert result.exit_code == 2 and message in result.output and "Traceback" not in result.output
    assert _no_window_runs(store)


def test_infinite_numbers_and_a_column_named_twice_in_a_window_are_warnings(store, tmp_path):
    frame = generate_book(BookOptions(rows=2000, seed=5))
    frame["income"] = frame["income"].astype(float).where(frame.index % 100 != 0, np.inf)
    frame.loc[1, "income"] = 1e300  # beyond float32: XGBoost would read it as infinite
    frame["income.copy"] = -1.0  # written as a second 'income' column: the first is used
    path = tmp_path / "window.csv"
    frame.to_csv(path, index=False, header=[c.removesuffix(".copy") for c in frame.columns])
    result = CliRunner().invoke(cli, ["monitor", f"{MODEL}/1", "--current", str(path), "--window", "all-rows"])
    assert result.exit_code in (0, 1) and "Traceback" not in result.output, result.output
    assert "warning: window all-rows: column 'income' has 21 infinite or too large value(s), e.g. 'inf': " in (
        result.output
    )
    assert f"warning: column 'income' appears 2 times in {path}: the first (column " in result.output
    (run,) = window_runs(store)
    assert run.data.metrics["missing_share.income"] == pytest.approx(21 / 2000)


def test_a_column_missing_in_every_row_of_a_window_is_judged_not_a_crash(store, tmp_path):
    """Evidently raises on a column without values; creditflow's own PSI counts the missing bin."""
    path = tmp_path / "empty.parquet"
    generate_book(BookOptions(rows=2000, seed=5)).assign(income=np.nan).to_parquet(path)
    result = CliRunner().invoke(cli, ["monitor", f"{MODEL}/1", "--current", str(path), "--window", LAST])
    assert result.exit_code == 1 and "alert: PSI of income" in result.output, result.output
    assert len(window_runs(store)) == 1


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


def test_a_version_without_stored_reference_needs_reference_option(store, tmp_path, monkeypatch):
    # its run stores no policy: the spec's policy comes by name from the project's policy folder
    monkeypatch.setenv("CREDITFLOW_POLICY_DIR", str(REPO / "experiments" / "policies"))
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


def test_a_version_past_an_exception_warns_on_every_window(store, tmp_path, monkeypatch):
    import datetime as dt

    import monitoring.command
    from pipelines.core.records import AuditRecord
    from pipelines.governance.local.audit_trail import record
    from pipelines.tracking import Tracker

    client = mlflow.MlflowClient(store)
    for field, value in {"status": "accepted", "granted_by": "dora", "expires": "2026-01-31"}.items():
        client.set_model_version_tag(MODEL, "1", f"exception.fairness.{field}", value)
    exception = AuditRecord("exception", MODEL, "1", "dora", "2025-11-02T00:00:00+00:00", "done", reason="x")
    record(Tracker(store), replace(exception, gate="fairness", expires="2026-01-31"))
    data = book(tmp_path / "book.parquet")
    monkeypatch.setattr(monitoring.command, "today", lambda: dt.date(2026, 1, 31))  # still valid that day
    assert "exception expired" not in invoke("monitor", f"{MODEL}/1", "--current", data, "--window", LAST).output
    monkeypatch.setattr(monitoring.command, "today", lambda: dt.date(2026, 2, 1))
    result = invoke("monitor", f"{MODEL}/1", "--current", data, "--window", LAST, "--force")
    assert result.exit_code == 0, result.output  # a warning, not an alert
    assert "WARN" in result.output and "warn: validation.fairness: exception expired on 2026-01-31" in result.output
    assert window_runs(store, window=LAST)[0].data.tags["monitoring.status"] == "warn"


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
