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
    assert spec.tuning.direction == "maximize"


def test_reason_text_for_an_unknown_feature_is_refused(tmp_path):
    with pytest.raises(SpecError, match="reasons: text given for unknown feature\\(s\\): salary"):
        load_spec(write_spec(tmp_path, **{"reasons": {"salary": "Your salary"}}))


def test_a_spec_that_is_not_utf8_is_one_line(tmp_path):
    latin1 = tmp_path / "latin1.yaml"
    latin1.write_bytes("name: caf\xe9\n".encode("latin-1"))
    with pytest.raises(SpecError, match=r"latin1.yaml: not UTF-8 text \(byte 0xe9 at position 9\)"):
        load_spec(latin1)
