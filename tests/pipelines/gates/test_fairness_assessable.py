"""Fairness on almost nothing (issue 23.5): with 1.5% declines fairness said "passed"; now an attribute with a judged
group declined fewer times than the policy's `min_declines` is not assessable. Equalized odds, which needs
`min_group_size` defaulters per group and was judged on none of five real books, is judged with its interval from
the policy's smaller `min_eo_outcomes` (EO_METHOD), else named as not judged. Every group too small to judge is named
with its approval rate (the youngest age band's adverse impact no longer leaves the verdict unread)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from features.fairness_spec import FairnessPolicy
from pipelines.core.tags import FAILED, NOT_ASSESSED
from pipelines.gates.fairness import fairness_gate
from pipelines.gates.fairness_gate import _status


def book(n: int, defaults: float, decline_share: float, seed: int = 4, groups=("a", "b")):
    """Scores where about `decline_share` of applicants are declined at the cutoff 0.5, independent of the group."""
    rng = np.random.default_rng(seed)
    group = rng.choice(list(groups), n)
    y = (rng.random(n) < defaults).astype(int)
    p = np.where(rng.random(n) < decline_share, 0.8, 0.2)
    return y, p, pd.DataFrame({"region": group})


def test_a_book_that_declines_almost_nobody_is_not_assessable_under_a_declines_minimum():
    y, p, groups = book(1000, 0.1, 0.015)
    loose = fairness_gate(y, p, sensitive=groups, cutoff=0.5, policy=FairnessPolicy(n_boot=20))
    assert loose.verdict.passed  # the finding: "passed" on about 15 declines
    found = fairness_gate(y, p, sensitive=groups, cutoff=0.5, policy=FairnessPolicy(n_boot=20, min_declines=10))
    (reason,) = found.verdict.reasons
    assert reason.startswith("region: not assessable: a (") and "declined (the policy needs at least 10" in reason
    assert _status(found.verdict.reasons, []) == NOT_ASSESSED
    assert _status([*found.verdict.reasons, "region: adverse impact ratio 0.5 below 0.80"], []) == FAILED


def test_enough_declines_in_every_group_is_judged_as_before():
    y, p, groups = book(1000, 0.1, 0.2)
    found = fairness_gate(y, p, sensitive=groups, cutoff=0.5, policy=FairnessPolicy(n_boot=20, min_declines=10))
    assert not any("not assessable" in r for r in found.verdict.reasons)


def odds_book(gap: float) -> tuple[np.ndarray, np.ndarray, pd.DataFrame]:
    """Two groups of 150 with 15 defaulters each (under 30): 12 of group a's defaulters are declined and `gap` fewer
    of group b's (as a share of 15); 27 of each group's good payers."""
    y, declined, group = [], [], []
    for name, caught in (("a", 12), ("b", round(12 - 15 * gap))):
        y += [1] * 15 + [0] * 135
        declined += [1] * caught + [0] * (15 - caught) + [1] * 27 + [0] * 108
        group += [name] * 150
    return np.array(y), np.where(np.array(declined) == 1, 0.9, 0.1), pd.DataFrame({"region": group})


RATES_ANY = {"max_dp_difference": 1.0, "min_air": 0.01}  # these tests are about equalized odds only


def test_equalized_odds_is_not_judged_without_a_smaller_minimum_and_says_so():
    y, p, groups = odds_book(0.6)
    found = fairness_gate(y, p, sensitive=groups, cutoff=0.5, policy=FairnessPolicy(n_boot=50, **RATES_ANY))
    assert found.verdict.passed
    assert any("equalized odds not judged: 2 of 2 groups under 30 defaulters" in n for n in found.verdict.notes)


def test_a_large_equalized_odds_gap_on_small_groups_is_a_breach_from_the_smaller_minimum():
    y, p, groups = odds_book(0.6)
    policy = FairnessPolicy(n_boot=200, min_eo_outcomes=10, **RATES_ANY)
    found = fairness_gate(y, p, sensitive=groups, cutoff=0.5, policy=policy)
    assert not found.verdict.passed
    (reason,) = [r for r in found.verdict.reasons if "equalized-odds" in r]
    assert "2 groups of 10+ defaulters and good payers; 95% interval" in reason
    assert any("equalized odds on 2 of 2 with intervals (10+ defaulters" in n for n in found.verdict.notes)


def test_a_small_gap_whose_interval_reaches_past_the_limit_is_named_not_determined():
    y, p, groups = odds_book(0.0)
    found = fairness_gate(
        y, p, sensitive=groups, cutoff=0.5, policy=FairnessPolicy(n_boot=200, min_eo_outcomes=10, **RATES_ANY)
    )
    undetermined = [n for n in found.verdict.notes if "equalized odds not determined" in n]
    assert undetermined and "reaches above it" in undetermined[0]


@pytest.mark.parametrize("young", [12, 25])
def test_every_group_under_the_minimum_size_is_named_with_its_approval_rate(young):
    rng = np.random.default_rng(0)
    ages = np.r_[np.repeat("18-25", young), rng.choice(["25-35", "35-50", "50+"], 600)]
    y = (rng.random(len(ages)) < 0.2).astype(int)
    p = np.where(ages == "18-25", 0.9, np.where(rng.random(len(ages)) < 0.2, 0.9, 0.1))
    found = fairness_gate(
        y, p, sensitive=pd.DataFrame({"age_band": ages}), cutoff=0.5, policy=FairnessPolicy(n_boot=20)
    )
    criteria = next(n for n in found.verdict.notes if "criteria judged" in n)
    assert f"(18-25 n={young} under 30: not judged)" in criteria
    small = next(n for n in found.verdict.notes if "reported but not judged" in n)
    assert f"18-25 (n={young}, 0.0% approved, 0.00 of the most favoured judged group)" in small
