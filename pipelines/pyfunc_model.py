"""The MLflow pyfunc credit model: raw application columns in, PD and decision out.

The xgboost flavour's pyfunc predicts class labels, not probabilities, so creditflow logs this
PythonModel instead. It is logged with the `features` and `pipelines` packages as code paths,
and imports nothing but `features.transform`, numpy, pandas and xgboost, so it loads and scores
without the repository checked out.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import xgboost as xgb
from mlflow.pyfunc import PythonModel

from features.transform import FeatureTransform

BOOSTER = "booster"
TRANSFORM = "transform"
SETTINGS = "settings"
OUTPUT_COLUMNS = ["probability_of_default", "decision"]


def score_frame(booster: xgb.Booster, transform: FeatureTransform, cutoff: float,
                raw: pd.DataFrame) -> pd.DataFrame:
    """PD and decision ("decline" when PD >= cutoff, else "approve") for raw applications."""
    features = transform.transform(raw)
    pd_values = booster.inplace_predict(features, validate_features=True).astype(np.float64)
    decision = np.where(pd_values >= cutoff, "decline", "approve")
    return pd.DataFrame({"probability_of_default": pd_values, "decision": decision}, index=raw.index)


class CreditModel(PythonModel):
    """Loads the booster, transform and policy cutoff saved as artifacts at logging time."""

    def load_context(self, context) -> None:
        self.booster = xgb.Booster()
        self.booster.load_model(context.artifacts[BOOSTER])
        with open(context.artifacts[TRANSFORM]) as handle:
            self.transform = FeatureTransform.from_json(handle.read())
        with open(context.artifacts[SETTINGS]) as handle:
            self.cutoff = float(json.load(handle)["cutoff"])

    def predict(self, context, model_input: pd.DataFrame, params=None) -> pd.DataFrame:
        return score_frame(self.booster, self.transform, self.cutoff, pd.DataFrame(model_input))
