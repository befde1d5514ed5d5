"""The target: which outcome values are a default (positive), which a good payer (negative), which rows drop out.

Two spec forms, one meaning:

* `data.target: COLUMN` with `data.positive: LABEL`: a binary column; every other value is negative.
* `data.target: {column, positive: [values...], negative: [values...]}`: an outcome column with any number of
  values (a loan status with six values); `positive` values are defaults; without `negative` everything else
  is a good payer, with it the rows whose value is in neither list are dropped (and counted).

The one label matcher of training (features/contract.py) and monitoring (monitoring/assess.py).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

Label = int | str
DROPPED = -1  # outcome code of a row whose value is neither positive nor negative
_TARGET_KEYS = ("column", "positive", "negative")


def normalise_target(data: Any) -> Any:
    """The spec's `data` mapping with a `target: {column, positive, negative}` mapping flattened into
    `target`, `positive` and `negative`; YAML booleans among the labels are refused with a hint to quote them."""
    if not isinstance(data, dict):
        return data
    data = dict(data)
    target = data.get("target")
    if isinstance(target, dict):
        unknown = [k for k in target if k not in _TARGET_KEYS]
        if unknown:
            raise ValueError(f"target: unknown key '{unknown[0]}' (use {', '.join(_TARGET_KEYS)})")
        if "positive" in data:
            raise ValueError("target.positive and positive both given: keep the values in target.positive")
        for key in ("column", "positive"):
            if key not in target:
                raise ValueError(f"target: missing required key '{key}'")
        positive = target["positive"]
        data.update(
            target=target["column"],
            positive=positive if isinstance(positive, list) else [positive],
            negative=target.get("negative"),
        )
    for key in ("positive", "negative"):
        _refuse_booleans(key, data.get(key))
    return data


def _refuse_booleans(key: str, value: Any) -> None:
    values = value if isinstance(value, list) else [value]
    booleans = [v for v in values if isinstance(v, bool)]
    if booleans:
        word = "yes/true/on" if booleans[0] else "no/false/off"
        raise ValueError(
            f"target.{key}: YAML read an unquoted {word} as the boolean {booleans[0]}; quote the value, "
            f'e.g. {key}: ["{"yes" if booleans[0] else "no"}"]'
        )


def as_list(labels: Label | list[Label] | None) -> list[Label]:
    if labels is None:
        return []
    return list(labels) if isinstance(labels, list) else [labels]


def is_mapping(positive: Label | list[Label], negative: list[Label] | None) -> bool:
    """Whether the spec maps an outcome column (any number of values) rather than naming a binary label."""
    return isinstance(positive, list) or negative is not None


def matches(values: pd.Series, labels: list[Label]) -> pd.Series:
    """Where `values` equals one of `labels`. YAML `1` (or "1") matches a column of 1/0, of 1.0/0.0 and of
    "1"/"0"; a text label never matches a numeric column; a boolean column matches "True"/"False" (quoted)."""
    if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
        numbers = []
        for label in labels:
            try:
                numbers.append(float(label))
            except ValueError:
                continue
        return values.isin(numbers)
    return values.astype(str).isin([str(label) for label in labels])


def outcome_codes(values: pd.Series, positive: Label | list[Label], negative: list[Label] | None) -> np.ndarray:
    """Per row: 1 = default, 0 = good payer, DROPPED = neither (only when `negative` is given)."""
    is_positive: np.ndarray = matches(values, as_list(positive)).to_numpy()
    if negative is None:
        return is_positive.astype(np.int64)
    is_negative = matches(values, negative).to_numpy() & ~is_positive
    return np.where(is_positive, 1, np.where(is_negative, 0, DROPPED)).astype(np.int64)


def describe_dropped(values: pd.Series, codes: np.ndarray) -> dict[str, int]:
    """Count of dropped rows per outcome value (missing as "<missing>"), most frequent first."""
    dropped = values[codes == DROPPED]
    counts = dropped.astype(object).where(dropped.notna(), "<missing>").astype(str).value_counts()
    return {str(k): int(v) for k, v in counts.items()}


def target_problems(
    values: pd.Series, column: str, positive: Label | list[Label], negative: list[Label] | None
) -> list[str]:
    """Why `values` cannot be the target: missing labels, no positive or negative row, a non-binary column."""
    problems: list[str] = []
    mapped = is_mapping(positive, negative)
    if negative is None and values.isna().any():
        problems.append(f"target '{column}' has {int(values.isna().sum())} missing value(s)")
    labels = values.dropna()
    codes = outcome_codes(labels, positive, negative)
    seen = ", ".join(map(str, labels.unique()[:6]))
    shown = ", ".join(map(str, as_list(positive)))
    if not (codes == 1).any():
        problems.append(f"positive label '{shown}' not found in target '{column}' (values: {seen})")
    elif not (codes == 0).any():
        problems.append(f"target '{column}' has a single class: no good payer (values: {seen})")
    elif not mapped and labels.nunique() > 2:
        problems.append(
            f"target '{column}' has {labels.nunique()} distinct values; a binary target is required, or map the "
            "outcome: target: {column, positive: [...], negative: [...]}"
        )
    return problems
