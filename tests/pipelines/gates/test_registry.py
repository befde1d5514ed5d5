"""Every check is a Gate, and the registry is the one list: a gate added here, in the test only, is judged by `run`,
tagged on the version, shown on the review page and in `status`, and offered to `review --exception`, with no other
change to creditflow."""

import json

import mlflow
import pandas as pd
import pytest
from click.testing import CliRunner

from pipelines.cli import cli
from pipelines.gates import registry
from pipelines.gates.gate import GateContext, GateResult
from tests.conftest import use_store
from tests.pipelines.conftest import AUTHOR, relaxed_german_spec


class ToyGate:
    """Fails when the main holdout's mean PD is above a ceiling no real model meets: a verdict, a metric, a table
    and a figure, all from the context."""

    name = "toy"
    policy_section = "performance"
    title = "Toy check of the mean PD"

    def evaluate(self, context: GateContext) -> GateResult:
        from pipelines.gates.figures import new_figure

        mean = float(context.scores[context.main].mean())
        figure = new_figure()
        figure.add_subplot().bar(["mean PD"], [mean])
        return GateResult(
            self.name,
            "failed" if mean > 0.01 else "passed",
            findings=[f"{context.main}: mean PD {mean:.3f} above the toy ceiling 0.01"],
            notes=["the toy gate judges nothing real"],
            metrics={"toy_mean_pd": mean},
            tables={"toy/mean_pd.csv": pd.DataFrame({"sample": [context.main], "mean_pd": [mean]})},
            figures={"toy/mean_pd.png": figure},
        )


def invoke(*args, user=AUTHOR):
    return CliRunner(env={"CREDITFLOW_USER": user}).invoke(cli, [str(a) for a in args], catch_exceptions=False)


def test_the_registry_lists_the_gates_in_reading_order():
    assert registry.gate_names() == ("data_design", "performance", "stability", "fairness")
    assert registry.gate_tags() == (
        "validation.data_design",
        "validation.performance",
        "validation.stability",
        "validation.fairness",
    )
    assert registry.find("fairness").policy_section == "fairness" and registry.find("toy") is None


def test_reading_the_registry_imports_no_measuring_library():
    """The CLI reads the registry at start-up (`review --help`, `status`): the gates import their maths when
    they measure."""
    import subprocess
    import sys

    heavy = ("sklearn", "scipy", "fairlearn", "matplotlib", "xgboost", "mlflow")
    code = f"import sys, pipelines.gates.registry; print(sorted(m for m in {heavy} if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_a_gate_result_refuses_an_unknown_status():
    with pytest.raises(ValueError, match="status 'maybe' is not one of passed, failed, not_assessed, warn"):
        GateResult("toy", "maybe")


@pytest.mark.slow  # runs the pipeline through the CLI
def test_a_toy_gate_added_in_the_registry_is_everywhere(tmp_path, store_template, monkeypatch):
    monkeypatch.setattr(registry, "REGISTERED", [*registry.REGISTERED, ToyGate()])
    uri = use_store(store_template, tmp_path, monkeypatch)
    spec = relaxed_german_spec(tmp_path)
    run = invoke("run", spec, "--tracking-uri", uri)
    assert run.exit_code == 0, run.output
    assert "validation.toy: failed: test: mean PD" in run.output

    client = mlflow.MlflowClient(uri)
    version = client.get_model_version("german_credit", "1")
    assert version.tags["validation.toy"] == "failed"  # registered beside the three gates
    page = mlflow.artifacts.load_text(f"runs:/{version.run_id}/model_card/model_card.html")
    assert "Toy check of the mean PD" in page and "above the toy ceiling 0.01" in page
    assert "the toy gate judges nothing real" in page
    artifacts = {a.path for a in client.list_artifacts(version.run_id, "toy")}
    assert artifacts == {"toy/mean_pd.csv", "toy/mean_pd.png"}
    assert "toy_mean_pd" in client.get_run(version.run_id).data.metrics
    summary = json.loads(mlflow.artifacts.load_text(f"runs:/{version.run_id}/evaluation/summary.json"))
    assert summary["toy"] == "failed"

    status = invoke("status", "german_credit", "--json", "--tracking-uri", uri)
    assert json.loads(status.output)["versions"][0]["toy"] == "failed"

    unknown = invoke("review", "german_credit", "1", "--exception", "speed", "--justification", "x",
                     "--expires", "2099-01-01", "--tracking-uri", uri, user="risk-lead")  # fmt: skip
    assert unknown.exit_code == 2 and "one of: data_design, performance, stability, fairness, toy" in unknown.output
    expires = (pd.Timestamp.now(tz="UTC") + pd.Timedelta(days=30)).strftime("%Y-%m-%d")
    granted = invoke("review", "german_credit", "1", "--exception", "toy", "--justification", "a toy",
                     "--expires", expires, "--tracking-uri", uri, user="risk-lead")  # fmt: skip
    assert granted.exit_code == 0, granted.output
    assert client.get_model_version("german_credit", "1").tags["exception.toy.status"] == "accepted"
