"""The review page's first screen states the decline rate, the calibration limits judged and whether the model beats
its logistic baseline (the issue: "the review page never shows the decline rate or the calibration limits it
judged", and the consumer model's 0.793 against its baseline's 0.796 was not said)."""

from __future__ import annotations

from types import SimpleNamespace

from features.policy_spec import PerformancePolicy
from features.validation_spec import CalibrationPolicy
from pipelines.reports.first_screen import decision_rows

SPEC = SimpleNamespace(policy=SimpleNamespace(performance=PerformancePolicy(), calibration=CalibrationPolicy()))
METRICS = {
    "test_decline_rate": 0.015,
    "test_citl_gap": 0.30,
    "test_citl_p_value": 0.001,
    "test_bands_rejected": 1.0,
    "test_auc": 0.793,
    "baseline_test_auc": 0.796,
}


def test_the_first_screen_rows_say_what_the_verdict_decided_on():
    rows = {row[1]: row for row in decision_rows(SPEC, METRICS, "test", main="test")}  # type: ignore[arg-type]
    assert rows["decline rate at the cutoff"][5:] == ["2% – 70%", "broken"]
    assert rows["|mean PD / default rate - 1|"][5:] == ["<= 0.2 unless p >= 0.01 (p = 0.001)", "broken"]
    assert rows["score bands rejected"][5:] == ["<= 1 of 10 at p < 0.01", "met"]
    assert rows["AUC over logistic baseline"][5:] == ["> 0", "note: the baseline is the simpler alternative"]


def test_soundness_is_shown_for_the_main_holdout_only():
    rows = decision_rows(SPEC, METRICS, "test", main="oot")  # type: ignore[arg-type]
    assert [row[1] for row in rows] == ["decline rate at the cutoff", "|mean PD / default rate - 1|",
                                        "score bands rejected"]  # fmt: skip
