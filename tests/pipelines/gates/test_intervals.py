"""Holdout intervals: AUC by DeLong against the row bootstrap used before; the others by a vectorised bootstrap."""

import math

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from pipelines.gates import performance
from pipelines.gates.intervals import bootstrap_replicates, delong_auc_interval, holdout_intervals, resample_rows
from tests.conftest import GERMAN_SPEC


def loop_bootstrap_auc(y, p, n_boot=200, confidence=0.95, max_rows=20_000, seed=0):
    """The AUC interval creditflow computed before DeLong (pipelines/gates/performance.py `auc_interval`)."""
    rng = np.random.default_rng(seed)
    size = min(len(y), max_rows)
    values = []
    for _ in range(n_boot):
        rows = rng.integers(0, len(y), size)
        if 0 < y[rows].sum() < size:
            values.append(roc_auc_score(y[rows], p[rows]))
    tail = (1 - confidence) / 2 * 100
    return np.percentile(values, tail), np.percentile(values, 100 - tail)


def scored_sample(n, seed=0):
    rng = np.random.default_rng(seed)
    y = (rng.random(n) < 0.3).astype(int)
    p = np.clip(0.3 + 0.25 * (y - 0.3) + rng.normal(0, 0.2, n), 0.001, 0.999).round(3)  # rounding makes ties
    return y, p


@pytest.mark.parametrize("n", [200, 2000])
def test_delong_matches_the_row_bootstrap_it_replaces(n):
    y, p = scored_sample(n)
    delong = delong_auc_interval(y, p)
    boot = loop_bootstrap_auc(y, p)
    assert delong[0] < roc_auc_score(y, p) < delong[1]
    assert delong == pytest.approx(boot, abs=0.015)


def test_delong_on_german_credit_matches_the_old_bootstrap_within_a_point():
    frame = pd.read_csv(GERMAN_SPEC.parent / "data" / "german_credit.csv")
    y = (frame["creditability"] == "bad").to_numpy(int)
    score = frame["duration_in_month"].to_numpy(float) / 100  # a one-feature score on 1,000 applicants
    assert delong_auc_interval(y, score) == pytest.approx(loop_bootstrap_auc(y, score), abs=0.01)


def test_vectorised_replicates_equal_a_loop_over_the_same_resamples():
    y, p = scored_sample(500, seed=1)
    rows = resample_rows(len(y), seed=4, n_boot=30)
    replicates = bootstrap_replicates(y, p, rows)
    bands = pd.qcut(pd.Series(p).rank(method="first"), 10, labels=False).to_numpy()
    for b, r in enumerate(rows):
        values = performance.classification_metrics(y[r], p[r])
        assert replicates["ks"][b] == pytest.approx(values["ks"])
        assert replicates["brier"][b] == pytest.approx(values["brier"])
        assert replicates["citl"][b] == pytest.approx(p[r].mean() - y[r].mean())
        gaps = pd.DataFrame({"band": bands[r], "gap": p[r] - y[r]}).groupby("band")["gap"].sum().abs().sum()
        assert replicates["ece"][b] == pytest.approx(gaps / len(r))


def test_every_holdout_metric_gets_an_interval_around_its_value():
    y, p = scored_sample(3000, seed=2)
    intervals = holdout_intervals(y, p, seed=0)
    values = performance.classification_metrics(y, p)
    assert set(intervals) == {"auc", "gini", "ks", "brier", "ece", "citl"}
    for name in ("auc", "gini", "ks", "brier"):
        low, high = intervals[name]
        assert low < values[name] < high, name
    assert intervals["gini"] == pytest.approx(tuple(2 * v - 1 for v in intervals["auc"]))


def test_one_class_gives_no_auc_interval():
    assert all(math.isnan(v) for v in delong_auc_interval(np.zeros(50), np.linspace(0, 1, 50)))


def test_bootstrap_ks_matches_sorting_each_resample_by_score_ties_included():
    """The KS of each resample, ordered through the sample's ranks, equals the plain definition: sort the resample
    by score (riskiest first) and take the largest gap at the ends of runs of tied scores."""
    import numpy as np

    from pipelines.gates import intervals

    def by_score(yb, pb, bads):
        order = np.argsort(-pb, axis=1, kind="stable")
        ys, ps = np.take_along_axis(yb, order, axis=1), np.take_along_axis(pb, order, axis=1)
        cum_bad = np.cumsum(ys, axis=1)
        cum_good = np.arange(1, ys.shape[1] + 1) - cum_bad
        gap = np.abs(cum_bad / bads[:, None] - cum_good / (ys.shape[1] - bads)[:, None])
        tie_end = np.concatenate([ps[:, 1:] != ps[:, :-1], np.ones((len(ps), 1), dtype=bool)], axis=1)
        return np.where(tie_end, gap, 0.0).max(axis=1)

    rng = np.random.default_rng(3)
    for n, decimals in ((5_000, None), (2_000, 2), (300, 1)):
        p = rng.beta(1, 8, n)
        p = np.round(p, decimals) if decimals else p
        y = (rng.random(n) < np.clip(p, 0.02, 1)).astype(np.int64)
        rows = intervals.resample_rows(n, seed=1, n_boot=50)
        bads = y[rows].sum(axis=1)
        np.testing.assert_allclose(intervals._ks(y, p, rows, bads), by_score(y[rows], p[rows], bads), atol=1e-12)
