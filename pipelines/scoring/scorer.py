"""The MLflow pyfunc credit model: raw application columns in; PD, decision and reason codes out.

The xgboost flavour's pyfunc predicts class labels, not probabilities, so creditflow logs this
PythonModel instead. It is logged with the `features` and `pipelines` packages as code paths,
and imports nothing but `features.transform`, `pipelines.scoring.reasons`, numpy, pandas, xgboost and
mlflow's exception types, so it loads and scores without the repository checked out.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import numpy as np
import pandas as pd
import xgboost as xgb

from features.transform import FeatureTransform
from pipelines.scoring.decision import decision_labels
from pipelines.scoring.reasons import MAX_REASONS, ReasonBaseline, contributions, top_reasons

BOOSTER = "booster"
TRANSFORM = "transform"
SETTINGS = "settings"
ARTIFACT_FILES = {BOOSTER: "booster.ubj", TRANSFORM: "transform.json", SETTINGS: "settings.json"}
REASON_COLUMNS = [f"reason_{i}" for i in range(1, MAX_REASONS + 1)]
OUTPUT_COLUMNS = ["probability_of_default", "decision", *REASON_COLUMNS]
# pyfunc params: exact TreeSHAP (default; ~0.5 ms/row/thread) or Saabas (~30x faster, batch)
DEFAULT_PARAMS = {"reason_method": "exact"}
REASON_METHODS = ("exact", "approx", "none")


@dataclass(frozen=True)
class Scorer:
    """Everything scoring needs, as saved with the model."""

    booster: xgb.Booster
    transform: FeatureTransform
    cutoff: float
    baseline: ReasonBaseline
    texts: dict[str, str]

    def score(self, raw: pd.DataFrame, reason_method: str = "exact") -> pd.DataFrame:
        """PD, decision ("decline" when PD >= cutoff) and up to four reason codes per application
        (reason_method "none": no reason columns, for throughput when reasons are not needed)."""
        if reason_method not in REASON_METHODS:
            raise ValueError(f"reason_method must be one of {', '.join(REASON_METHODS)}, got '{reason_method}'")
        return self.score_input(self.transform.transform(raw), reason_method)

    def score_input(self, features: pd.DataFrame, reason_method: str = "exact") -> pd.DataFrame:
        """`score` on rows already transformed (`self.transform.transform`), with their index."""
        pd_values = self.booster.inplace_predict(features, validate_features=True).astype(np.float64)
        out = pd.DataFrame(
            {"probability_of_default": pd_values, "decision": decision_labels(pd_values, self.cutoff)},
            index=features.index,
        )
        if reason_method == "none":
            return out
        if features.empty:  # XGBoost's contributions of zero rows lose a dimension
            return out.assign(**{name: pd.Series(dtype=object) for name in REASON_COLUMNS})
        contribs = contributions(self.booster, features, exact=reason_method == "exact")
        reasons = top_reasons(contribs, self.baseline, texts=self.texts)
        reasons.index = features.index
        return pd.concat([out, reasons], axis=1)

    def settings(self) -> dict:
        return {"cutoff": self.cutoff, "reason_baseline": self.baseline.to_dict(), "reason_texts": self.texts}


def load_scorer(booster_path: str, transform_path: str, settings_path: str) -> tuple[Scorer, dict]:
    """The Scorer and the settings saved with a model, from its three artifact files."""
    booster = xgb.Booster()
    booster.load_model(booster_path)
    with open(transform_path) as handle:
        transform = FeatureTransform.from_json(handle.read())
    with open(settings_path) as handle:
        settings = json.load(handle)
    scorer = Scorer(
        booster,
        transform,
        float(settings["cutoff"]),
        ReasonBaseline.from_dict(settings["reason_baseline"]),
        settings["reason_texts"],
    )
    return scorer, settings
