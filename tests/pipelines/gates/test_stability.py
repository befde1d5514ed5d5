import json
import math
from statistics import NormalDist

import numpy as np
import pandas as pd
import pytest

from pipelines.gates.stability import Bins, bin_table, fit_bins, population_stability, psi, stability_status


def normal(mean: float = 0.0, n: int = 100_000, seed: int = 0) -> pd.Series:
    return pd.Series(np.random.default_rng(seed).normal(mean, 1.0, n), name="x")


def test_same_series_is_exactly_zero_and_same_generator_is_near_zero():
    reference = normal(seed=1)
    for kind, series in (("numeric", reference), ("categorical", pd.Series(["a", "b", "b", None]))):
        assert psi(fit_bins(series, kind), series) == 0.0
    assert psi(fit_bins(reference, "numeric"), normal(seed=2)) < 0.001


def test_hand_computed_numeric_example():
    # reference 1..10 in 2 bins: median edge 5, so E = (0.5, 0.5) and missing E = 0
    bins = fit_bins(pd.Series(np.arange(1.0, 11.0), name="x"), "numeric", n_bins=2)
    assert bins.edges == [5.0]
    assert bins.expected == [0.5, 0.5, 0.0]
    current = pd.Series([1, 1, 2, 3, 4, 5, 5, 6, 9, np.nan])  # 5 sits in (-inf, 5]: bins are right-closed
    a, e, eps = [0.7, 0.2, 0.1], [0.5, 0.5, 1e-4], 1e-4
    by_hand = sum((ai - ei) * math.log(ai / ei) for ai, ei in zip(a, e))
    assert psi(bins, current, epsilon=eps) == pytest.approx(by_hand, rel=1e-12)
    table = bin_table(bins, current)
    assert table["bin"].tolist() == ["(-inf, 5]", "(5, inf)", "missing"]
    assert table["actual"].tolist() == pytest.approx(a)
    assert table["contribution"].sum() == pytest.approx(psi(bins, current), rel=1e-12)


def test_hand_computed_categorical_example():
    bins = fit_bins(pd.Series(["north", "south", "south", "east"], name="region"), "categorical")
    assert bins.categories == ["east", "north", "south"]
    assert bins.expected == [0.25, 0.25, 0.5, 0.0, 0.0]
    current = pd.Series(["north", "north", "south", "mars"])  # east absent, mars unseen
    a = [1e-4, 0.5, 0.25, 0.25, 1e-4]
    e = [0.25, 0.25, 0.5, 1e-4, 1e-4]
    by_hand = sum((ai - ei) * math.log(ai / ei) for ai, ei in zip(a, e))
    assert psi(bins, current) == pytest.approx(by_hand, rel=1e-12)


def test_half_sd_mean_shift_matches_theory_and_large_shift_alerts():
    bins = fit_bins(normal(seed=3), "numeric")
    cuts = [-math.inf, *(NormalDist().inv_cdf(k / 10) for k in range(1, 10)), math.inf]
    shifted = [NormalDist(0.5).cdf(hi) - NormalDist(0.5).cdf(lo) for lo, hi in zip(cuts, cuts[1:])]
    theory = sum((a - 0.1) * math.log(a / 0.1) for a in shifted)  # 0.2377
    value = psi(bins, normal(0.5, seed=4))
    assert 0.23 < theory < 0.245
    assert value == pytest.approx(theory, abs=0.01)
    assert stability_status(value) == "warn"
    assert stability_status(psi(bins, normal(1.0, seed=5))) == "alert"


def test_numeric_bins_are_reference_deciles():
    reference = normal(n=10_000, seed=6)
    bins = fit_bins(reference, "numeric")
    assert len(bins.edges) == 9 and bins.edges == sorted(set(bins.edges))
    assert bins.expected[:10] == pytest.approx([0.1] * 10, abs=1e-12)
    assert bins.expected[10] == 0.0  # missing bin
    assert bins.edges == pytest.approx(np.quantile(reference, np.arange(1, 10) / 10), abs=0.01)


def test_missing_values_in_current_raise_psi_and_show_in_table():
    reference = normal(n=10_000, seed=7)
    bins = fit_bins(reference, "numeric")
    current = reference.copy()
    current[current.sample(frac=0.2, random_state=0).index] = np.nan
    assert psi(bins, reference) == 0.0
    assert psi(bins, current) > 0.25
    missing = bin_table(bins, current).set_index("bin").loc["missing"]
    assert missing["expected"] == 0.0 and missing["actual"] == pytest.approx(0.2)


def test_missing_reference_values_get_their_own_bin():
    bins = fit_bins(pd.Series([1.0, 2.0, 3.0, np.nan]), "numeric", n_bins=3)
    assert bins.expected[-1] == 0.25
    assert psi(bins, pd.Series([1.0, 2.0, 3.0, np.nan])) == 0.0


def test_categorical_unseen_goes_to_other_and_absent_category_stays_finite():
    bins = fit_bins(pd.Series(["a", "b", "c"] * 10, name="grade"), "categorical")
    current = pd.Series(["a", "a", "b", "d", "e", None], name="grade")
    table = bin_table(bins, current).set_index("bin")
    assert table.index.tolist() == ["a", "b", "c", "other", "missing"]
    assert table.loc["other", "actual"] == pytest.approx(2 / 6)
    assert table.loc["c", "actual"] == 0.0
    value = psi(bins, current)
    assert math.isfinite(value) and value > 0.25


def test_categorical_levels_compare_as_text():
    bins = fit_bins(pd.Series([1, 2, 2], name="code"), "categorical")
    assert bins.categories == ["1", "2"]
    assert psi(bins, pd.Series(["1", "2", "2"])) == 0.0
    assert psi(bins, pd.Series(pd.Categorical(["2", "1", "2"]))) == 0.0


def test_ties_collapse_edges():
    reference = pd.Series([1.0] * 50 + [2.0] * 30 + [3.0] * 20)
    bins = fit_bins(reference, "numeric")
    assert bins.edges == [1.0, 2.0]
    assert bins.expected == pytest.approx([0.5, 0.3, 0.2, 0.0])
    assert bin_table(bins, pd.Series([3.0, 4.0]))["bin"].tolist() == ["(-inf, 1]", "(1, 2]", "(2, inf)", "missing"]
    constant = fit_bins(pd.Series([7.0] * 5), "numeric")
    assert constant.edges == [] and constant.expected == [1.0, 0.0]


def test_bins_round_trip_through_json():
    reference, current = normal(n=5_000, seed=8), normal(0.3, n=5_000, seed=9)
    for kind, ref, cur in (
        ("numeric", reference, current),
        ("categorical", pd.Series(list("aabbc")), pd.Series(list("abccd"))),
    ):
        bins = fit_bins(ref, kind)
        again = Bins.from_dict(json.loads(json.dumps(bins.to_dict())))
        assert again == bins
        assert psi(again, cur) == psi(bins, cur)


def test_population_stability_orders_columns_by_psi():
    n = 5_000
    reference = pd.DataFrame(
        {"stable": normal(n=n, seed=10), "shifted": normal(n=n, seed=11), "grade": ["a", "b"] * (n // 2)}
    )
    current = pd.DataFrame({"stable": normal(n=n, seed=12), "shifted": normal(1.0, n=n, seed=13), "grade": ["a"] * n})
    table = population_stability(reference, current, numeric=["stable", "shifted"], categorical=["grade"])
    assert table.columns.tolist() == ["column", "kind", "psi"]
    assert table["column"].tolist() == ["grade", "shifted", "stable"]
    assert table["kind"].tolist() == ["categorical", "numeric", "numeric"]
    assert table["psi"].is_monotonic_decreasing
    assert table["psi"].iloc[1] == psi(fit_bins(reference["shifted"], "numeric"), current["shifted"])
    with pytest.raises(ValueError, match="column 'nope' is not in the reference frame"):
        population_stability(reference, current, numeric=["nope"], categorical=[])


@pytest.mark.parametrize(
    "value, status", [(0.0, "ok"), (0.0999, "ok"), (0.10, "warn"), (0.2499, "warn"), (0.25, "alert"), (3.0, "alert")]
)
def test_stability_status_thresholds(value, status):
    assert stability_status(value) == status


def test_stability_status_custom_thresholds_and_nan():
    assert stability_status(0.05, warn=0.05, alert=0.2) == "warn"
    with pytest.raises(ValueError):
        stability_status(float("nan"))


def test_psi_is_positive_both_ways():
    a, b = normal(n=20_000, seed=14), normal(0.3, n=20_000, seed=15)
    assert psi(fit_bins(a, "numeric"), b) > 0.01
    assert psi(fit_bins(b, "numeric"), a) > 0.01


def test_validation_names_the_column():
    empty = pd.Series([], dtype=float, name="income")
    with pytest.raises(ValueError, match="reference sample for column 'income' is empty"):
        fit_bins(empty, "numeric")
    bins = fit_bins(pd.Series([1.0, 2.0], name="income"), "numeric")
    with pytest.raises(ValueError, match="current sample for column 'income' is empty"):
        psi(bins, empty)
    with pytest.raises(ValueError, match="unknown kind 'ordinal'"):
        fit_bins(pd.Series([1.0]), "ordinal")
    with pytest.raises(ValueError, match="unknown kind"):
        Bins.from_dict({**bins.to_dict(), "kind": "ordinal"})
    with pytest.raises(ValueError, match="column 'region' must be numeric"):
        fit_bins(pd.Series(["north"], name="region"), "numeric")
