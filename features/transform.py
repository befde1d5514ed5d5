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


def _encode(values: pd.Series, categories: list[str]) -> pd.Categorical | np.ndarray:
    """Values as the training categories; unseen or missing values become missing."""
    if not categories:
        # missing in every training row: XGBoost cannot build a matrix from a categorical column without
        # categories, so it gets an all-missing number (the same at training and at scoring)
        return np.full(len(values), np.nan)
    if isinstance(values.dtype, pd.CategoricalDtype) and pd.api.types.infer_dtype(values.cat.categories) == "string":
        # text categoricals (Parquet dictionaries): recode the few categories, not every row
        return values.cat.set_categories(categories).array
    # hash each distinct value once (factorize), then place the few distinct values among the categories: half the
    # time of pd.Categorical(values, categories), which looks every row up among the categories
    codes, distinct = pd.factorize(as_text(values))
    positions = np.append(pd.Index(categories).get_indexer(distinct), -1)  # unseen -> -1; code -1 (missing) -> -1
    return pd.Categorical.from_codes(positions[codes], categories=categories)


# XGBoost holds values as float32: a larger magnitude becomes infinite, and its matrices refuse infinities.
LARGEST_NUMBER = float(np.finfo(np.float32).max)


@dataclass(frozen=True)
class Numbers:
    """A column coerced by `coerce_numeric`."""

    values: pd.Series  # float64; missing, non-numbers and out-of-range values are NaN
    not_numbers: pd.Series  # mask of present values that are not numbers (text, booleans)
    out_of_range: pd.Series  # mask of ±inf and magnitudes beyond LARGEST_NUMBER

    @property
    def bad(self) -> pd.Series:
        return self.not_numbers | self.out_of_range


def coerce_numeric(values: pd.Series) -> Numbers:
    """The one numeric coercion of training, scoring, monitoring and serving. Booleans are not numbers
    (True is not 1.0 here), and neither are infinities or magnitudes XGBoost would read as infinite."""
    if pd.api.types.is_bool_dtype(values):
        nothing = pd.Series(False, index=values.index)
        return Numbers(pd.Series(np.nan, index=values.index, dtype="float64"), values.notna(), nothing)
    if pd.api.types.is_numeric_dtype(values):
        converted, not_numbers = values.astype("float64"), pd.Series(False, index=values.index)
    else:
        # object columns: a CSV column of booleans with a gap, or a JSON request mixing true and numbers
        booleans = values.map(lambda v: isinstance(v, (bool, np.bool_))).astype(bool)
        converted = pd.to_numeric(values.where(~booleans), errors="coerce").astype("float64")
        not_numbers = converted.isna() & values.notna()
    out_of_range = pd.Series(np.abs(converted.to_numpy()) > LARGEST_NUMBER, index=values.index)
    if out_of_range.any():
        converted = converted.where(~out_of_range)
    return Numbers(converted, not_numbers, out_of_range)


def _as_float(values: pd.Series, name: str) -> pd.Series:
    numbers = coerce_numeric(values)
    if numbers.not_numbers.any():
        got = "booleans" if pd.api.types.is_bool_dtype(values) else f"'{values[numbers.not_numbers].iloc[0]}'"
        raise InputError(f"column '{name}' must be numeric, got {got}")
    if numbers.out_of_range.any():
        raise InputError(
            f"column '{name}' must be a finite number within ±{LARGEST_NUMBER:.1e}, "
            f"got {values[numbers.out_of_range].iloc[0]}"
        )
    return numbers.values
