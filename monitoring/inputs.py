"""What monitoring reads of a window or reference file, and its checks: the model's input columns present and
coerced (numbers float64, categories text) before any run is opened."""

from __future__ import annotations

import click
import pandas as pd

from features.errors import DataError
from features.spec import Spec
from features.transform import as_text, coerce_numeric
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
    out = frame[[c for c in frame.columns if c in wanted]].copy()  # a new frame: the caller's is never changed
    for name in spec.features.numeric:
        raw = frame[name]
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
        out[name] = numbers.values
    for name in spec.features.categorical:
        out[name] = as_text(frame[name])
    return out
