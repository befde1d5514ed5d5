"""End to end through the `creditflow` CLI, each test on its own SQLite tracking store."""

import json
import subprocess
import sys
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

import mlflow
import pandas as pd
import pytest
from click.testing import CliRunner
from mlflow.entities import Run
from mlflow.entities.model_registry import ModelVersion
from mlflow.pyfunc import PyFuncModel

from features.spec import load_spec
from pipelines.cli import VERBS, cli
from pipelines.reports.formats import number
from tests.conftest import CARD_SECTIONS, GERMAN_SPEC, REPO, use_store, write_spec

GERMAN_DATA = GERMAN_SPEC.parent / "data" / "german_credit.csv"
# what a scoring request must not carry: the target and the columns sensitive attributes come from
NOT_INPUTS = ["creditability", "personal_status_and_sex", "age_in_years", "foreign_worker"]


def invoke(*args):
    return CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)


def registry_state(uri):
    client = mlflow.MlflowClient(uri)
    models = [m.name for m in client.search_registered_models()]
    runs = [r.info.run_id for e in client.search_experiments() for r in client.search_runs([e.experiment_id])]
    return models, runs


@dataclass(frozen=True)
class Registered:
    """What one `creditflow run` of German Credit left behind, read once for the tests below."""

    exit_code: int
    output: str
    version: ModelVersion
    run: Run
    artifacts: set[str]  # under plots/, evaluation/, spec/
    stability: set[str]
    fairness: set[str]
    fairness_report: str
    card: str
    model_dir: Path  # the registered model, downloaded
    model: PyFuncModel
    raw: pd.DataFrame
    scored: pd.DataFrame
    registered_model: mlflow.entities.model_registry.RegisteredModel


@pytest.fixture(scope="module")
def registered(tmp_path_factory, store_template) -> Registered:
    """`creditflow run` of the German spec on a fresh store, once for the module (it costs a pipeline run)."""
    folder = tmp_path_factory.mktemp("registered")
    with pytest.MonkeyPatch.context() as patch:
        tracking_uri = use_store(store_template, folder, patch)
        try:
            result = invoke("run", write_spec(folder), "--tracking-uri", tracking_uri)
            assert result.exit_code == 0, result.output
            client = mlflow.MlflowClient(tracking_uri)
            version = client.get_model_version("german_credit", "1")
            run_id = version.run_id
            model = mlflow.pyfunc.load_model("models:/german_credit/1")
            raw = pd.read_csv(GERMAN_DATA).head(20).drop(columns=NOT_INPUTS)
            return Registered(
                exit_code=result.exit_code,
                output=result.output,
                version=version,
                run=client.get_run(run_id),
                artifacts={
                    a.path for where in ("plots", "evaluation", "spec") for a in client.list_artifacts(run_id, where)
                },
                stability={a.path for a in client.list_artifacts(run_id, "stability")},
                fairness={a.path for a in client.list_artifacts(run_id, "fairness")},
                fairness_report=Path(
                    mlflow.artifacts.download_artifacts(run_id=run_id, artifact_path="fairness/report.html")
                ).read_text(),
                card=Path(
                    mlflow.artifacts.download_artifacts(run_id=run_id, artifact_path="model_card/model_card.md")
                ).read_text(),
                model_dir=Path(mlflow.artifacts.download_artifacts("models:/german_credit/1")),
                model=model,
                raw=raw,
                scored=model.predict(raw),
                registered_model=client.get_registered_model("german_credit"),
            )
        finally:
            mlflow.set_tracking_uri(None)


# test_run_registers_a_pending_version_that_scores_raw_rows, one aspect per test on one run.


@pytest.mark.slow
def test_run_registers_a_version(registered):
    assert registered.exit_code == 0, registered.output
    assert "registered model 'german_credit' version 1" in registered.output
    assert "mitigated challenger: not trained: policy.fairness.mitigation is not enabled" in registered.output


@pytest.mark.slow
def test_the_version_carries_the_gate_verdicts_and_awaits_approval(registered):
    tags = registered.version.tags
    assert tags["validation.performance"] == "passed"
    assert tags["validation.stability"] == "passed"
    assert tags["validation.fairness"] == "failed"  # foreign_worker cannot be judged on 200 applicants
    assert tags["approval.status"] == "pending"
    assert tags["validation.policy"] == "consumer-credit v2" and len(tags["validation.policy_digest"]) == 64


@pytest.mark.slow
def test_run_prints_a_short_verdict_per_gate_and_where_the_review_page_is(registered):
    lines = registered.output.splitlines()
    [fairness] = [line for line in lines if line.startswith("validation.fairness: ")]
    assert fairness.startswith("validation.fairness: failed: ") and len(fairness) < 200  # was 1,400 characters
    pages = [line for line in lines if line.startswith("review page: ")]
    assert len(pages) == 1 and pages[0].endswith("model_card/model_card.html") and Path(pages[0][13:]).is_file()


@pytest.mark.slow
def test_the_version_records_its_lineage(registered):
    tags = registered.version.tags
    assert tags["lineage.run_id"] == registered.run.info.run_id
    assert len(tags["lineage.data_digest"]) == 64 and len(tags["lineage.spec_digest"]) == 64
    assert tags["lineage.git_commit"]


@pytest.mark.slow
def test_the_run_logs_every_holdout_metric_with_its_confidence_interval(registered):
    metrics = registered.run.data.metrics
    assert 0.74 <= metrics["test_auc"] <= 0.85
    for name in ("auc", "gini", "ks", "brier", "ece", "citl"):  # pipelines/gates/intervals.py
        assert metrics[f"test_{name}_low"] <= metrics[f"test_{name}"] <= metrics[f"test_{name}_high"], name


@pytest.mark.slow
def test_the_run_logs_plots_evaluation_stability_and_spec(registered):
    assert "stability/stability_test.csv" in registered.stability
    assert {
        "plots/roc.png",
        "plots/ks.png",
        "plots/calibration.png",
        "plots/gains.png",
        "evaluation/summary.json",
        "evaluation/deciles_test.csv",
        "spec/german_credit.yaml",
    } <= registered.artifacts


@pytest.mark.slow
def test_the_fairness_evidence_names_the_attribute_that_failed(registered):
    assert {
        "fairness/report.html",
        "fairness/approval_rates.png",
        "fairness/fairness.json",
        "fairness/proxy_candidates.csv",
        "fairness/groups_sex.csv",
    } <= registered.fairness
    report = registered.fairness_report
    assert "Verdict: failed" in report and "foreign_worker" in report and "Four-fifths rule" in report
    assert "fairness.sex.air" in registered.run.data.metrics


@pytest.mark.slow
def test_the_model_card_reports_the_run_and_is_linked_from_the_version(registered):
    card, m, run = registered.card, registered.run.data.metrics, registered.run
    assert f"| auc | {number(m['valid_auc'])} ({number(m['valid_auc_low'])} – {number(m['valid_auc_high'])}) |" in card
    assert f"| ks | {number(m['valid_ks'])} ({number(m['valid_ks_low'])} – {number(m['valid_ks_high'])}) |" in card
    for heading in CARD_SECTIONS:
        assert f"## {heading}" in card
    assert "Requested loan duration" in card and "Pending: no review decision yet." in card
    assert registered.version.tags["lineage.data_digest"] in card  # the full digest, not truncated
    assert "| max_depth | 3 |" in card and "| performance | auc | test |" in card
    assert "not configured" not in card and "cron 0 6 2 * *" in card
    link = f"(#/experiments/{run.info.experiment_id}/runs/{run.info.run_id}/artifactPath/model_card/model_card.html)"
    assert link in registered.version.description


@pytest.mark.slow
def test_the_registered_model_scores_raw_rows(registered):
    scored = registered.scored
    assert list(scored.columns) == [
        "probability_of_default",
        "decision",
        "reason_1",
        "reason_2",
        "reason_3",
        "reason_4",
    ]
    assert scored["probability_of_default"].between(0, 1).all()
    # German Credit's refer band [0.45, 0.55) and out-of-range rule: three decisions (pipelines/scoring/decision.py)
    assert set(scored["decision"]) <= {"approve", "refer", "decline"}
    p, decision = scored["probability_of_default"], scored["decision"]
    assert (p[decision == "decline"] >= 0.55).all() and (p[decision == "approve"] < 0.45).all()
    assert (decision[(p >= 0.45) & (p < 0.55)] == "refer").all()
    adverse = scored[scored["decision"] != "approve"]
    assert len(adverse) and adverse["reason_1"].notna().all()


@pytest.mark.slow
def test_the_reasons_match_exact_treeshap(registered):
    _assert_reasons_match_exact_treeshap(registered.model_dir, registered.raw, registered.scored)


@pytest.mark.slow
def test_approximate_reasons_leave_the_probability_unchanged(registered):
    fast = registered.model.predict(registered.raw, params={"reason_method": "approx"})
    assert fast["probability_of_default"].equals(registered.scored["probability_of_default"])


@pytest.mark.slow
def test_the_served_model_gives_reasons_to_everyone_only_when_asked(registered):
    declined = registered.scored["decision"] != "approve"  # declined or referred: both are owed reasons
    assert registered.scored.loc[~declined, "reason_1"].isna().all()
    everyone = registered.model.predict(registered.raw, params={"all_reasons": True})
    assert everyone["reason_1"].notna().sum() > declined.sum()


@pytest.mark.slow
def test_the_input_example_has_no_sensitive_or_target_column(registered):
    local = str(registered.model_dir)
    example = mlflow.models.Model.load(local).load_input_example(local)
    assert len(example) == 5
    assert not set(example.columns) & {"personal_status_and_sex", "age_in_years", "foreign_worker", "creditability"}


def _assert_reasons_match_exact_treeshap(local: Path, raw, scored):
    """Recompute the reason codes from the logged booster (model downloaded to `local`) with XGBoost's
    own exact TreeSHAP."""
    import numpy as np
    import xgboost as xgb

    from features.transform import FeatureTransform
    from pipelines.scoring.reasons import DEFAULT_REASON_TEXT, ReasonBaseline

    booster = xgb.Booster()
    booster.load_model(str(next(local.glob("artifacts/booster.ubj"))))
    transform = FeatureTransform.from_json(next(local.glob("artifacts/transform.json")).read_text())
    settings = json.loads(next(local.glob("artifacts/settings.json")).read_text())
    baseline = ReasonBaseline.from_dict(settings["reason_baseline"])
    features = transform.transform(raw)
    contribs = booster.predict(xgb.DMatrix(features, enable_categorical=True), pred_contribs=True)[:, :-1]
    scores = contribs - np.asarray(baseline.values)
    texts = settings["reason_texts"]
    for row in range(len(raw)):
        order = [i for i in np.argsort(-scores[row], kind="stable") if scores[row, i] > 0][:4]
        expected = [
            texts.get(features.columns[i], DEFAULT_REASON_TEXT.format(field=features.columns[i])) for i in order
        ]
        if scored.iloc[row]["decision"] == "approve":
            expected = []  # an approved applicant gets no adverse-action reasons
        got = [r for r in scored.iloc[row][["reason_1", "reason_2", "reason_3", "reason_4"]] if r is not None]
        assert got == expected, row


@pytest.mark.slow
def test_second_run_adds_a_version(tracking_uri, german_spec):
    assert invoke("run", german_spec).exit_code == 0  # tracking URI from MLFLOW_TRACKING_URI
    assert invoke("run", german_spec).exit_code == 0
    versions = mlflow.MlflowClient(tracking_uri).search_model_versions("name='german_credit'")
    assert sorted(str(v.version) for v in versions) == ["1", "2"]


@pytest.mark.slow
def test_failed_gate_still_registers_and_strict_exits_1(tracking_uri, tmp_path):
    spec = write_spec(tmp_path, **{"policy.performance": {"minimum": {"auc": 0.99}}})
    result = invoke("run", spec, "--strict")
    assert result.exit_code == 1
    assert "validation.performance: failed: test: auc" in result.output
    version = mlflow.MlflowClient(tracking_uri).get_model_version("german_credit", "1")
    assert version.tags["validation.performance"] == "failed"


@pytest.mark.slow
def test_spec_without_sensitive_attributes_is_not_assessed(tracking_uri, tmp_path):
    """The issue: such a spec got `validation.fairness: failed` with no way forward; it is its own verdict."""
    spec = write_spec(tmp_path, **{"data.sensitive": []})
    result = invoke("run", spec, "--strict")
    assert result.exit_code == 1  # not assessed is not passed
    assert "validation.fairness: not_assessed: no sensitive attribute declared" in result.output
    client = mlflow.MlflowClient(tracking_uri)
    version = client.get_model_version("german_credit", "1")
    assert version.tags["validation.fairness"] == "not_assessed"
    card = Path(client.download_artifacts(version.run_id, "model_card/model_card.md", str(tmp_path))).read_text()
    assert "Not assessed: no sensitive attribute is declared" in card and "Proxy screen by name" in card
    summary = json.loads(
        Path(client.download_artifacts(version.run_id, "evaluation/summary.json", str(tmp_path))).read_text()
    )
    assert summary["fairness"] == "not_assessed"


@pytest.mark.slow
def test_train_logs_a_model_without_registering(tracking_uri, german_spec):
    result = invoke("train", german_spec)
    assert result.exit_code == 0, result.output
    models, runs = registry_state(tracking_uri)
    assert models == [] and len(runs) == 1


def _spec_on(tmp_path, frame: pd.DataFrame, **changes) -> Path:
    data = tmp_path / "data.csv"
    frame.to_csv(data, index=False)
    return write_spec(tmp_path, **{"data.source": str(data), **changes})


def _german() -> pd.DataFrame:
    return pd.read_csv(GERMAN_DATA)


BAD_INPUTS = {
    "spec missing": (lambda t: t / "absent.yaml", "spec file not found"),
    "invalid yaml": (lambda t: (t / "bad.yaml").write_text("name: [x") and t / "bad.yaml", "invalid YAML"),
    "unknown key": (lambda t: write_spec(t, **{"data.colour": "red"}), "unknown key 'data.colour'"),
    "data missing": (lambda t: write_spec(t, **{"data.source": str(t / "nope.csv")}), "data file not found"),
    "data empty": (
        lambda t: (t / "e.csv").write_text("") or write_spec(t, **{"data.source": str(t / "e.csv")}),
        "data file is empty",
    ),
    "header only": (lambda t: _spec_on(t, _german().head(0)), "no rows"),
    "column absent": (
        lambda t: _spec_on(t, _german().drop(columns=["purpose"])),
        "missing declared column(s): purpose",
    ),
    "text in numeric": (
        lambda t: _spec_on(
            t,
            _german()
            .astype({"credit_amount": object})
            .assign(credit_amount=lambda f: f["credit_amount"].where(f.index != 9, "lots")),
        ),
        "'credit_amount' is declared numeric",
    ),
    "one class": (lambda t: _spec_on(t, _german().assign(creditability="bad")), "single class"),
    "positive absent": (
        lambda t: _spec_on(t, _german(), **{"data.positive": "default"}),
        "positive label 'default' not found",
    ),
    "duplicate ids": (
        lambda t: _spec_on(t, _german().assign(app=lambda f: f.index // 2), **{"data.id": "app"}),
        "duplicated id(s)",
    ),
    # issue 12: each of these used to print a traceback
    "spec not utf-8": (
        lambda t: (
            (t / "latin1.yaml").write_bytes(write_spec(t).read_bytes() + "# caf\xe9\n".encode("latin-1"))
            and t / "latin1.yaml"
        ),
        "latin1.yaml: not UTF-8 text (byte 0xe9",
    ),
    "inf in training": (
        lambda t: _spec_on(
            t,
            _german()
            .astype({"credit_amount": float})
            .assign(credit_amount=lambda f: f["credit_amount"].where(f.index != 4, float("inf"))),
        ),
        "column 'credit_amount' has 1 infinite or too large value(s)",
    ),
    "ten rows": (lambda t: _spec_on(t, _german().head(10)), "too few rows to split"),  # used to leave a FAILED run
}


@pytest.mark.parametrize("case", list(BAD_INPUTS))
def test_bad_input_exits_2_with_one_line_and_writes_nothing(tracking_uri, tmp_path, case):
    make, message = BAD_INPUTS[case]
    before = registry_state(tracking_uri)
    result = CliRunner().invoke(cli, ["run", str(make(tmp_path))])
    assert result.exit_code == 2, result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: ") and message in lines[0], result.output
    assert registry_state(tracking_uri) == before == ([], [])


@pytest.mark.slow
def test_an_all_missing_feature_and_a_column_named_twice_train_with_warnings(tracking_uri, tmp_path):
    """Usable data: trained, with a warning each (an all-missing categorical column used to crash XGBoost, with a
    FAILED run left behind; a second 'credit_amount' column was silently ignored)."""
    frame = _german().assign(purpose=None)
    frame.insert(0, "credit_amount", frame.pop("credit_amount"))
    frame["credit_amount.copy"] = frame["credit_amount"] * 1000
    data = tmp_path / "data.csv"
    frame.to_csv(data, index=False, header=[c.removesuffix(".copy") for c in frame.columns])
    result = invoke("run", write_spec(tmp_path, **{"data.source": str(data)}))
    assert result.exit_code == 0, result.output
    warnings = [
        "feature 'purpose' is missing in every row: it carries no information",
        f"column 'credit_amount' appears 2 times in {data}: the first (column 1) is used, the other "
        f"(column {len(frame.columns)}) ignored",
    ]
    printed = [
        line.split(": ", 1)[1] for line in result.output.splitlines() if line.startswith(("warning: ", "note: "))
    ]
    assert set(warnings) <= set(printed), result.output
    run_id = mlflow.MlflowClient(tracking_uri).get_model_version("german_credit", "1").run_id
    summary = json.loads(mlflow.artifacts.load_text(f"runs:/{run_id}/evaluation/summary.json"))
    assert set(warnings) <= set(summary["notes"])  # and so in the model card's limitations
    _german().drop(columns=NOT_INPUTS).head(50).to_csv(tmp_path / "applicants.csv", index=False)
    scored = invoke("score", "german_credit/1", tmp_path / "applicants.csv", tmp_path / "scored.csv")
    # the model never saw a purpose: every value is an unseen category, which the policy's input check refuses
    assert scored.exit_code == 1 and "purpose: 100.0% categories never seen in training" in scored.output, scored.output
    assert not (tmp_path / "scored.csv").exists()


def test_generate_writes_a_book(tmp_path):
    out = tmp_path / "book.parquet"
    result = invoke("generate", "--rows", 500, "--seed", 3, "--drift-income", -0.2, out)
    assert result.exit_code == 0, result.output
    book = pd.read_parquet(out)
    assert len(book) == 500 and "default_12m" in book.columns
    bad = CliRunner().invoke(cli, ["generate", "--rows", "10", "--start-month", "2024-13", str(tmp_path / "x.csv")])
    assert bad.exit_code == 2 and "start_month" in bad.output
    bad = CliRunner().invoke(cli, ["generate", "--rows", "10", str(tmp_path / "x.txt")])
    assert bad.exit_code == 2 and "unsupported output format" in bad.output


@pytest.mark.slow
def test_consumer_book_with_out_of_time_split(tracking_uri, tmp_path):
    book = tmp_path / "book.parquet"
    assert invoke("generate", "--rows", 8000, "--seed", 11, book).exit_code == 0
    spec = write_spec(
        tmp_path, GERMAN_SPEC.parent / "consumer_loans.yaml", **{"data.synthetic": None, "data.source": str(book)}
    )
    result = invoke("run", spec)
    assert result.exit_code == 0, result.output
    assert "oot AUC" in result.output
    client = mlflow.MlflowClient(tracking_uri)
    version = client.get_model_version("consumer_loans", "1")
    metrics = client.get_run(version.run_id).data.metrics
    assert {"valid_auc", "test_auc", "oot_auc", "baseline_oot_auc"} <= set(metrics)
    model = mlflow.pyfunc.load_model("models:/consumer_loans/1")
    schema = model.metadata.get_input_schema()
    # the signature lists only what the model takes (issue 27 item 6); PII, sensitive and target are refused by
    # the model itself, by name, before MLflow's schema enforcement would drop them (issue 12)
    assert schema.input_names() == load_spec(spec).features.all() and schema.optional_input_names() == []
    local = mlflow.artifacts.download_artifacts("models:/consumer_loans/1")
    example = mlflow.models.Model.load(local).load_input_example(local)
    not_inputs = {"name", "phone", "national_id", "gender", "age", "default_12m"}
    assert not set(example.columns) & (not_inputs | {"applicant_id"})
    with pytest.raises(mlflow.exceptions.MlflowException, match=r"must not receive: national_id \(PII\)"):
        model.predict(example.assign(national_id="AB123456C"))
    body = json.dumps({"dataframe_records": example.assign(gender="f").to_dict(orient="records")}, default=str)
    from mlflow.pyfunc import scoring_server

    with pytest.raises(mlflow.exceptions.MlflowException, match=r"must not receive: gender \(sensitive attribute\)"):
        scoring_server.invocations(body, "application/json", model, schema)


@pytest.mark.slow
def test_model_loads_from_its_own_code_outside_the_repository(tracking_uri, german_spec, tmp_path):
    assert invoke("run", german_spec).exit_code == 0
    script = (
        "import mlflow, pandas as pd\n"
        "model = mlflow.pyfunc.load_model('models:/german_credit/1')\n"
        "import pipelines.scoring.scorer as m\n"
        "print(m.__file__)\n"
        f"print(len(model.predict(pd.read_csv({str(GERMAN_DATA)!r}).head(3).drop(columns={NOT_INPUTS!r}))))\n"
    )
    done = subprocess.run([sys.executable, "-c", script], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    module_file, rows = done.stdout.split()[-2:]
    assert not Path(module_file).resolve().is_relative_to(REPO) and "artifacts/code/pipelines" in module_file
    assert rows == "3"


def test_cutoff_baseline_without_enough_applicants_near_the_cutoff_exits_2(tracking_uri, tmp_path):
    # the spec's wider refer band would reach past 1 at this cutoff: the policy's band only
    spec = write_spec(tmp_path, **{"policy.reason_baseline": "cutoff", "policy.cutoff": 0.97, "policy.refer": None})
    result = CliRunner().invoke(cli, ["run", str(spec)])
    assert result.exit_code == 2, result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert lines[-1].startswith("error: policy.reason_baseline: only") and "need 30" in lines[-1]
    assert mlflow.MlflowClient(tracking_uri).search_registered_models() == []


def test_generate_a_drift_scenario(tmp_path):
    out = tmp_path / "book.parquet"
    result = invoke("generate", "--rows", 2400, "--seed", 1, "--scenario", "utilisation_rise", out)
    assert result.exit_code == 0, result.output
    book = pd.read_parquet(out)
    first, last = (
        book.loc[book["application_month"] == book["application_month"].agg(f), "revolving_utilisation"].mean()
        for f in ("min", "max")
    )
    assert last - first > 0.15
    clash = CliRunner().invoke(
        cli, ["generate", "--rows", "10", "--scenario", "income_shock", "--drift-income", "-0.1", str(out)]
    )
    assert clash.exit_code == 2 and "sets drift_income" in clash.output


@pytest.mark.slow
def test_the_registered_model_says_what_it_predicts_and_under_which_spec(registered):
    model = registered.registered_model
    assert model.tags["model.predicts"] == "probability_of_default" and model.tags["model.target"] == "creditability"
    assert model.tags["model.positive_label"] == "bad" and model.tags["model.spec"] == "german_credit.yaml"
    assert "german_credit.yaml" in model.tags["model.policy"]
    text = model.description
    assert "`creditability`" in text and "`bad`" in text and "german_credit.yaml" in text
    assert "Promote model" in text and "creditflow promote" in text


@pytest.mark.slow
def test_the_model_is_logged_from_code_without_a_pickle(registered):
    assert "model_code_path" in (registered.model_dir / "MLmodel").read_text()
    assert not list(registered.model_dir.rglob("*.pkl"))


def test_version_comes_from_the_package_metadata():
    result = invoke("--version")
    assert result.exit_code == 0 and result.output == f"creditflow {metadata.version('creditflow')}\n"


def test_help_lists_every_verb_with_its_whole_description():
    result = invoke("--help")
    commands = result.output.split("Commands:")[1]
    assert result.exit_code == 0 and "..." not in commands and "…" not in commands
    text = " ".join(commands.split())
    assert all(f" {verb} " in text for verb in VERBS)
    assert "on recent data; exits 1 on alert." in text  # the end of monitor's description, cut before
