"""Outcome snapshots of a generated book: what a servicing system reports about each loan as of a month.

A loan that defaults within 12 months (`default_12m`) defaults in a month on book drawn evenly from 1 to 12
(seeded: the same book and seed give the same months), the timing the vintage back-test assumes. As of month
`as_of`, every loan booked before it has one row: `defaulted` 1 with `observed_at` the default's month if that
month has come, else 0 with `observed_at` the last month seen performing (at most 12 months on book). Pure.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from features.errors import DataError

HORIZON = 12


def default_months(defaulted: np.ndarray, seed: int) -> np.ndarray:
    """Months on book of each default (1..12), 0 for loans that do not default."""
    rng = np.random.default_rng([seed, 12_036])
    months = rng.integers(1, HORIZON + 1, len(defaulted))
    return np.where(np.asarray(defaulted) == 1, months, 0)


def _number(month: str) -> int:
    year, number = map(int, month.split("-"))
    return year * 12 + number - 1


def snapshot(
    book: pd.DataFrame, *, id_column: str, time_column: str, target: str, seed: int, as_of: str
) -> pd.DataFrame:
    """The outcomes file (id, defaulted, observed_at) of `book` as of month `as_of` (YYYY-MM)."""
    booked = pd.to_datetime(book[time_column])
    cohort = (booked.dt.year * 12 + booked.dt.month - 1).to_numpy(np.int64)
    limit = _number(as_of)
    if limit <= cohort.min():
        raise DataError(f"--outcomes-as-of {as_of} is not after the book's first month: no loan has an outcome yet")
    months = default_months(book[target].to_numpy(), seed)
    seen = cohort < limit
    default_month = cohort + months
    known_default = (months > 0) & (default_month <= limit)
    observed = np.where(known_default, default_month, np.minimum(limit, cohort + HORIZON))
    years, rest = np.divmod(observed[seen], 12)
    dates = pd.to_datetime({"year": years, "month": rest + 1, "day": np.ones_like(years)})
    return pd.DataFrame(
        {
            "id": book[id_column].to_numpy()[seen],
            "defaulted": known_default[seen].astype(np.int64),
            "observed_at": dates.dt.strftime("%Y-%m-%d").to_numpy(),
        }
    )
