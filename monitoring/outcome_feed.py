"""An outcomes file (`id`, `defaulted`, `observed_at`) checked and joined by id to the scored book. Pure.

The book is the rows of the `--current` file decided up to the window's month (its id and time columns, the
version's PD of each); the file is the servicing system's snapshot as of the window: every loan's status once.
Refused, with one line naming the problem: a missing column, an id twice, an id the book does not hold, a flag
other than 0/1, an unparseable date, an observation before the loan's decision month, or after the window's month
(more months on book than the window allows). Ids stay in memory: only counts leave (monitoring/vintage.py).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from features.contract import parse_dates
from features.errors import DataError

COLUMNS = ("id", "defaulted", "observed_at")


@dataclass(frozen=True)
class Joined:
    """The book's loans that have an outcome, aligned: cohort (its month as year * 12 + month - 1), PD, flag,
    months on book observed."""

    cohort: np.ndarray
    pd_12m: np.ndarray
    defaulted: np.ndarray
    months_observed: np.ndarray
    months_on_book: np.ndarray  # at the window: a cohort is judged at h months only once all of it reached h


def month_number(dates: pd.Series) -> np.ndarray:
    return (dates.dt.year * 12 + dates.dt.month - 1).to_numpy(np.int64)


def month_label(number: int) -> str:
    """YYYY-MM of a month number (`label_number`'s inverse)."""
    return f"{number // 12:04d}-{number % 12 + 1:02d}"


def label_number(label: str) -> int:
    year, month = map(int, label.split("-"))
    return year * 12 + month - 1


def check_outcomes(outcomes: pd.DataFrame, name: str) -> pd.DataFrame:
    """The file's three columns, ids as text, flags as 0/1 and dates parsed; DataError otherwise."""
    missing = [c for c in COLUMNS if c not in outcomes.columns]
    if missing:
        raise DataError(f"outcomes {name}: missing column(s) {', '.join(missing)} (needs id, defaulted, observed_at)")
    if outcomes.empty:
        raise DataError(f"outcomes {name}: the file has no rows")
    ids = outcomes["id"].astype(str)
    twice = ids[ids.duplicated()]
    if len(twice):
        raise DataError(f"outcomes {name}: {twice.nunique()} id(s) appear more than once (one status per loan)")
    flag = pd.to_numeric(outcomes["defaulted"], errors="coerce")
    bad = flag.isna() | ~flag.isin([0, 1])
    if bad.any():
        example = outcomes.loc[bad, "defaulted"].iloc[0]
        raise DataError(f"outcomes {name}: defaulted must be 0 or 1, got {example!r} ({int(bad.sum())} row(s))")
    dates = parse_dates(outcomes["observed_at"])
    if dates.isna().any():
        raise DataError(f"outcomes {name}: observed_at has {int(dates.isna().sum())} missing or unparseable date(s)")
    return pd.DataFrame({"id": ids.to_numpy(), "defaulted": flag.astype(np.int64).to_numpy(), "observed_at": dates})


def join_outcomes(
    outcomes: pd.DataFrame, book_ids: pd.Series, decided: pd.Series, pd_12m: np.ndarray, window: str, name: str
) -> Joined:
    """`outcomes` (checked) joined by id to the book; the window (YYYY-MM) bounds the months on book."""
    position = pd.Index(book_ids.astype(str))
    if not position.is_unique:
        raise DataError("the current data repeats ids: outcomes cannot be joined to one loan each")
    at = position.get_indexer(outcomes["id"])
    unknown = at < 0
    if unknown.any():
        raise DataError(
            f"outcomes {name}: {int(unknown.sum())} id(s) are not in the current data up to window {window}"
        )
    decision = month_number(decided.iloc[at].reset_index(drop=True))
    observed = month_number(outcomes["observed_at"].reset_index(drop=True))
    early = observed < decision
    if early.any():
        raise DataError(f"outcomes {name}: {int(early.sum())} observed_at date(s) before the loan's decision month")
    late = observed > label_number(window)
    if late.any():
        raise DataError(
            f"outcomes {name}: {int(late.sum())} observed_at date(s) after window {window} "
            "(more months on book than the window allows)"
        )
    return Joined(
        decision,
        np.asarray(pd_12m)[at],
        outcomes["defaulted"].to_numpy(),
        observed - decision,
        label_number(window) - decision,
    )
