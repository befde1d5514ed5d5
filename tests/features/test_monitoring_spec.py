import pytest
import yaml

from features.errors import SpecError
from features.monitoring_spec import CREDIT_PSI, MonitoringSpec, ScheduleSpec
from features.spec import load_spec
from tests.conftest import GERMAN_SPEC, write_spec


def test_specs_without_monitoring_get_the_credit_defaults(tmp_path):
    spec = load_spec(write_spec(tmp_path, monitoring=None))
    assert spec.monitoring == MonitoringSpec()
    assert (spec.monitoring.psi.warn, spec.monitoring.psi.alert) == (0.10, 0.25)
    assert spec.monitoring.drift.method_for("credit_amount", "numeric") == CREDIT_PSI


def test_shipped_specs_declare_monitoring():
    for path in (GERMAN_SPEC, GERMAN_SPEC.parent / "consumer_loans.yaml"):
        declared = yaml.safe_load(path.read_text()).get("monitoring")
        assert declared, f"{path.name} has no monitoring key"  # written out, not left to the defaults
        monitoring = load_spec(path).monitoring
        assert monitoring.schedule.window == "month"
        assert monitoring.schedule == ScheduleSpec(**declared["schedule"])
        assert (monitoring.psi.warn, monitoring.psi.alert) == (declared["psi"]["warn"], declared["psi"]["alert"])


def test_the_schedule_defaults_to_monthly_windows_run_on_the_2nd(tmp_path):
    schedule = load_spec(write_spec(tmp_path, **{"monitoring.schedule": None})).monitoring.schedule
    assert (schedule.window, schedule.cron) == ("month", "0 6 2 * *")


def test_a_window_other_than_month_is_refused(tmp_path):
    with pytest.raises(SpecError) as caught:
        load_spec(write_spec(tmp_path, **{"monitoring.schedule.window": "week"}))
    assert "monitoring.schedule.window" in str(caught.value)


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
