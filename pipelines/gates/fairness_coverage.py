"""What the fairness verdict rests on and what it leaves out: the groups too small to judge (each named, with its
approval rate beside the most favoured judged group's), the groups declined too rarely to assess, and equalized odds
judged from the policy's smaller minimum with its interval (EO_METHOD). Pure: group tables in, sentences out."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Protocol

import numpy as np
import pandas as pd

from features.fairness_spec import FairnessPolicy
from pipelines.gates.fairness_groups import _intervals, disparity


class GroupingResult(Protocol):
    """What these sentences read of a grouping (pipelines/gates/fairness.py GroupingResult)."""

    name: str
    table: pd.DataFrame
    disparity: dict[str, float | str]


def _fmt(value: float) -> str:
    return "undefined" if math.isnan(value) else f"{value:.3f}"


def few_declines(judged: pd.DataFrame, minimum: int) -> str:
    """The judged groups declined fewer than `minimum` times, as 'a (2), b (0)' (empty when none)."""
    if minimum <= 0:
        return ""
    declines = (judged["n"] * (1 - judged["approval_rate"])).round().astype(int)
    low = judged.assign(declines=declines)[declines < minimum]
    return ", ".join(f"{r.group} ({r.declines} of {r.n})" for r in low.itertuples())


@dataclass(frozen=True)
class SmallerEo:
    """Equalized odds over the groups holding `outcomes` defaulters and good payers (fewer than min_group_size),
    with its bootstrap interval: judged when the point breaks the limit or the interval lies within it."""

    outcomes: int
    groups: int
    total: int
    value: float
    interval: tuple[float, float]


EO_METHOD = (
    "equalized odds on groups under min_group_size defaulters: the gap over the groups holding min_eo_outcomes "
    "defaulters and good payers, with its stratified bootstrap interval; a breach when the point estimate is above "
    "the limit, a pass only when the whole interval is within it, otherwise not determined"
)


def smaller_eo(g: GroupingResult, counts: np.ndarray, policy: FairnessPolicy, seed: int) -> SmallerEo | None:
    """Equalized odds from the policy's smaller minimum, when the usual one leaves fewer than two groups."""
    least = policy.min_eo_outcomes
    if least is None or least >= policy.min_group_size or not math.isnan(float(g.disparity["eo_difference"])):
        return None
    table = g.table.assign(too_few_outcomes=(g.table["defaulters"] < least) | (g.table["good_payers"] < least))
    judged = table[~table["too_small"] & ~table["too_few_outcomes"]]
    if len(judged) < 2:
        return None
    value = float(disparity(table)["eo_difference"])
    interval = _intervals(counts, policy, seed, outcomes=least)["eo_difference"]
    return SmallerEo(least, len(judged), len(table), value, interval)


JUDGED = "criteria judged"  # the note that says which criteria a grouping's verdict rests on (read by the page)


def criteria_judged(g: GroupingResult, min_group_size: int, smaller: SmallerEo | None = None) -> str:
    """Which criteria the grouping's verdict rests on: approval-rate criteria (AIR, approval-rate gap) on the groups
    of at least `min_group_size` applicants, equalized odds on those that also hold that many defaulters and good
    payers (at least two groups each), else from the policy's smaller minimum with intervals, else not judged.
    Every group left out is named. "passed" then says what it passed on."""
    total, judged = len(g.table), g.table[~g.table["too_small"]]
    outcomes = judged[~judged["too_few_outcomes"]]
    rates = f"approval rates on {len(judged)} of {total} groups" if len(judged) >= 2 else "approval rates not judged"
    small = g.table[g.table["too_small"]]
    if len(small):
        rates += f" ({', '.join(f'{r.group} n={r.n}' for r in small.itertuples())} under {min_group_size}: not judged)"
    if len(outcomes) >= 2:
        odds = f"equalized odds on {len(outcomes)} of {total}"
    elif smaller is not None:
        odds = (
            f"equalized odds on {smaller.groups} of {total} with intervals ({smaller.outcomes}+ defaulters and good "
            f"payers; {total - len(outcomes)} of {total} groups under {min_group_size} defaulters)"
        )
    else:
        odds = f"equalized odds not judged: {total - len(outcomes)} of {total} groups under {min_group_size} defaulters"
    return f"{g.name}: {JUDGED}: {rates}; {odds}"


def coverage_notes(g: GroupingResult, min_group_size: int, judged: pd.DataFrame) -> list[str]:
    """Notes on what the verdict leaves out: every group too small to judge (with its approval rate beside the most
    favoured judged group's, so a small group's adverse impact is read, not dropped), and TPR/FPR undefined in a
    judged group."""
    notes, small = [], g.table[g.table["too_small"]]
    if len(small):
        top = float(judged["approval_rate"].max()) if len(judged) else math.nan
        listed = ", ".join(
            f"{r.group} (n={r.n}, {r.approval_rate:.1%} approved"
            + (f", {r.approval_rate / top:.2f} of the most favoured judged group" if top > 0 else "")
            + ")"
            for r in small.itertuples()
        )
        notes.append(
            f"{g.name}: {len(small)} group(s) under {min_group_size} applicants reported but not judged: {listed}"
        )
    few = judged[judged["too_few_outcomes"]]
    if len(few):
        listed = ", ".join(
            f"{r.group} ({r.defaulters} defaulters, {r.good_payers} good payers)" for r in few.itertuples()
        )
        notes.append(
            f"{g.name}: TPR/FPR not judged for {len(few)} group(s) under {min_group_size} defaulters or good payers: "
            f"{listed}"
        )
    return notes
