import numpy as np
import pandas as pd
import pytest

from features.errors import DataError
from features.spec import SplitSpec
from features.split import split_rows


def labels(rows=1000, rate=0.2, seed=0):
    return (np.random.default_rng(seed).uniform(size=rows) < rate).astype(int)


def test_random_split_is_disjoint_stratified_and_seeded():
    y = labels()
    split = split_rows(y, SplitSpec(valid_size=0.2, test_size=0.25, seed=3))
    parts = [split.train, split.valid, split.test]
    assert sum(len(p) for p in parts) == len(y)
    assert len(np.unique(np.concatenate(parts))) == len(y)
    assert len(split.test) == 250 and len(split.valid) == 200
    for part in parts:
        assert abs(y[part].mean() - y.mean()) < 0.01
    again = split_rows(y, SplitSpec(valid_size=0.2, test_size=0.25, seed=3))
    assert np.array_equal(again.test, split.test)
    other = split_rows(y, SplitSpec(valid_size=0.2, test_size=0.25, seed=4))
    assert not np.array_equal(other.test, split.test)
    assert split.oot is None


def test_out_of_time_holds_out_the_last_months():
    y = labels(rows=1200)
    months = pd.Series(pd.date_range("2024-01-01", periods=12, freq="MS").repeat(100))
    split = split_rows(y, SplitSpec(method="out_of_time", oot_months=3), months)
    assert split.oot_start == "2024-10"
    assert months[split.oot].min() == pd.Timestamp("2024-10-01")
    in_time = np.concatenate([split.train, split.valid, split.test])
    assert months[in_time].max() == pd.Timestamp("2024-09-01")
    assert len(in_time) + len(split.oot) == len(y)


def test_out_of_time_needs_enough_months():
    months = pd.Series(pd.to_datetime(["2024-01-01"] * 50 + ["2024-02-01"] * 50))
    with pytest.raises(DataError, match="more than 6 distinct months"):
        split_rows(labels(100), SplitSpec(method="out_of_time"), months)


def test_too_few_of_a_class():
    y = np.zeros(100, dtype=int)
    y[:2] = 1
    with pytest.raises(DataError, match="too few rows of one class"):
        split_rows(y, SplitSpec())


def test_a_sample_without_both_classes_is_refused():
    """10 applicants, 3 bad: stratified splitting still leaves a sample with goods only, on which no
    performance metric exists (the run used to fail inside MLflow with a FAILED run left behind)."""
    y = np.array([1, 1, 1, 0, 0, 0, 0, 0, 0, 0])
    with pytest.raises(DataError, match="too few rows to split: the (valid|test) sample .* has no bad"):
        split_rows(y, SplitSpec())
