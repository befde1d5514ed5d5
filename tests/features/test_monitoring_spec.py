import pytest

from features.errors import SpecError
from features.monitoring_spec import CREDIT_PSI, MonitoringSpec
from features.spec import load_spec
from tests.conftest import GERMAN_SPEC, write_spec


def test_specs_without_monitoring_get_the_credit_defaults(tmp_path):
    spec = load_spec(write_spec(tmp_path, monitoring=None))
    assert spec.monitoring == MonitoringSpec()
    assert (spec.monitoring.psi.warn, spec.monitoring.psi.alert) == (0.10, 0.25)
    assert spec.monitoring.drift.method_for("credit_amount", "numeric") == CREDIT_PSI


def test_shipped_specs_declare_monitoring():
    for path in (GERMAN_SPEC, GERMAN_SPEC.parent / "consumer_loans.yaml"):
        assert load_spec(path).monitoring.schedule.window == "month"


def test_a_column_override_picks_an_evidently_method(tmp_path):
    spec = load_spec(
        write_spec(
            tmp_path,
            **{
                "monitoring.drift.columns": {"credit_amount": "wasserstein"},
                "monitoring.drift.thresholds": {"wasserstein": 0.2},
            },
        )
    )
    assert spec.monitoring.drift.method_for("credit_amount", "numeric") == "wasserstein"
    assert spec.monitoring.drift.method_for("purpose", "categorical") == CREDIT_PSI


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"monitoring.colour": "blue"}, "unknown key 'monitoring.colour'"),
        ({"monitoring.psi.warn": 0.3}, "warn 0.3 is above alert 0.25"),
        ({"monitoring.drift.numeric": "magic"}, "unknown drift method 'magic'"),
        ({"monitoring.drift.columns": {"salary": "ks"}}, "monitoring.drift.columns: unknown feature(s): salary"),
        ({"monitoring.outcomes.fairness": "panic"}, "monitoring.outcomes.fairness"),
    ],
)
def test_bad_monitoring_keys_are_refused(tmp_path, changes, message):
    with pytest.raises(SpecError, match=None) as caught:
        load_spec(write_spec(tmp_path, **changes))
    assert message in str(caught.value)
