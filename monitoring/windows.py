"""Monitoring windows: calendar months of a time column, labelled YYYY-MM. Pure functions."""

from __future__ import annotations

import datetime as dt
import re

import pandas as pd

from features.contract import parse_dates
from features.errors import DataError

MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")


def previous_month(today: dt.date) -> str:
    """The last complete calendar month before `today`, as YYYY-MM (the default window)."""
    first = today.replace(day=1)
    return (first - dt.timedelta(days=1)).strftime("%Y-%m")


def is_month(label: str) -> bool:
    return bool(MONTH.match(label))


def months_of(values: pd.Series, column: str) -> pd.Series:
    """The YYYY-MM month of each row; a missing or unparseable date is a DataError."""
    times = parse_dates(values)
    bad = times.isna()
    if bad.any():
        raise DataError(
            f"time column '{column}' has {int(bad.sum())} missing or unparseable date(s), e.g. '{values[bad].iloc[0]}'"
        )
    return times.dt.strftime("%Y-%m")


def select_month(frame: pd.DataFrame, column: str, label: str) -> pd.DataFrame:
    """The rows of month `label`; none is a DataError naming the months the data covers."""
    months = months_of(frame[column], column)
    rows = frame[months == label]
    if rows.empty:
        raise DataError(f"no rows in window {label} (time column '{column}' covers {months.min()} to {months.max()})")
    return rows.reset_index(drop=True)


def split_months(frame: pd.DataFrame, column: str) -> list[tuple[str, pd.DataFrame]]:
    """(month, rows) for every month present, in calendar order."""
    months = months_of(frame[column], column)
    return [(label, rows.reset_index(drop=True)) for label, rows in frame.groupby(months.to_numpy(), sort=True)]


def month_index(label: str, origin: str) -> int:
    """Months from `origin` to `label` (both YYYY-MM): the metrics step, so every run of a version charts on
    one axis."""
    year, month = map(int, label.split("-"))
    year0, month0 = map(int, origin.split("-"))
    return (year - year0) * 12 + (month - month0)
