"""The feature transformation saved inside the model: raw application columns -> model input.

It is fitted on training data only and stored as JSON beside the booster, so scoring applies
exactly what training learnt. Categories unseen in training become missing, because XGBoost's
native categorical support raises on a category it does not know.

Deliberately depends on numpy and pandas only: it runs inside the logged model, without the
rest of the repository.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import numpy as np
import pandas as pd


class InputError(ValueError):
    """Scoring input that does not match the model's contract."""


@dataclass
class FeatureTransform:
    numeric: list[str]
    categorical: list[str]
    categories: dict[str, list[str]] = field(default_factory=dict)

    @property
    def columns(self) -> list[str]:
        return [*self.numeric, *self.categorical]

    def fit(self, features: pd.DataFrame) -> "FeatureTransform":
        """Learn each categorical column's categories (sorted, so the encoding is stable)."""
        self.categories = {
            name: sorted(features[name].dropna().astype(str).unique().tolist()) for name in self.categorical
        }
        return self

    def transform(self, raw: pd.DataFrame) -> pd.DataFrame:
        """Model input in training column order; raises InputError naming a missing/mistyped column."""
        missing = [c for c in self.columns if c not in raw.columns]
        if missing:
            raise InputError(f"missing column(s): {', '.join(missing)}")
        out = {name: _as_float(raw[name], name) for name in self.numeric}
        for name in self.categorical:
            out[name] = _encode(raw[name], self.categories[name])
        return pd.DataFrame(out, index=raw.index)

    def unseen_counts(self, raw: pd.DataFrame) -> dict[str, int]:
        """How many non-missing values per categorical column were not seen in training."""
        counts = {}
        for name in self.categorical:
            present = as_text(raw[name]).dropna()
            unseen = int((~present.isin(self.categories[name])).sum())
            if unseen:
                counts[name] = unseen
        return counts

    def to_json(self) -> str:
        return json.dumps(
            {"numeric": self.numeric, "categorical": self.categorical, "categories": self.categories},
            indent=2,
            sort_keys=True,
        )

    @classmethod
    def from_json(cls, text: str) -> "FeatureTransform":
        state = json.loads(text)
        return cls(state["numeric"], state["categorical"], state["categories"])


def as_text(values: pd.Series) -> pd.Series:
    """Values as strings with missing kept missing (categories are stored as strings)."""
    if pd.api.types.infer_dtype(values, skipna=True) in ("string", "empty"):
        return values  # already text: converting 1M strings again costs seconds
    return values.astype(object).where(values.isna(), values.astype(str))


def _encode(values: pd.Series, categories: list[str]) -> pd.Categorical:
    """Values as the training categories; unseen or missing values become missing."""
    if isinstance(values.dtype, pd.CategoricalDtype) and pd.api.types.infer_dtype(values.cat.categories) == "string":
        # text categoricals (Parquet dictionaries): recode the few categories, not every row
        return values.cat.set_categories(categories).array
    return pd.Categorical(as_text(values), categories=categories)


def coerce_numeric(values: pd.Series) -> tuple[pd.Series, pd.Series]:
    """The one numeric coercion of training, scoring and monitoring: float64 values (missing as NaN) and a
    mask of the present values that are not numbers. Booleans are not numbers (True is not 1.0 here)."""
    if pd.api.types.is_bool_dtype(values):
        return pd.Series(np.nan, index=values.index, dtype="float64"), pd.Series(True, index=values.index)
    if pd.api.types.is_numeric_dtype(values):
        return values.astype("float64"), pd.Series(False, index=values.index)
    converted = pd.to_numeric(values, errors="coerce")
    if pd.api.types.is_bool_dtype(converted):
        converted = converted.where(False)
    bad = converted.isna() & values.notna()
    return converted.astype("float64").fillna(np.nan), bad


def _as_float(values: pd.Series, name: str) -> pd.Series:
    converted, bad = coerce_numeric(values)
    if bad.any():
        got = "booleans" if pd.api.types.is_bool_dtype(values) else f"'{values[bad].iloc[0]}'"
        raise InputError(f"column '{name}' must be numeric, got {got}")
    return converted
