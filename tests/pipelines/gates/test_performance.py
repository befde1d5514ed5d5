"""Tests for pipelines.gates.performance: hand-computed answers and scipy cross-checks."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest
from scipy.stats import ks_2samp
from sklearn.metrics import auc as sklearn_auc

from pipelines.gates.performance import (
    METRIC_NAMES,
    calibration_table,
    classification_metrics,
    curves,
    decile_table,
    expected_calibration_error,
    leak_check,
    performance_verdict,
)


def _random_book(n: int = 5_000, seed: int = 0, ties: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Scores with real but imperfect separation; optionally rounded to create ties."""
    rng = np.random.default_rng(seed)
    y = rng.binomial(1, 0.2, n)
    p = np.clip(rng.beta(2, 8, n) + 0.15 * y, 0, 1)
    return y, (np.round(p, 2) if ties else p)


# ---------------------------------------------------------------- metrics


def test_metric_keys_are_exactly_the_documented_set():
    y, p = _random_book(200)
    assert tuple(classification_metrics(y, p)) == METRIC_NAMES
    assert set(METRIC_NAMES) == {"auc", "gini", "ks", "brier", "log_loss", "bad_rate", "mean_pd", "n"}


def test_perfect_separation_gives_auc_one_and_ks_one():
    m = classification_metrics([0, 0, 0, 1, 1], [0.1, 0.2, 0.3, 0.8, 0.9])
    assert m["auc"] == 1.0 and m["gini"] == 1.0 and m["ks"] == 1.0


def test_reversed_scores_give_auc_zero_and_gini_minus_one():
    m = classification_metrics([0, 0, 1, 1], [0.9, 0.8, 0.2, 0.1])
    assert m["auc"] == 0.0 and m["gini"] == -1.0
    # KS is a distance between distributions, so it does not care about direction.
    assert m["ks"] == 1.0


def test_ks_small_example_by_hand():
    # Riskiest first: 0.9(bad) 0.8(good) 0.7(bad) 0.4(good) 0.3(good) 0.2(bad)
    # cum bad share : 1/3 1/3 2/3 2/3 2/3 1 ; cum good share: 0 1/3 1/3 2/3 1 1
    # largest gap = 1/3 (e.g. after 0.9 or after 0.7).
    y = [1, 0, 1, 0, 0, 1]
    p = [0.9, 0.8, 0.7, 0.4, 0.3, 0.2]
    assert classification_metrics(y, p)["ks"] == pytest.approx(1 / 3)


def test_ks_does_not_split_tied_scores():
    # All scores tied: no cut-off separates anything, so KS must be 0 (a naive
    # row-by-row cumsum would report 0.5 here because the bad sorts first).
    assert classification_metrics([1, 0], [0.5, 0.5])["ks"] == 0.0


@pytest.mark.parametrize("ties", [False, True])
@pytest.mark.parametrize("seed", [1, 2])
def test_ks_matches_scipy_two_sample_statistic(seed, ties):
    y, p = _random_book(3_000, seed, ties)
    expected = ks_2samp(p[y == 1], p[y == 0]).statistic
    assert classification_metrics(y, p)["ks"] == pytest.approx(expected, abs=1e-12)


def test_brier_log_loss_rates_and_n_by_hand():
    y = [0, 1, 1, 0]
    p = [0.2, 0.6, 1.0, 0.0]  # 1.0 and 0.0 are clipped before the log
    m = classification_metrics(y, p)
    assert m["brier"] == pytest.approx((0.04 + 0.16 + 0 + 0) / 4)
    assert m["log_loss"] == pytest.approx(-(np.log(0.8) + np.log(0.6)) / 4, rel=1e-9)
    assert np.isfinite(m["log_loss"])
    assert m["bad_rate"] == 0.5 and m["mean_pd"] == pytest.approx(0.45)
    assert m["n"] == 4.0 and isinstance(m["n"], float)


@pytest.mark.parametrize(
    ("y", "p", "fragment"),
    [
        ([], [], "empty"),
        ([0, 1, 1], [0.1, 0.2], "length"),
        ([1, 1, 1], [0.1, 0.2, 0.3], "single class"),
        ([0, 2, 1], [0.1, 0.2, 0.3], "0 (good) and 1"),
        ([0, 1], [0.1, np.nan], "NaN"),
        ([0, 1], [0.1, 1.5], "[0, 1]"),
    ],
)
def test_invalid_inputs_raise_one_line_value_error(y, p, fragment):
    with pytest.raises(ValueError, match=re.escape(fragment)) as err:
        classification_metrics(y, p)
    assert "\n" not in str(err.value)


# ---------------------------------------------------------------- calibration


def test_calibration_of_perfectly_calibrated_data_has_small_ece():
    rng = np.random.default_rng(3)
    p = rng.uniform(0.01, 0.5, 50_000)
    y = rng.binomial(1, p)
    table = calibration_table(y, p)
    assert list(table.columns) == ["bin", "n", "mean_pd", "observed_bad_rate"]
    assert table["n"].sum() == 50_000 and list(table["bin"]) == list(range(1, 11))
    assert table["mean_pd"].is_monotonic_increasing  # bin 1 = lowest scores
    assert expected_calibration_error(table) < 0.01


def test_ece_detects_miscalibration_and_is_weighted_by_n():
    rng = np.random.default_rng(4)
    p = rng.uniform(0.01, 0.5, 20_000)
    y = rng.binomial(1, p)
    assert expected_calibration_error(calibration_table(y, p / 2)) > 0.05
    table = pd.DataFrame({"n": [3, 1], "mean_pd": [0.1, 0.5], "observed_bad_rate": [0.1, 0.1]})
    assert expected_calibration_error(table) == pytest.approx(0.1)  # (3*0 + 1*0.4) / 4


def test_calibration_table_survives_heavy_ties():
    y = [0, 1] * 50
    table = calibration_table(y, [0.3] * 100)
    assert table["n"].sum() == 100
    assert np.allclose(table["mean_pd"], 0.3)


# ---------------------------------------------------------------- deciles


def test_decile_table_sums_and_ordering():
    y, p = _random_book(5_003, seed=5, ties=True)
    t = decile_table(y, p)
    assert list(t.columns) == [
        "decile",
        "n",
        "min_pd",
        "max_pd",
        "bads",
        "bad_rate",
        "cum_bad_capture",
        "cum_population_share",
        "lift",
    ]
    assert list(t["decile"]) == list(range(1, 11))
    assert t["n"].sum() == len(y) and t["n"].max() - t["n"].min() <= 1
    assert t["bads"].sum() == y.sum()
    assert t["cum_bad_capture"].iloc[-1] == pytest.approx(1.0)
    assert t["cum_population_share"].iloc[-1] == pytest.approx(1.0)
    assert t["cum_bad_capture"].is_monotonic_increasing
    mean_p = pd.Series(p).groupby(_decile_of_rows(p, t)).mean()
    assert mean_p.idxmax() == 1  # decile 1 is the riskiest band
    assert t["min_pd"].iloc[0] >= t["max_pd"].iloc[1]
    assert np.allclose(t["lift"], t["bad_rate"] / y.mean())


def _decile_of_rows(p: np.ndarray, table: pd.DataFrame) -> np.ndarray:
    """Recover each row's decile from the table's n column (rows sorted riskiest first)."""
    order = np.argsort(-p, kind="stable")
    labels = np.empty(p.size, dtype=int)
    labels[order] = np.repeat(table["decile"].to_numpy(), table["n"].to_numpy())
    return labels


def test_decile_table_small_example_by_hand():
    y = [1, 1, 0, 1, 0, 0, 0, 0, 0, 0]
    p = [0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2, 0.1, 0.05]
    t = decile_table(y, p, bins=5)
    assert list(t["n"]) == [2] * 5
    assert list(t["bads"]) == [2, 1, 0, 0, 0]
    assert list(t["cum_bad_capture"]) == pytest.approx([2 / 3, 1, 1, 1, 1])
    assert t["lift"].iloc[0] == pytest.approx(1.0 / 0.3)
    assert (t["min_pd"].iloc[0], t["max_pd"].iloc[0]) == (0.8, 0.9)


# ---------------------------------------------------------------- curves


def test_curves_roc_and_ks_are_consistent_with_metrics():
    y, p = _random_book(2_000, seed=6, ties=True)
    c = curves(y, p)
    m = classification_metrics(y, p)
    assert sklearn_auc(c["roc"]["fpr"], c["roc"]["tpr"]) == pytest.approx(m["auc"])
    ks = c["ks"]
    assert ks["ks"] == pytest.approx(m["ks"])
    i = ks["ks_index"]
    assert abs(ks["cum_bad"][i] - ks["cum_good"][i]) == pytest.approx(m["ks"])
    assert ks["population_share"][i] == ks["ks_population_share"]
    assert ks["population_share"][0] == 0 and ks["population_share"][-1] == pytest.approx(1.0)
    assert ks["cum_bad"][-1] == pytest.approx(1.0) and ks["cum_good"][-1] == pytest.approx(1.0)
    assert np.all(np.diff(ks["population_share"]) > 0)
    # Population share at the KS threshold = share of rows scoring at or above it.
    assert ks["ks_population_share"] == pytest.approx(np.mean(p >= ks["ks_threshold"]))


# ---------------------------------------------------------------- verdict and leak check


def test_verdict_passes_and_lists_every_failure():
    metrics = {"auc": 0.681, "ks": 0.30, "brier": 0.26}
    ok, reasons = performance_verdict(metrics, minima={"auc": 0.70, "ks": 0.25}, maxima={"brier": 0.25})
    assert not ok
    assert reasons == ["auc 0.681 below minimum 0.700", "brier 0.260 above maximum 0.250"]
    assert performance_verdict(metrics, minima={"auc": 0.681}, maxima={"brier": 0.26}) == (True, [])


def test_verdict_fails_on_nan_metric():
    ok, reasons = performance_verdict({"auc": float("nan")}, minima={"auc": 0.7}, maxima={})
    assert not ok and reasons == ["auc nan below minimum 0.700"]


@pytest.mark.parametrize("where", ["minima", "maxima"])
def test_verdict_unknown_metric_name_raises_naming_it(where):
    limits = {"aucc": 0.7}
    kwargs = {"minima": {}, "maxima": {}, where: limits}
    with pytest.raises(ValueError, match="aucc"):
        performance_verdict({"auc": 0.8}, **kwargs)


def test_leak_check_message_and_threshold():
    msg = leak_check(0.821, 0.750)
    assert msg == "XGBoost AUC exceeds the logistic baseline by 0.071 (> 0.05): check for leakage"
    assert leak_check(0.80, 0.75) is None  # exactly at the limit is not a warning
    assert leak_check(0.70, 0.75) is None
    assert leak_check(0.80, 0.75, max_uplift=0.02) is not None
