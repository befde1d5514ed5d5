"""The cross-validated leakage check (issue 23.2): a field that adds more AUC to all the other features than an
application field can is found whatever the logistic baseline does; overlapping honest features are not; a book
with fewer than MIN_FEATURES features is not judged (a two-feature scorecard is no leak)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from pipelines.gates.leakage_cv import MIN_FEATURES, incremental_auc, paired_difference


def book(n: int = 4000, leak: bool = True, seed: int = 0) -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(seed)
    risk = rng.normal(size=n)
    y = (rng.random(n) < 1 / (1 + np.exp(-(-2.0 + risk)))).astype(int)
    frame = pd.DataFrame({f"x{i}": risk + rng.normal(scale=1.5, size=n) for i in range(5)})
    frame["region"] = rng.choice(["n", "s", "e"], n)
    if leak:
        frame["balance_figure"] = np.where(y == 1, rng.beta(2, 3, n), rng.beta(3, 1.5, n))
    return frame, y


def test_a_field_known_after_the_decision_adds_more_than_the_limit_with_confidence():
    frame, y = book()
    found = incremental_auc(frame, y, ["balance_figure", "x0"])
    value, low = found["balance_figure"]
    assert low > 0.05 and value > low
    assert found["x0"][0] < 0.05  # an honest feature overlaps the others


def test_honest_overlapping_features_add_little():
    frame, y = book(leak=False)
    assert all(low < 0.05 for _, low in incremental_auc(frame, y, ["x0", "x1"]).values())


def test_too_few_features_are_not_judged():
    frame, y = book()
    assert incremental_auc(frame[list(frame.columns[: MIN_FEATURES - 1])], y, ["x0"]) == {}


def test_the_paired_difference_of_a_score_with_itself_is_zero_and_a_better_score_is_ahead():
    rng = np.random.default_rng(1)
    y = (rng.random(2000) < 0.2).astype(int)
    good, noise = y + rng.normal(size=2000), rng.normal(size=2000)
    assert paired_difference(y, good, good)[0] == pytest.approx(0.0)
    diff, low = paired_difference(y, good, noise)
    assert diff > 0.2 and 0 < low < diff
