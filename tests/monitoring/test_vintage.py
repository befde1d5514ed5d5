"""The vintage back-test, the label-free estimate and the swap set on hand-made numbers (pure functions)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from features.monitoring_spec import BacktestLimits
from monitoring.challenger import swap_table
from monitoring.estimate import estimate, realised_auc
from monitoring.vintage import backtest, backtest_findings, expected_by, merge_counts, vintage_counts

LIMITS = BacktestLimits(min_loans=10)


def test_a_cohort_younger_than_the_horizon_is_not_counted_there():
    # two loans of 2025-11 seen at window 2025-12 (2 months on book): one defaulted in month 1, one performing
    counts = vintage_counts(
        np.array(["2025-11", "2025-11"]), np.zeros(2, int), np.full(2, 0.12), np.array([1, 0]), np.array([1, 2]),
        np.array([2, 2]), [3, 6, 12],
    )  # fmt: skip
    assert counts.empty  # its early default alone would read as a 100% default rate at 3 months


def test_counts_by_horizon_use_defaults_by_then_and_pds_spread_over_the_year():
    counts = vintage_counts(
        np.array(["2024-01"] * 4), np.zeros(4, int), np.full(4, 0.12), np.array([1, 1, 0, 0]), np.array([2, 9, 12, 12]),
        np.full(4, 12), [3, 12],
    )  # fmt: skip
    at3, at12 = counts[counts["horizon"] == 3].iloc[0], counts[counts["horizon"] == 12].iloc[0]
    assert (at3["n"], at3["defaults"]) == (4, 1) and np.isclose(at3["expected"], 4 * 0.03)
    assert (at12["n"], at12["defaults"]) == (4, 2) and np.isclose(at12["expected"], 4 * 0.12)
    assert np.allclose(expected_by(np.array([0.12]), 6), 0.06)


def cells(rates: list[float], n: int = 400, pd_value: float = 0.1) -> pd.DataFrame:
    months = [f"2024-{m:02d}" for m in range(1, len(rates) + 1)]
    return pd.DataFrame(
        {"cohort": months, "band": 0, "horizon": 12, "n": n, "defaults": [round(r * n) for r in rates],
         "expected": pd_value * n}
    )  # fmt: skip


def test_two_cohorts_in_a_row_out_of_interval_warn_and_one_alone_does_not():
    alone = backtest(cells([0.1, 0.2, 0.1, 0.1]), LIMITS)
    assert (alone["side"] == "higher").sum() == 1 and not alone["warn"].any()
    ended = backtest(cells([0.1, 0.2, 0.21, 0.1]), LIMITS)
    assert ended["warn"].tolist() == [False, False, True, False]
    assert backtest_findings(ended, ["(0, 1]"], LIMITS) == []  # back inside by the latest cohort: history only
    still = backtest(cells([0.1, 0.1, 0.2, 0.21]), LIMITS)
    [(level, text)] = backtest_findings(still, ["(0, 1]"], LIMITS)
    assert level == "warn" and "higher than its PDs" in text and "2024-04" in text
    apart = cells([0.2, 0.1, 0.2]).assign(cohort=["2024-01", "2024-03", "2024-05"])
    assert not backtest(apart.iloc[[0, 2]], LIMITS)["warn"].any()  # not consecutive months


def test_a_later_snapshot_of_a_cohort_replaces_the_earlier_one():
    merged = merge_counts(cells([0.1, 0.1]), cells([0.3]).assign(cohort="2024-02"))
    assert merged.set_index("cohort").loc["2024-02", "defaults"] == 120 and len(merged) == 2


def test_the_estimate_holds_on_calibrated_labels():
    rng = np.random.default_rng(0)
    p = rng.beta(1.2, 10, 20_000)
    found = estimate(p, confidence=0.95)
    inside = 0
    for seed in range(20):
        y = np.random.default_rng(seed + 1).random(len(p)) < p
        inside += (
            found.rate_low <= y.mean() <= found.rate_high and found.auc_low <= realised_auc(p, y) <= found.auc_high
        )
    assert inside >= 16  # 95% intervals on both: most draws inside


def test_swap_set_counts_each_decision_pair():
    table = swap_table(np.array([0.1, 0.3, 0.1, 0.3]), np.array([0.1, 0.1, 0.3, 0.3]), 0.25, np.array([0, 1, 1, 1]))
    assert table["n"].tolist() == [1, 1, 1, 1] and table["default_rate"].tolist() == [0, 1, 1, 1]


def test_a_large_window_estimates_on_a_sample_with_the_spread_of_its_size():
    p = np.random.default_rng(3).beta(1.2, 10, 200_000)
    whole, half = estimate(p, confidence=0.95), estimate(p[:50_000], confidence=0.95)
    assert abs(whole.auc - half.auc) < 0.01
    assert (whole.auc_high - whole.auc_low) < 0.7 * (half.auc_high - half.auc_low)  # about half as wide
