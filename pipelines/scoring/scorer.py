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
from pipelines.scoring.decision import LABELS, ReferRule, decision_codes
from pipelines.scoring.reasons import MAX_REASONS, ReasonBaseline, contributions, top_reasons

BOOSTER = "booster"
TRANSFORM = "transform"
SETTINGS = "settings"
ARTIFACT_FILES = {BOOSTER: "booster.ubj", TRANSFORM: "transform.json", SETTINGS: "settings.json"}
_LABELS = np.array(LABELS, dtype=object)
REASON_COLUMNS = [f"reason_{i}" for i in range(1, MAX_REASONS + 1)]
OUTPUT_COLUMNS = ["probability_of_default", "decision", *REASON_COLUMNS]
# pyfunc params: exact TreeSHAP (default) or Saabas (faster, approximate); reasons for declined applicants only,
# unless all_reasons (an approved applicant is owed no adverse-action reasons)
DEFAULT_PARAMS = {"reason_method": "exact", "all_reasons": False}
REASON_METHODS = ("exact", "approx", "none")


@dataclass(frozen=True)
class Scorer:
    """Everything scoring needs, as saved with the model."""

    booster: xgb.Booster
    transform: FeatureTransform
    cutoff: float
    baseline: ReasonBaseline
    texts: dict[str, str]
    refer: ReferRule | None = None  # the policy's refer band and uncertainty rules (None: approve/decline only)
    required: tuple[str, ...] = ()  # features training almost always had: a row without one is not decided alone

    def codes(self, features: pd.DataFrame, pd_values: np.ndarray, refer_rows: np.ndarray | None = None) -> np.ndarray:
        """0 approve / 1 decline / 2 refer per transformed row (pipelines/scoring/decision.py); `refer_rows`: rows
        the caller's own input check sends to a person (only where the policy refers at all)."""
        uncertain = self.refer.uncertain(features) if self.refer is not None else None
        if uncertain is not None and refer_rows is not None:
            uncertain = uncertain | refer_rows
        return decision_codes(pd_values, self.cutoff, self.refer, uncertain)

    def score(
        self,
        raw: pd.DataFrame,
        *,
        reason_method: str = "exact",
        all_reasons: bool = False,
        refer_rows: np.ndarray | None = None,
    ) -> pd.DataFrame:
        """PD, decision ("decline" when PD >= cutoff, "refer" where the policy's refer rule says so) and up to four
        reason codes per declined or referred application (every
        application with `all_reasons`); reason_method "none": no reason columns, for throughput."""
        if reason_method not in REASON_METHODS:
            raise ValueError(f"reason_method must be one of {', '.join(REASON_METHODS)}, got '{reason_method}'")
        features = self.transform.transform(raw)
        return self.score_input(features, reason_method=reason_method, all_reasons=all_reasons, refer_rows=refer_rows)

    def score_input(
        self,
        features: pd.DataFrame,
        *,
        reason_method: str = "exact",
        all_reasons: bool = False,
        refer_rows: np.ndarray | None = None,
    ) -> pd.DataFrame:
        """`score` on rows already transformed (`self.transform.transform`), with their index."""
        pd_values = self.booster.inplace_predict(features, validate_features=True).astype(np.float64)
        codes = self.codes(features, pd_values, refer_rows)
        labels = _LABELS[codes]
        out = pd.DataFrame({"probability_of_default": pd_values, "decision": labels}, index=features.index)
        if reason_method == "none":
            return out
        texts = np.full((len(features), len(REASON_COLUMNS)), None, dtype=object)
        wanted = np.ones(len(features), dtype=bool) if all_reasons else codes > 0
        if wanted.any():  # XGBoost's contributions of zero rows lose a dimension
            contribs = contributions(self.booster, features[wanted], exact=reason_method == "exact")
            texts[wanted] = top_reasons(contribs, self.baseline, texts=self.texts).to_numpy(dtype=object)
        return pd.concat([out, pd.DataFrame(texts, index=features.index, columns=REASON_COLUMNS)], axis=1)

    def settings(self) -> dict:
        found = {"cutoff": self.cutoff, "reason_baseline": self.baseline.to_dict(), "reason_texts": self.texts}
        return found if self.refer is None else {**found, "refer": self.refer.to_dict()}


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
        ReferRule.from_dict(settings["refer"]) if settings.get("refer") else None,
        tuple(settings.get("required_features", ())),
    )
    return scorer, settings
