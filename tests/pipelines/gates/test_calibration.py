"""Calibration judged: Jeffreys tests per score band and overall, ECE with its noise floor."""

import numpy as np
import pytest

from features.validation_spec import CalibrationPolicy
from pipelines.gates.calibration import calibration_check, calibration_verdict, jeffreys_p_value


def calibrated(n, seed=0):
    rng = np.random.default_rng(seed)
    p = rng.beta(1.2, 6, n)  # PDs around 0.17
    return (rng.random(n) < p).astype(int), p


def test_jeffreys_test_accepts_the_observed_rate_and_rejects_a_far_one():
    assert jeffreys_p_value(30, 100, 0.30) > 0.9
    assert jeffreys_p_value(30, 100, 0.10) < 1e-6
    assert jeffreys_p_value([30, 30], [100, 100], [0.3, 0.1]).shape == (2,)


def test_calibrated_pds_pass_on_a_large_holdout():
    y, p = calibrated(20_000)
    check = calibration_check(y, p, min_p_value=0.01)
    reasons, notes = calibration_verdict(check, policy=CalibrationPolicy())
    assert reasons == [] and notes == []
    assert check.ece < 0.02 and check.ece_floor < 0.01
    assert list(check.bands.columns) == ["band", "n", "defaults", "mean_pd", "default_rate", "p_value", "rejected"]


def test_squeezed_pds_fail_although_their_ranking_is_unchanged():
    # what early stopping after a few trees does: PDs pulled toward the average, AUC untouched
    y, p = calibrated(20_000)
    squeezed = 0.2 * p + 0.8 * p.mean()
    reasons, _ = calibration_verdict(calibration_check(y, squeezed, min_p_value=0.01), policy=CalibrationPolicy())
    assert any("score bands miscalibrated" in r for r in reasons)
    assert any(r.startswith("ECE") for r in reasons)


def test_pds_off_overall_fail_calibration_in_the_large():
    y, p = calibrated(20_000)
    reasons, _ = calibration_verdict(calibration_check(y, p * 0.6, min_p_value=0.01), policy=CalibrationPolicy())
    assert reasons[0].startswith("calibration-in-the-large: mean PD")
    assert "% off, limit 20%" in reasons[0]


def test_a_small_holdout_reports_ece_without_judging_it():
    y, p = calibrated(200, seed=3)
    check = calibration_check(y, p, min_p_value=0.01)
    reasons, notes = calibration_verdict(check, policy=CalibrationPolicy())
    assert check.ece_floor > 0.025
    assert reasons == []
    assert notes[0].startswith(f"ECE {check.ece:.3f} not judged: too few rows")


def test_ece_equals_the_calibration_table_definition():
    from pipelines.gates.performance import calibration_table, expected_calibration_error

    y, p = calibrated(1000, seed=5)
    assert calibration_check(y, p, min_p_value=0.01).ece == pytest.approx(
        expected_calibration_error(calibration_table(y, p))
    )
