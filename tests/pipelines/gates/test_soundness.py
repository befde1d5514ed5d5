"""Conceptual soundness: a boosted model that does not beat its logistic baseline (the shipped consumer model: test
AUC 0.793 against the baseline's 0.796) says so, naming the baseline as the simpler alternative; a note under the
default policy, a finding where the policy sets a minimum uplift."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from features.policy_spec import PerformancePolicy
from pipelines.gates.gate import GateResult
from pipelines.gates.performance_gate import _soundness


def judged(auc: float, baseline: float, minimum: float = 0.0) -> GateResult:
    policy = SimpleNamespace(performance=PerformancePolicy(min_baseline_uplift=minimum))
    context = SimpleNamespace(main="test", spec=SimpleNamespace(policy=policy))
    metrics = {"test_auc": auc, "test_auc_low": auc - 0.03, "test_auc_high": auc + 0.03, "baseline_test_auc": baseline}
    result = GateResult("performance", "passed", metrics=metrics)
    _soundness(context, result)  # type: ignore[arg-type]
    return result


def test_a_model_that_does_not_beat_its_baseline_is_a_note_naming_the_simpler_alternative():
    result = judged(0.793, 0.796)
    assert result.findings == []
    assert result.notes == [
        "test: conceptual soundness: the model's AUC 0.793 (0.763-0.823) does not beat its logistic baseline's 0.796 "
        "by the policy's minimum uplift 0; the logistic baseline is the simpler alternative"
    ]
    assert result.metrics["test_baseline_uplift"] == pytest.approx(-0.003)


def test_a_policy_minimum_uplift_makes_it_a_finding_and_a_model_at_the_minimum_passes():
    assert judged(0.80, 0.79, minimum=0.02).findings[0].startswith("test: conceptual soundness")
    assert judged(0.81, 0.79, minimum=0.02).findings == []
    assert judged(0.80, 0.79).notes == [] and judged(0.80, 0.79).findings == []
