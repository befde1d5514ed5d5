"""Training and monitoring read the target with one label matcher: a spec that trains on a label column
monitors a window of the same column (regression: `positive: "1"` with a float column trained, and then
every labelled window was refused)."""

from __future__ import annotations

import pandas as pd
import pytest

from features.spec import Spec
from features.target import matches, outcome_codes
from monitoring.assess import labels_of

SPEC = {
    "name": "labels",
    "data": {"source": "x.csv", "target": "bad"},
    "features": {"numeric": ["x"]},
    "reasons": {"x": "X"},
}


@pytest.mark.parametrize("positive", [1, "1", 1.0])
@pytest.mark.parametrize("column", [[1.0, 0.0, 1.0, 0.0], [1, 0, 1, 0], ["1", "0", "1", "0"]])
def test_training_and_monitoring_agree_on_the_positive_label(positive, column):
    spec = Spec.model_validate({**SPEC, "data": {**SPEC["data"], "positive": positive}})
    frame = pd.DataFrame({"x": [1.0, 2.0, 3.0, 4.0], "bad": column})
    trained = outcome_codes(frame["bad"], spec.data.positive, spec.data.negative)
    assert trained.tolist() == [1, 0, 1, 0]
    assert labels_of(frame, spec).tolist() == trained.tolist()


def test_a_text_label_matches_text_only():
    spec = Spec.model_validate({**SPEC, "data": {**SPEC["data"], "positive": "bad"}})
    frame = pd.DataFrame({"x": [1.0, 2.0], "bad": ["bad", "good"]})
    assert labels_of(frame, spec).tolist() == [1, 0]
    assert not matches(pd.Series([1.0, 0.0]), ["bad"]).any()


def test_a_mapped_outcome_is_monitored_with_the_same_mapping():
    data = {**SPEC["data"], "target": {"column": "bad", "positive": ["Charged Off"], "negative": ["Fully Paid"]}}
    spec = Spec.model_validate({**SPEC, "data": data})
    frame = pd.DataFrame({"x": [1.0, 2.0, 3.0], "bad": ["Charged Off", "Fully Paid", "Fully Paid"]})
    assert labels_of(frame, spec).tolist() == [1, 0, 0]


def test_a_boolean_column_matches_its_quoted_label():
    spec = Spec.model_validate({**SPEC, "data": {**SPEC["data"], "positive": "True"}})
    assert outcome_codes(pd.Series([True, False]), spec.data.positive, spec.data.negative).tolist() == [1, 0]
