"""After go-live, end to end through the CLI: `generate --vintages`, `monitor --outcomes` (vintage back-test,
estimate back-test), `monitor --challenger`, and the refusals of bad outcomes."""

from __future__ import annotations

from pathlib import Path

import mlflow
import pandas as pd
import pytest

from tests.monitoring.conftest import MODEL, invoke, window_runs

pytestmark = pytest.mark.slow
WINDOW = "2025-12"


def vintage_book(folder: Path, *flags: str, rows: int = 24_000, seed: int = 21) -> tuple[Path, Path]:
    out = folder / "book.parquet"
    result = invoke(
        "generate", out, "--rows", rows, "--seed", seed, "--vintages", 24, "--outcomes-as-of", WINDOW, *flags
    )
    assert result.exit_code == 0, result.output
    return out, folder / f"book.outcomes-{WINDOW}.csv"


def artifact(run, path: str) -> pd.DataFrame:
    return pd.read_csv(mlflow.artifacts.download_artifacts(run_id=run.info.run_id, artifact_path=path))


def test_undrifted_book_back_tests_clean_and_the_estimate_holds(store, tmp_path):
    current, outcomes = vintage_book(tmp_path)
    result = invoke("monitor", f"{MODEL}/1", "--current", current, "--window", WINDOW, "--outcomes", outcomes)
    assert result.exit_code == 0, result.output
    assert "vintage back-test" not in result.output and "contradicted" not in result.output
    run = window_runs(store, window=WINDOW)[0]
    table = artifact(run, "monitoring/vintage_backtest.csv")
    assert set(table["horizon"]) == {3, 6, 12} and not table["warn"].any()
    assert "id" not in table.columns and "applicant_id" not in table.columns  # counts only
    metrics = run.data.metrics
    assert (
        metrics["estimate.default_rate_low"] < metrics["estimate.default_rate"] < metrics["estimate.default_rate_high"]
    )
    history = mlflow.MlflowClient(store).search_runs([run.info.experiment_id], "tags.`monitoring.role` = 'outcomes'")
    [stored] = history
    estimates = artifact(stored, "monitoring/estimates.csv")
    matured = estimates.dropna(subset=["realised_rate"])
    assert len(matured) >= 10  # 2024-01 .. 2024-12 matured to 12 months by 2025-12
    inside = (matured["rate_low"] <= matured["realised_rate"]) & (matured["realised_rate"] <= matured["rate_high"])
    assert inside.mean() >= 0.8  # a 95% interval: the realised rate of most cohorts inside it


def test_calibration_drift_warns_on_the_late_cohorts(store, tmp_path):
    current, outcomes = vintage_book(tmp_path, "--calibration-drift")
    result = invoke("monitor", f"{MODEL}/1", "--current", current, "--window", WINDOW, "--outcomes", outcomes)
    assert result.exit_code == 0, result.output  # a warning, not an alert
    assert "vintage back-test: score band" in result.output and "higher than its PDs" in result.output
    table = artifact(window_runs(store, window=WINDOW)[0], "monitoring/vintage_backtest.csv")
    warned = table[table["warn"]]
    assert (warned["side"] == "higher").all() and warned["cohort"].min() >= "2024-05"  # drift ramps from 2024-01
    assert warned["cohort"].max() >= "2024-12"


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda f: pd.concat([f, f.head(1)]), "appear more than once"),
        (lambda f: f.assign(id=f["id"].where(f.index > 0, "X999")), "not in the current data"),
        (lambda f: f.assign(defaulted=f["defaulted"].where(f.index > 0, 2)), "defaulted must be 0 or 1"),
        (lambda f: f.assign(observed_at=f["observed_at"].where(f.index > 0, "2023-01-01")), "before the loan's"),
        (lambda f: f.assign(observed_at=f["observed_at"].where(f.index > 0, "2026-03-01")), "after window"),
        (lambda f: f.drop(columns="observed_at"), "missing column"),
    ],
)
def test_bad_outcomes_are_refused_in_one_line_and_nothing_is_written(store, tmp_path, change, message):
    current, outcomes = vintage_book(tmp_path, rows=3_000)
    change(pd.read_csv(outcomes)).to_csv(outcomes, index=False)
    result = invoke("monitor", f"{MODEL}/1", "--current", current, "--window", WINDOW, "--outcomes", outcomes)
    assert result.exit_code == 2, result.output
    assert message in result.output and len(result.output.strip().splitlines()) == 1
    assert window_runs(store) == []


def test_a_challenger_that_does_not_exist_is_refused(store, tmp_path):
    current, _ = vintage_book(tmp_path, rows=3_000)
    for version, message in (("7", "7"), ("1", "is the version being monitored"), ("x", "give a version number")):
        result = invoke("monitor", f"{MODEL}/1", "--current", current, "--window", WINDOW, "--challenger", version)
        assert result.exit_code == 2 and message in result.output, result.output
    assert window_runs(store) == []


def register_version(folder: Path, uri: str, seed: int, **changes) -> None:
    """Another version of the consumer-loan model in the test's store, trained on a book of `seed`."""
    from features.synthetic import BookOptions, generate_book
    from tests.conftest import CONSUMER_SPEC, write_spec

    generate_book(BookOptions(rows=6000, seed=seed)).to_parquet(folder / f"train{seed}.parquet")
    changes = {"data.synthetic": None, "data.source": str(folder / f"train{seed}.parquet"), **changes}
    spec = write_spec(folder, CONSUMER_SPEC, **{"policy.fairness.n_boot": 20, **changes})
    result = invoke("run", spec, "--tracking-uri", uri)
    assert result.exit_code == 0, result.output


def test_challenger_scores_the_same_rows_and_the_swap_set_is_tabled(store, tmp_path):
    register_version(tmp_path, store, seed=5)  # version 2: same features, another sample
    current, outcomes = vintage_book(tmp_path, rows=6_000)
    result = invoke(
        "monitor", f"{MODEL}/1", "--current", current, "--window", WINDOW, "--outcomes", outcomes, "--challenger", "2"
    )
    assert result.exit_code == 0, result.output
    assert "challenger v2:" in result.output
    run = window_runs(store, window=WINDOW)[0]
    table = artifact(run, "monitoring/challenger.csv")
    window, later = table[table["rows"] == f"window {WINDOW}"], table[table["rows"] == "loans with outcomes"]
    assert window["n"].sum() == run.data.metrics["rows"] and len(later) == 4
    assert later["with_outcome"].sum() == len(pd.read_csv(outcomes))
    swap = later.iloc[1:3]
    assert swap["n"].sum() > 0 and run.data.metrics["challenger.swap_share"] > 0
    both_decline, both_approve = later.iloc[3], later.iloc[0]
    assert both_decline["default_rate"] > both_approve["default_rate"]  # the decisions mean something


def test_challenger_trained_on_other_features_is_refused(store, tmp_path):
    import yaml

    from tests.conftest import CONSUMER_SPEC

    spec = yaml.safe_load(CONSUMER_SPEC.read_text())
    numeric = [c for c in spec["features"]["numeric"] if c != "open_accounts"]
    reasons = {k: v for k, v in spec["reasons"].items() if k != "open_accounts"}
    register_version(tmp_path, store, seed=6, **{"features.numeric": numeric, "reasons": reasons})
    current, _ = vintage_book(tmp_path, rows=3_000)
    result = invoke("monitor", f"{MODEL}/1", "--current", current, "--window", WINDOW, "--challenger", "2")
    assert result.exit_code == 2 and "trained on other features" in result.output, result.output
    assert window_runs(store) == []
