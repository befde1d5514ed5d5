import re

import pytest
import yaml

from features.errors import SpecError
from features.spec import load_spec
from tests.conftest import GERMAN_SPEC, write_spec


def test_shipped_specs_are_valid():
    spec = load_spec(GERMAN_SPEC)
    assert spec.name == "german_credit"
    assert spec.data.sensitive_names() == ["sex", "age_band", "foreign_worker"]
    assert set(spec.data.sensitive_sources()).isdisjoint(spec.features.all())
    consumer = load_spec(GERMAN_SPEC.parent / "consumer_loans.yaml")
    assert consumer.split.method == "out_of_time"


def test_monotone_vector_follows_feature_order(tmp_path):
    spec = load_spec(write_spec(tmp_path))
    vector = spec.features.monotone_vector()
    assert len(vector) == len(spec.features.all())
    assert vector[spec.features.all().index("duration_in_month")] == 1
    assert vector[spec.features.all().index("credit_amount")] == 0


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"data.colour": "blue"}, "unknown key 'data.colour'"),
        ({"bogus": 1}, "unknown key 'bogus'"),
        ({"data.target": None}, "missing required key 'data.target'"),
        ({"split.seed": "abc"}, "split.seed"),
        ({"policy.cutoff": 1.5}, "policy.cutoff"),
        ({"policy.stability": {"warn": 0.3, "alert": 0.2}}, "warn 0.3 is above alert 0.2"),
        ({"split.method": "sideways"}, "split.method"),
        ({"split.method": "out_of_time"}, "needs data.time"),
        ({"features.monotone": {"purpose": "increasing"}}, "numeric features only: purpose"),
        ({"data.pii": ["credit_amount"]}, "pii column(s) cannot be model features: credit_amount"),
        ({"data.sensitive": ["job"]}, "sensitive column(s) cannot be model features: job"),
        ({"data.synthetic": {"rows": 10}}, "exactly one of 'source'"),
        ({"data.sensitive": [{"name": "x", "column": "age_in_years", "bins": [30, 20]}]}, "increasing edges"),
        ({"policy.fairness.mitigation": {"constraint": "parity"}}, "policy.fairness.mitigation.constraint"),
        ({"policy.fairness.mitigation": {"bound": 0.1}}, "unknown key 'policy.fairness.mitigation.bound'"),
        ({"policy.fairness.mitigation": {"attributes": ["sex", "race"]}}, "not in data.sensitive: race"),
        ({"features.reviewed": {"salary": "known at application"}}, "features.reviewed: unknown feature(s): salary"),
        ({"features.reviewed": {"purpose": " "}}, "features.reviewed: say why each was reviewed: purpose"),
        ({"policy.leakage.max_single_feature_auc": 0.5}, "policy.leakage.max_single_feature_auc"),
        ({"policy.leakage.max_contribution_share": 1.2}, "policy.leakage.max_contribution_share"),
        ({"policy.leakage.min_auc": 0.9}, "unknown key 'policy.leakage.min_auc'"),
        ({"policy.calibration.max_ece": 0}, "policy.calibration.max_ece"),
        (
            {"policy.performance.min_decline_rate": 0.5, "policy.performance.max_decline_rate": 0.4},
            "min_decline_rate 0.5 is above max_decline_rate 0.4",
        ),
        ({"data.target": {"column": "creditability", "positive": ["bad"], "colour": 1}}, "unknown key 'colour'"),
        ({"data.target": {"column": "creditability", "positive": ["bad"]}}, "target.positive and positive both"),
        ({"data.target": {"positive": ["bad"]}, "data.positive": None}, "target: missing required key 'column'"),
    ],
)
def test_invalid_spec_names_file_and_key(tmp_path, changes, message):
    path = write_spec(tmp_path, **changes)
    with pytest.raises(SpecError) as error:
        load_spec(path)
    assert message in str(error.value)
    assert str(path) in str(error.value)
    assert "\n" not in str(error.value)


def test_missing_file_and_bad_yaml(tmp_path):
    with pytest.raises(SpecError, match="spec file not found"):
        load_spec(tmp_path / "nope.yaml")
    broken = tmp_path / "broken.yaml"
    broken.write_text("name: x\ndata: [unclosed\n")
    with pytest.raises(SpecError, match="invalid YAML at line"):
        load_spec(broken)
    listed = tmp_path / "list.yaml"
    listed.write_text(yaml.safe_dump([1, 2]))
    with pytest.raises(SpecError, match="mapping"):
        load_spec(listed)


@pytest.mark.parametrize(
    "space, message",
    [
        ({"depth": {"low": 1, "high": 3}}, "unknown parameter 'depth'"),
        ({"max_depth": {"low": 6, "high": 2}}, "low 6.0 is above high 2.0"),
        ({"max_depth": {"low": 2.5, "high": 4}}, "tuning.space.max_depth: bounds must be integers"),
        ({"learning_rate": {"low": 0, "high": 0.3, "log": True}}, "log range needs low > 0"),
        ({"learning_rate": {"low": "small", "high": 0.3}}, "tuning.space.learning_rate.low"),
        ({}, "tuning.space is empty"),
    ],
)
def test_invalid_search_space_is_refused(tmp_path, space, message):
    with pytest.raises(SpecError, match=re.escape(message)):
        load_spec(write_spec(tmp_path, **{"tuning.space": space}))


def test_default_search_space_and_explicit_sampler_options():
    spec = load_spec(GERMAN_SPEC)
    assert set(spec.tuning.space) == {
        "max_depth",
        "learning_rate",
        "min_child_weight",
        "subsample",
        "colsample_bytree",
        "reg_lambda",
        "reg_alpha",
        "gamma",
    }
    assert spec.tuning.sampler.multivariate and spec.tuning.sampler.constant_liar
    assert spec.tuning.metric == "logloss" and spec.tuning.direction == "minimize"  # early stopping on log loss


def test_reason_text_for_an_unknown_feature_is_refused(tmp_path):
    with pytest.raises(SpecError, match="reasons: text given for unknown feature\\(s\\): salary"):
        load_spec(write_spec(tmp_path, **{"reasons": {"salary": "Your salary"}}))


def test_a_spec_that_is_not_utf8_is_one_line(tmp_path):
    latin1 = tmp_path / "latin1.yaml"
    latin1.write_bytes("name: caf\xe9\n".encode("latin-1"))
    with pytest.raises(SpecError, match=r"latin1.yaml: not UTF-8 text \(byte 0xe9 at position 9\)"):
        load_spec(latin1)


def test_every_feature_needs_an_applicant_facing_reason_text_and_all_missing_ones_are_listed(tmp_path):
    reasons = {k: v for k, v in load_spec(GERMAN_SPEC).reasons.items() if k not in ("job", "telephone", "purpose")}
    with pytest.raises(SpecError) as error:
        load_spec(write_spec(tmp_path, reasons=reasons))
    assert "reasons: no applicant-facing text for 3 feature(s)" in str(error.value)
    assert "purpose, job, telephone" in str(error.value)


def test_shipped_specs_have_a_reason_text_for_every_feature():
    for name in ("german_credit.yaml", "consumer_loans.yaml"):
        spec = load_spec(GERMAN_SPEC.parent / name)
        assert set(spec.reasons) == set(spec.features.all()), name


@pytest.mark.parametrize("written", ["positive: no", "positive: [Charged Off, yes]"])
def test_an_unquoted_yaml_boolean_label_gets_a_hint_to_quote_it(tmp_path, written):
    path = write_spec(tmp_path)
    mapped = f"  target:\n    column: creditability\n    {written}"
    path.write_text(path.read_text().replace("  target: creditability\n  positive: bad", mapped))
    with pytest.raises(SpecError) as error:
        load_spec(path)
    assert "YAML read an unquoted" in str(error.value) and "quote the value" in str(error.value)


def test_an_outcome_mapping_is_flattened_into_target_positive_and_negative(tmp_path):
    mapping = {"column": "creditability", "positive": "bad", "negative": ["good"]}
    spec = load_spec(write_spec(tmp_path, **{"data.target": mapping, "data.positive": None}))
    assert (spec.data.target, spec.data.positive, spec.data.negative) == ("creditability", ["bad"], ["good"])
