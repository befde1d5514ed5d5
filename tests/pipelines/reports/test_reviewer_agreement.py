"""What the reviewer reads agrees with the evidence (issue 27): the registered model names the governed policy the
versions are judged under, the monitoring plan states the reference rows actually stored, the intervals name their
method, and every experiment opens in the MLflow UI on its runs."""

from __future__ import annotations

from pathlib import Path

import mlflow

from features.spec import load_spec
from pipelines.core import tags
from pipelines.evidence.registry_text import model_description, model_tags
from pipelines.reports.card_context import monitoring_plan
from pipelines.tracking import Tracker
from tests.conftest import GERMAN_SPEC


def test_the_registered_model_names_the_governed_policy_not_the_spec_section():
    spec = load_spec(GERMAN_SPEC)
    assert spec.governing is not None
    named = model_tags(spec, GERMAN_SPEC)[tags.MODEL_POLICY]
    assert named.startswith(f"governed policy {spec.governing.label}") and "policy section" not in named
    assert f"governed policy {spec.governing.label}" in model_description(spec, GERMAN_SPEC)


def test_the_monitoring_plan_states_the_reference_rows_stored():
    spec = load_spec(GERMAN_SPEC)  # monitoring.reference_rows: 50,000
    plan = monitoring_plan(spec, 600)[1]
    reference = plan.set_index("what").loc["reference", "plan"]
    assert (
        reference.startswith("600 training rows stored") and "at most monitoring.reference_rows = 50,000" in reference
    )


def test_interval_labels_name_delong_beside_the_bootstrap():
    from pipelines.reports import model_card

    source = Path(model_card.__file__).read_text()
    assert source.count("DeLong") >= 2 and "(95% bootstrap intervals" not in source


def test_an_experiment_creditflow_creates_is_a_model_development_experiment(tracking_uri):
    tracker = Tracker(tracking_uri)
    with tracker.run("credit_kind", run_name="probe"):
        pass
    found = mlflow.MlflowClient(tracking_uri).get_experiment_by_name("credit_kind")
    assert found is not None and found.tags.get(tags.EXPERIMENT_KIND) == tags.MODEL_DEVELOPMENT


def test_an_accepted_exception_shows_on_the_first_screen_beside_the_verdicts():
    from pipelines.reports.governance_section import with_governance
    from pipelines.reports.review_page import review_page

    page = review_page("german_credit version 1", [("Verdicts and limits", ["validation.fairness failed"])])
    exception = {
        "gate": "fairness",
        "granted_by": "dora",
        "time": "2026-12-07 05:00",
        "justification": "age is an empirically derived factor",
        "expires": "2027-02-05",
        "alternative": "challenger AUC 0.74",
    }
    refreshed = with_governance(page, [], [exception], as_html=True)
    banner = refreshed.index("validation.fairness</strong> did not pass and goes forward on an accepted exception")
    assert banner < refreshed.index("<section id='s0'>")  # above the verdicts, not only at the bottom
    assert "granted by dora, valid through 2027-02-05" in refreshed
    again = with_governance(refreshed, [], [], as_html=True)  # re-rendered: one note, replaced, never doubled
    assert "did not pass and goes forward" not in again and again.count("creditflow:exceptions -->") == 2
