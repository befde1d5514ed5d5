"""Splitting applicants into train / validation / test, and out-of-time when the spec asks.

Random: stratified on the target. Out-of-time: the last `oot_months` months are held out as
the out-of-time sample; the earlier months are split at random (stratified) into train,
validation and an in-time test set, as credit validation teams expect.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.model_selection import train_test_split

from features.errors import DataError
from features.spec import SplitSpec


@dataclass(frozen=True)
class Split:
    """Row positions of each sample in the checked data."""

    train: np.ndarray
    valid: np.ndarray
    test: np.ndarray
    oot: np.ndarray | None = None
    oot_start: str | None = None  # first out-of-time month, YYYY-MM

    @property
    def main(self) -> str:
        """The holdout verdicts lead with: out-of-time when there is one, else the in-time test."""
        return "oot" if self.oot is not None else "test"

    def samples(self) -> dict[str, np.ndarray]:
        named = {"train": self.train, "valid": self.valid, "test": self.test}
        if self.oot is not None:
            named["oot"] = self.oot
        return named


def split_rows(target: np.ndarray, spec: SplitSpec, time: pd.Series | None = None) -> Split:
    """Positions for each sample; seeded, so the same data and spec give the same split."""
    positions = np.arange(len(target))
    oot, oot_start = None, None
    if spec.method == "out_of_time":
        if time is None:
            raise DataError("split.method 'out_of_time' needs the data's time column")
        in_time, oot, oot_start = _out_of_time(time, spec.oot_months)
        positions = positions[in_time]
    train, valid, test = _random_three_way(positions, target, spec)
    split = Split(np.sort(train), np.sort(valid), np.sort(test), oot, oot_start)
    _require_both_classes(split, target)
    return split


def _require_both_classes(split: Split, target: np.ndarray) -> None:
    """Every sample needs goods and bads: AUC, KS and early stopping mean nothing on one class."""
    for name, rows in split.samples().items():
        bads = int(target[rows].sum())
        lacking = "bad" if bads == 0 else "good" if bads == len(rows) else None
        if lacking:
            raise DataError(
                f"too few rows to split: the {name} sample ({len(rows)} rows) has no {lacking}; every sample "
                f"needs both goods and bads (the data has {len(target)} rows, {int(target.sum())} bad)"
            )


def _out_of_time(time: pd.Series, oot_months: int) -> tuple[np.ndarray, np.ndarray, str]:
    months = time.dt.to_period("M")
    distinct = np.sort(months.unique())
    if len(distinct) <= oot_months:
        raise DataError(
            f"out-of-time split needs more than {oot_months} distinct months in the time "
            f"column; the data has {len(distinct)}"
        )
    first_oot = distinct[-oot_months]
    is_oot = (months >= first_oot).to_numpy()
    return ~is_oot, np.flatnonzero(is_oot), str(first_oot)


def _random_three_way(
    positions: np.ndarray, target: np.ndarray, spec: SplitSpec
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    labels = target[positions]
    counts = np.bincount(labels, minlength=2)
    if counts.min() < 3:
        raise DataError(
            f"too few rows of one class to split (bad: {counts[1]}, good: {counts[0]}); need at least 3 of each"
        )
    rest, test = train_test_split(positions, test_size=spec.test_size, stratify=labels, random_state=spec.seed)
    valid_share = spec.valid_size / (1.0 - spec.test_size)
    train, valid = train_test_split(rest, test_size=valid_share, stratify=target[rest], random_state=spec.seed)
    return train, valid, test
