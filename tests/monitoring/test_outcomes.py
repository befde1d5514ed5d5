import numpy as np
import pandas as pd

from features.monitoring_spec import OutcomeLimits
from monitoring.outcomes import band_findings, band_table, jeffreys_interval, outcome_metrics
from pipelines.evidence.reference import expected_bands


def labelled(n: int, strength: float, seed: int):
    rng = np.random.default_rng(seed)
    score = rng.beta(2, 8, n)
    y = (rng.random(n) < np.clip(score * strength + 0.1 * (1 - strength), 0, 1)).astype(np.int64)
    return y, score


def test_a_weaker_model_raises_auc_and_ks_findings():
    y, p = labelled(5000, 0.2, 0)
    metrics, findings, notes = outcome_metrics(y, p, {"holdout": "oot", "auc": 0.80, "ks": 0.45}, OutcomeLimits())
    assert metrics["outcome.auc_drop"] > 0.05 and not notes
    assert {level for level, _ in findings} == {"alert"} and "below the registered oot AUC 0.800" in findings[0][1]


def test_too_few_labels_are_reported_not_judged():
    y, p = labelled(50, 1.0, 0)
    metrics, findings, notes = outcome_metrics(y, p, {"auc": 0.8}, OutcomeLimits())
    assert findings == [] and "not judged" in notes[0] and metrics["outcome.n"] == 50


def test_jeffreys_interval_covers_the_rate_and_narrows_with_more_applicants():
    low, high = jeffreys_interval(np.array([0, 5, 50, 20, 0]), np.array([20, 50, 500, 20, 0]))
    assert low[0] == 0 and high[3] == 1 and np.isnan(low[4]) and np.isnan(high[4])
    assert low[1] < 0.1 < high[1] and low[2] < 0.1 < high[2] and high[2] - low[2] < high[1] - low[1]
    # Beta(5.5, 45.5) quantiles 0.025 and 0.975, checked by numerical integration of its density
    assert round(low[1], 4) == 0.0392 and round(high[1], 4) == 0.2054


def test_a_same_distribution_window_raises_no_band_flag():
    ref_y, ref_p = labelled(4000, 1.0, 1)
    hold_y, hold_p = labelled(2000, 1.0, 2)
    stored = expected_bands(ref_p, hold_p, hold_y, bins=10)
    for seed in range(3, 8):
        y, p = labelled(3000, 1.0, seed)
        table, judged = band_table(stored, ref_p, ref_y, p, y, 10)
        assert judged and len(table) == 10 and np.isclose(table["current_share"].sum(), 1)
        assert (table["flag"] == "").all() and band_findings(table, "test") == []
        assert table["current_bad_rate"].iloc[-1] > table["current_bad_rate"].iloc[0]


def test_a_band_whose_bad_rate_doubled_is_flagged_with_both_intervals():
    ref_y, ref_p = labelled(4000, 1.0, 1)
    hold_y, hold_p = labelled(2000, 1.0, 2)
    stored = expected_bands(ref_p, hold_p, hold_y, bins=10)
    y, p = labelled(3000, 1.0, 3)
    rng = np.random.default_rng(0)
    top = p >= stored["edges"][-1]
    y = np.where(top & (rng.random(len(y)) < 0.5), 1, y)  # many more defaults in the top band only
    table, _ = band_table(stored, ref_p, ref_y, p, y, 10)
    assert list(table["flag"]) == [""] * 9 + ["higher"]
    [(level, text)] = band_findings(table, "test")
    assert level == "warn" and "higher than the" in text and "of the test holdout" in text and "interval" in text


def test_without_stored_bands_the_training_sample_is_shown_not_judged():
    ref_y, ref_p = labelled(4000, 1.0, 1)
    y, p = labelled(3000, 1.0, 3)
    y = np.ones_like(y)  # every applicant defaulted: would be flagged if judged
    table, judged = band_table(None, ref_p, ref_y, p, y, 10)
    assert not judged and (table["flag"] == "").all() and table["expected_n"].sum() == 4000
    assert pd.notna(table["expected_bad_rate"]).all()
