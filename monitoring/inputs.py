"""What monitoring reads of a window or reference file, and its checks: the model's input columns present and
coerced (numbers float64, categories text) before any run is opened."""

from __future__ import annotations

import click
import numpy as np
import pandas as pd

from features.errors import DataError
from features.spec import Spec
from features.transform import LARGEST_NUMBER, as_text, coerce_numeric
from monitoring.drift import Columns


def read_columns(spec: Spec) -> set[str]:
    """What monitoring reads: model inputs, target, time, sensitive sources (PII is never even loaded)."""
    names = (*spec.features.all(), spec.data.target, spec.data.time, *spec.data.sensitive_sources())
    return {name for name in names if name is not None}


def columns_of(spec: Spec) -> Columns:
    """The model's input columns monitoring judges for drift, by kind (both engines judge the same ones)."""
    return Columns(spec.features.numeric, spec.features.categorical)


def validate(frame: pd.DataFrame, spec: Spec, role: str) -> pd.DataFrame:
    """The model's input columns coerced (numbers float64, categories text), other columns kept; DataError otherwise."""
    if frame.empty:
        raise DataError(f"{role}: the data has no rows")
    missing = [c for c in spec.features.all() if c not in frame.columns]
    if missing:
        raise DataError(f"{role}: missing model column(s): {', '.join(missing)}")
    wanted = read_columns(spec)
    # a new frame sharing the untouched columns (coerced ones are new arrays): the caller's is never changed, and a
    # 1M-row window is not copied whole
    columns = {c: frame[c] for c in frame.columns if c in wanted}
    for name in spec.features.numeric:
        raw = frame[name]
        if raw.dtype == np.float64 and not (np.abs(raw.to_numpy()) > LARGEST_NUMBER).any():
            continue  # already what coerce_numeric returns: shared, not copied (200 MB for 25 columns of 1M rows)
        numbers = coerce_numeric(raw)
        if numbers.not_numbers.any():
            bad = numbers.not_numbers
            raise DataError(
                f"{role}: column '{name}' must be numeric, got '{raw[bad].iloc[0]}' ({int(bad.sum())} value(s))"
            )
        if numbers.out_of_range.any():  # the rest of the window is still worth judging
            bad = numbers.out_of_range
            click.echo(
                f"warning: {role}: column '{name}' has {int(bad.sum())} infinite or too large value(s), e.g. "
                f"'{raw[bad].iloc[0]}': monitored as missing"
            )
        columns[name] = numbers.values
    for name in spec.features.categorical:
        values = frame[name]
        text_levels = isinstance(values.dtype, pd.CategoricalDtype) and pd.api.types.infer_dtype(
            values.cat.categories
        ) in ("string", "empty")
        columns[name] = values if text_levels else as_text(values)  # text categoricals (Parquet dictionaries) kept
    return pd.DataFrame(columns, copy=False)
