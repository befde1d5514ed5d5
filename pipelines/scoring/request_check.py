"""The served model's input check, per request (issue 28, item 3): a request row missing a value the model almost
always had in training is not decided by the model alone.

A gradient-boosted model scores a missing value without complaint (it takes a default branch), so an upstream
outage that empties `credit_amount` would turn into confident declines. `score` judges a whole batch against the
version's reference sample (pipelines/scoring/input_check.py); a served request has one row, so the rule is per
row: a feature the reference lacks in at most the policy's `input_check.missing_warn` share of rows is required;
a row without it is referred where the policy has a refer rule, else refused with the features named. The required
features are written into the model's settings when it is logged, so the served model needs nothing else.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["missing_required", "required_features"]


def required_features(train: pd.DataFrame, features: list[str], *, missing_warn: float) -> list[str]:
    """The features training rows lack in at most `missing_warn` of rows (the reference's own missing share)."""
    return [f for f in features if f in train.columns and float(_missing(train[f]).mean()) <= missing_warn]


def missing_required(frame: pd.DataFrame, required: list[str]) -> tuple[np.ndarray, list[str]]:
    """Rows lacking a required value (a mask), and the required features lacking in any row, in order."""
    mask = np.zeros(len(frame), dtype=bool)
    named = []
    for name in required:
        if name not in frame.columns:
            continue  # an absent column is the transform's refusal, by name
        lacking = _missing(frame[name]).to_numpy()
        if lacking.any():
            mask |= lacking
            named.append(name)
    return mask, named


def _missing(values: pd.Series) -> pd.Series:
    return values.isna() | (values.astype(str).str.strip() == "")
