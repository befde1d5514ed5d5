"""Untuned logistic-regression baseline for PD models.

The standard credit sanity check: fit a plain logistic regression on the same
split as the main model. If the main model beats it by a suspicious margin
(see ``evaluate.leak_check``) something may be leaking; if it barely beats it,
the extra complexity may not be worth it.

Large books: when X has more than ``max_rows`` (50,000) rows the baseline is fitted
on a seeded, class-stratified random sample of ``max_rows`` rows. A baseline only
needs a stable estimate (a few dozen coefficients: 50,000 rows put its holdout AUC
within 0.001 of a fit on 200,000), and this keeps a 1M-row book from spending
seconds in lbfgs. Prediction always scores every row given; the card states the sample.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer, OneHotEncoder, StandardScaler

MAX_ROWS = 50_000


def fitted_rows(n_rows: int, *, max_rows: int = MAX_ROWS) -> int:
    """How many training rows the baseline is fitted on."""
    return min(n_rows, max_rows)


def _categories_as_strings(X: Any) -> pd.DataFrame:
    """Cast categorical columns to object dtype with string levels, NaN kept as NaN.

    Accepts pandas "category" or object columns. Strings make mixed levels
    (e.g. 1 and "A") safe for OneHotEncoder and make "category" dtype
    behave like object; missing values stay NaN for the imputer.
    """
    frame = pd.DataFrame(X)
    missing = frame.isna()
    as_text = frame.astype(object).astype(str).astype(object)
    return as_text.mask(missing, np.nan)


def _build_pipeline(numeric: list[str], categorical: list[str], seed: int) -> Pipeline:
    """Preprocessing + logistic regression, unfitted. A column missing in every row is kept, as a constant
    (sklearn would drop it with a warning, and the data contract already warns about it)."""
    numeric_steps = Pipeline(
        [
            ("impute", SimpleImputer(strategy="median", keep_empty_features=True)),
            ("scale", StandardScaler()),
        ]
    )
    categorical_steps = Pipeline(
        [
            ("as_strings", FunctionTransformer(_categories_as_strings, feature_names_out="one-to-one")),
            ("impute", SimpleImputer(strategy="constant", fill_value="missing", keep_empty_features=True)),
            ("onehot", OneHotEncoder(handle_unknown="ignore")),
        ]
    )
    transformers = []
    if numeric:
        transformers.append(("numeric", numeric_steps, list(numeric)))
    if categorical:
        transformers.append(("categorical", categorical_steps, list(categorical)))
    return Pipeline(
        [
            ("preprocess", ColumnTransformer(transformers, remainder="drop")),
            ("model", LogisticRegression(max_iter=1000, C=1.0, random_state=seed)),
        ]
    )


def _check_inputs(X: pd.DataFrame, y: np.ndarray, numeric: list[str], categorical: list[str]) -> None:
    """Raise ValueError for unusable inputs before spending time on a fit."""
    if not numeric and not categorical:
        raise ValueError("no feature columns given (numeric and categorical are both empty)")
    overlap = set(numeric) & set(categorical)
    if overlap:
        raise ValueError(f"columns listed as both numeric and categorical: {sorted(overlap)}")
    absent = [c for c in [*numeric, *categorical] if c not in X.columns]
    if absent:
        raise ValueError(f"columns missing from X: {absent}")
    if len(X) != y.size:
        raise ValueError(f"length mismatch: X has {len(X)} rows, y has {y.size}")
    if not np.all(np.isin(y, (0, 1))) or np.unique(y).size != 2:
        raise ValueError("y must be binary 0/1 with both classes present")


def _stratified_sample(n_rows: int, y: np.ndarray, max_rows: int, seed: int) -> np.ndarray:
    """Row positions of a seeded sample of max_rows rows keeping the bad rate."""
    positions, _ = train_test_split(np.arange(n_rows), train_size=max_rows, stratify=y, random_state=seed)
    return np.sort(positions)


def fit_logistic_baseline(
    X: pd.DataFrame,
    y: Any,
    *,
    numeric: list[str],
    categorical: list[str],
    seed: int,
    max_rows: int = MAX_ROWS,
) -> Pipeline:
    """Fit the untuned logistic baseline; returns a fitted sklearn Pipeline.

    numeric columns: median imputation + standard scaling; categorical columns
    ("category" or object dtype): constant "missing" imputation + one-hot with
    unseen levels ignored; then LogisticRegression(C=1.0, max_iter=1000).
    Above max_rows rows, fits on a seeded stratified sample (module docstring).
    The caller's X is never modified.
    """
    labels = np.asarray(y).ravel()
    _check_inputs(X, labels, numeric, categorical)
    labels = labels.astype(np.int64)
    features = X[[*numeric, *categorical]]
    if len(features) > max_rows:
        rows = _stratified_sample(len(features), labels, max_rows, seed)
        features, labels = features.iloc[rows], labels[rows]
    pipeline = _build_pipeline(numeric, categorical, seed)
    pipeline.fit(features, labels)
    return pipeline


def predict_baseline(model: Pipeline, X: pd.DataFrame) -> np.ndarray:
    """Probability of default (class 1) for every row of X."""
    positive = list(model.classes_).index(1)
    return model.predict_proba(X)[:, positive]
