"""The served model's input check per request (issue 28, item 3, last part): a row missing a value the model
needs is referred where the policy has a refer band, else refused naming the features, never a confident decline
built on missing data."""

from __future__ import annotations

from dataclasses import replace

import mlflow
import numpy as np
import pandas as pd
import pytest
from mlflow.exceptions import MlflowException

from pipelines.scoring.request_check import missing_required, required_features
from tests.pipelines.test_cli import NOT_INPUTS


def test_required_features_are_those_training_almost_always_has():
    train = pd.DataFrame({"a": [1.0] * 98 + [None] * 2, "b": [1.0] * 50 + [None] * 50, "c": ["x"] * 99 + [" "]})
    assert required_features(train, ["a", "b", "c"], missing_warn=0.05) == ["a", "c"]
    rows, named = missing_required(pd.DataFrame({"a": [1.0, None, 2.0], "c": ["x", "y", ""]}), ["a", "c"])
    assert list(rows) == [False, True, True] and named == ["a", "c"]


def test_a_request_missing_a_needed_value_is_referred_or_refused_never_declined(governed):
    model = mlflow.pyfunc.load_model("models:/german_credit/1")
    rows = pd.read_csv("german_ids.csv").drop(columns=[*NOT_INPUTS, "applicant_id"], errors="ignore").head(40)
    full = model.predict(rows)
    assert set(full["decision"]) <= {"approve", "refer", "decline"}
    broken = rows.assign(credit_amount=np.nan)
    answered = model.predict(broken)
    assert (answered["decision"] == "refer").all() and answered["reason_1"].notna().all()

    credit_model = model.unwrap_python_model()
    credit_model.scorer = replace(credit_model.scorer, refer=None)  # the same model under a policy without a band
    assert set(model.predict(rows)["decision"]) <= {"approve", "decline"}
    with pytest.raises(MlflowException, match="lacks values the model needs to decide: credit_amount") as refused:
        model.predict(broken.head(1))
    assert "credit_amount" in refused.value.message
