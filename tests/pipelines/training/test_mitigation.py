"""The mitigated challenger: numeric inputs, the reduction at the policy cutoff, the side-by-side comparison."""

import json
from pathlib import Path

import mlflow
import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from features.fairness_spec import MitigationSpec
from features.synthetic import BookOptions, generate_book
from features.tuning_spec import XGBoostParams
from pipelines.cli import cli
from pipelines.gates.fairness import FairnessPolicy, fairness_gate
from pipelines.training.mitigation import compare, numeric_matrix, train_challenger
from tests.conftest import GERMAN_SPEC, write_spec

CONSUMER_SPEC = GERMAN_SPEC.parent / "consumer_loans.yaml"


def test_numeric_matrix_codes_categories_and_keeps_missing():
    frame = pd.DataFrame({"x": [1, 2, None], "c": pd.Categorical(["b", None, "a"], categories=["a", "b"])})
    matrix = numeric_matrix(frame)
    assert matrix["x"].tolist()[:2] == [1.0, 2.0] and np.isnan(matrix["x"].iloc[2])
    assert matrix["c"].iloc[0] == 1.0 and np.isnan(matrix["c"].iloc[1]) and matrix["c"].iloc[2] == 0.0


def test_compare_counts_approvals_and_bads_of_the_approved():
    y = np.array([0, 0, 1, 1, 0, 1])
    original = np.array([0.1, 0.2, 0.3, 0.9, 0.8, 0.1])  # cutoff 0.5: approves rows 0, 1, 2, 5
    share = np.array([0.0, 1.0, 1.0, 1.0, 0.0, 0.5])  # majority declines rows 1, 2, 3, 5
    groups = pd.DataFrame({"g": ["a", "b"] * 3})
    policy = FairnessPolicy(min_group_size=1, n_boot=5)
    table = compare(
        y,
        original,
        cutoff=0.5,
        original=fairness_gate(y, original, sensitive=groups, cutoff=0.5, policy=policy),
        challenger_share=share,
        challenger=fairness_gate(y, share, sensitive=groups, cutoff=0.5, policy=policy),
    ).set_index("model")
    assert table.loc["original", "approval_rate"] == pytest.approx(4 / 6)
    assert table.loc["original", "bad_rate_approved"] == pytest.approx(2 / 4)
    assert table.loc["challenger", "approval_rate"] == pytest.approx(2 / 6)
    assert table.loc["challenger", "bad_rate_approved"] == pytest.approx(0.0)
    assert {"g air", "g dp_difference", "g eo_difference", "fairness"} <= set(table.columns)


def _biased_inputs(rows=6000):
    book = generate_book(BookOptions(rows=rows, seed=5, bias=1.5))
    numeric = ["income", "debt_to_income", "revolving_utilisation", "delinquencies_2y", "inquiries_6m"]
    model_input = book[numeric + ["channel"]].assign(channel=book["channel"].astype("category"))
    return model_input, book["default_12m"].to_numpy(), book[["gender"]]


def test_challenger_narrows_the_gap_it_is_constrained_on():
    """ExponentiatedGradient bounds the gap on the rows it is fitted on; holdout gaps at this size are noise."""
    model_input, y, sensitive = _biased_inputs()
    train = np.arange(0, 4000)
    settings = MitigationSpec(enabled=True, difference_bound=0.01, max_iter=15)
    params = XGBoostParams(max_depth=3, learning_rate=0.1, nthread=1)

    def fit(settings: MitigationSpec):
        return train_challenger(
            model_input.iloc[train], y[train], sensitive=sensitive.iloc[train], params=params, trees=60,
            monotone=[0] * 6, cutoff=0.25, settings=settings, seed=0,
        )  # fmt: skip

    challenger = fit(settings)
    assert challenger.attributes == ["gender"] and challenger.weights.sum() == pytest.approx(1.0)
    # fitted on a plain array: XGBoost would re-check a frame's feature names in Python on every round
    assert all(predictor.get_booster().feature_names is None for predictor in challenger.predictors)
    assert all(predictor.shared is None for predictor in challenger.predictors)  # nothing shared is kept
    share = challenger.decline_share(model_input.iloc[train])
    assert ((share >= 0) & (share <= 1)).all()
    unconstrained = MitigationSpec(enabled=True, difference_bound=0.99, max_iter=1)
    plain = fit(unconstrained).decline_share(model_input.iloc[train])
    policy = FairnessPolicy(n_boot=5)
    gap = {
        name: fairness_gate(y[train], score, sensitive=sensitive.iloc[train], cutoff=0.5, policy=policy)
        .groupings["gender"]
        .disparity
        for name, score in (("mitigated", share), ("plain", plain))
    }
    assert gap["mitigated"]["eo_difference"] < gap["plain"]["eo_difference"]


def test_challenger_refuses_a_single_class_sample():
    model_input, y, sensitive = _biased_inputs(400)
    with pytest.raises(ValueError, match="single class"):
        train_challenger(
            model_input,
            np.zeros_like(y),
            sensitive=sensitive,
            params=XGBoostParams(nthread=1),
            trees=5,
            monotone=[0] * 6,
            cutoff=0.25,
            settings=MitigationSpec(enabled=True),
            seed=0,
        )


@pytest.mark.slow
def test_run_reports_the_challenger_beside_the_original(tracking_uri, tmp_path):
    book = tmp_path / "book.parquet"
    generate_book(BookOptions(rows=6000, seed=11, bias=1.5)).to_parquet(book)
    spec = write_spec(
        tmp_path,
        CONSUMER_SPEC,
        **{
            "data.synthetic": None,
            "data.source": str(book),
            "policy.fairness.n_boot": 20,
            "policy.fairness.mitigation": {"enabled": True, "attributes": ["gender"], "max_iter": 10},
        },
    )
    result = CliRunner().invoke(cli, ["run", str(spec)])
    assert result.exit_code == 0, result.output
    assert "mitigated challenger: oot AUC" in result.output
    client = mlflow.MlflowClient(tracking_uri)
    run_id = client.get_model_version("consumer_loans", "1").run_id
    metrics = client.get_run(run_id).data.metrics
    assert {"challenger.oot_auc", "challenger.oot_approval_rate", "challenger.fairness.passed"} <= set(metrics)
    path = client.download_artifacts(run_id, "fairness/challenger.json", str(tmp_path))
    report = json.loads(Path(path).read_text())
    assert [row["model"] for row in report["comparison"]] == ["original", "challenger"]
    assert report["challenger"]["attributes"] == ["gender"]
    page = client.download_artifacts(run_id, "fairness/report.html", str(tmp_path / "page"))
    assert "Less-discriminatory alternative" in Path(page).read_text()
    card = client.download_artifacts(run_id, "model_card/model_card.md", str(tmp_path / "card"))
    assert "Less-discriminatory alternative" in Path(card).read_text()


def test_the_challenger_is_trained_only_when_the_policy_asks(tmp_path):
    from types import SimpleNamespace

    from features.spec import load_spec
    from pipelines.training.challenger import challenger_skipped

    def verdict(passed):
        return SimpleNamespace(verdict=SimpleNamespace(passed=passed))

    spec = load_spec(write_spec(tmp_path, **{"policy.fairness.mitigation": {"enabled": True, "when": "failed"}}))
    assert challenger_skipped(spec, verdict(False)) is None
    assert "the fairness gate passed" in challenger_skipped(spec, verdict(True))
    assert "no sensitive attribute" in challenger_skipped(spec, None)
    assert "not enabled" in challenger_skipped(load_spec(write_spec(tmp_path)), verdict(False))


def test_unknown_mitigation_attribute_is_one_line(tracking_uri, tmp_path):
    spec = write_spec(tmp_path, **{"policy.fairness.mitigation": {"enabled": True, "attributes": ["religion"]}})
    result = CliRunner().invoke(cli, ["run", str(spec)])
    assert result.exit_code == 2
    assert "mitigation.attributes: not in data.sensitive: religion" in result.output
    assert mlflow.MlflowClient(tracking_uri).search_registered_models() == []
