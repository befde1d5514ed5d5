"""The fairness gate: each sensitive attribute (and their intersection) judged against the fairness policy.

Sensitive attributes are measured only, never model features. The measures are in
`pipelines/gates/fairness_groups.py` (see its docstring for the conventions), the proxy screen in
`pipelines/gates/proxies.py`; this module holds the results and the verdict.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from features.fairness_spec import FairnessPolicy
from pipelines.gates.fairness_coverage import (
    EO_METHOD,
    JUDGED,
    SmallerEo,
    coverage_notes,
    criteria_judged,
    few_declines,
    smaller_eo,
)
from pipelines.gates.fairness_groups import (
    INTERVAL_METHOD,
    JOIN,
    TPR_FPR_WORDS,
    _cell_counts,
    _encode,
    _factorize,
    _inputs,
    _intervals,
    _table,
    bootstrap_intervals,
    disparity,
    group_metrics,
    json_safe,
    metric_name,
)
from pipelines.gates.proxies import proxy_candidates
from pipelines.scoring.decision import declined

__all__ = [
    "EO_METHOD",
    "INTERVAL_METHOD",
    "JUDGED",
    "JOIN",
    "TPR_FPR_WORDS",
    "FairnessPolicy",
    "FairnessResult",
    "FairnessVerdict",
    "GroupingResult",
    "bootstrap_intervals",
    "disparity",
    "fairness_gate",
    "group_metrics",
    "json_safe",
    "metric_name",
    "proxy_candidates",
]


@dataclass
class FairnessVerdict:
    passed: bool
    reasons: list[str] = field(default_factory=list)  # limits broken, or an attribute that cannot be judged
    notes: list[str] = field(default_factory=list)  # small groups, undefined rates, one-sided decisions


@dataclass
class GroupingResult:
    """One attribute, or the intersection of all: group table, disparity and bootstrap intervals."""

    name: str
    table: pd.DataFrame
    disparity: dict[str, float | str]
    intervals: dict[str, tuple[float, float]]


@dataclass
class FairnessResult:
    cutoff: float
    policy: FairnessPolicy
    groupings: dict[str, GroupingResult]
    verdict: FairnessVerdict

    def metrics(self) -> dict[str, float]:
        """Flat MLflow metrics (fairness.sex.air, fairness.sex.air_low, ...); undefined (NaN) values are left out."""
        out = {"fairness.passed": float(self.verdict.passed)}
        for name, g in self.groupings.items():
            numbers, _ = _split(g.disparity)
            for key, (low, high) in g.intervals.items():
                numbers.update({f"{key}_low": low, f"{key}_high": high})
            out.update({f"fairness.{metric_name(name)}.{k}": float(v) for k, v in numbers.items() if not math.isnan(v)})
        return out

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe (NaN becomes None); tables become lists of records."""
        groupings = {
            name: {"table": g.table.to_dict(orient="records"), "disparity": g.disparity, "intervals": g.intervals}
            for name, g in self.groupings.items()
        }
        return json_safe(
            {
                "cutoff": self.cutoff,
                "policy": self.policy.limits(),
                "interval_method": INTERVAL_METHOD,
                "eo_method": EO_METHOD if self.policy.min_eo_outcomes else None,
                "passed": self.verdict.passed,
                "reasons": self.verdict.reasons,
                "notes": self.verdict.notes,
                "groupings": groupings,
            }
        )


def fairness_gate(
    y_true: npt.ArrayLike,
    p_default: npt.ArrayLike,
    *,
    sensitive: pd.DataFrame,
    cutoff: float,
    policy: FairnessPolicy,
    seed: int = 0,
) -> FairnessResult:
    """Judge each attribute alone and, with `policy.intersections` and several attributes, their intersection.

    Fails on a POINT estimate beyond a limit (intervals are shown, not judged). Fails closed when an
    attribute has fewer than two groups of `min_group_size`: fairness cannot be shown. An intersection
    in that state is only noted, since intersections of a small portfolio are routinely too small. A cutoff
    that declines nobody (or everybody) is "not assessable": equal approval rates then mean no decision.
    """
    y, p, frame = _inputs(y_true, p_default, sensitive, cutoff)
    factors = {c: _factorize(frame[c]) for c in frame.columns}
    names = {c: [c] for c in frame.columns}
    if policy.intersections and len(frame.columns) > 1:
        names[JOIN.join(frame.columns)] = list(frame.columns)
    order, is_declined = np.argsort(p, kind="stable"), declined(p, cutoff)
    verdict, groupings = FairnessVerdict(passed=True), {}
    if not is_declined.any() or is_declined.all():
        # equal approval rates of 1 (or 0) in every group say nothing about fair treatment: no decision was made
        verdict.reasons.append(
            f"not assessable: the cutoff {cutoff:g} declines {'everybody' if is_declined.all() else 'nobody'}"
        )
    for name, cols in names.items():
        codes, keys = _encode(frame[cols], factors)
        table = _table(codes, keys, y, p, cutoff, policy.min_group_size, order)
        counts = _cell_counts(codes, y, is_declined, len(keys))
        groupings[name] = GroupingResult(name, table, disparity(table), _intervals(counts, policy, seed))
        smaller = smaller_eo(groupings[name], counts, policy, seed)
        _judge(groupings[name], policy, verdict, attribute=len(cols) == 1, smaller=smaller)
    verdict.passed = not verdict.reasons
    return FairnessResult(cutoff, policy, groupings, verdict)


def _judge(
    g: GroupingResult,
    policy: FairnessPolicy,
    verdict: FairnessVerdict,
    attribute: bool,
    smaller: SmallerEo | None = None,
) -> None:
    """Add the grouping's notes (small groups, undefined rates) and reasons (limits broken) to the verdict.

    An attribute that cannot be judged is a reason (fail closed); an intersection in that state only a note. So is
    an attribute with a judged group declined fewer than `min_declines` times (not assessable).
    """
    judged = g.table[~g.table["too_small"]]
    verdict.notes.append(criteria_judged(g, policy.min_group_size, smaller))
    verdict.notes.extend(coverage_notes(g, policy.min_group_size, judged))
    if len(judged) < 2:
        (verdict.reasons if attribute else verdict.notes).append(
            f"{g.name}: no two groups of at least {policy.min_group_size} applicants ({len(judged)} large enough): "
            "cannot judge"
        )
        return
    rare = few_declines(judged, policy.min_declines)
    if rare:
        (verdict.reasons if attribute else verdict.notes).append(
            f"{g.name}: not assessable: {rare} declined (the policy needs at least {policy.min_declines} "
            "declines in every judged group: equal approval rates near 1 say nothing about fair treatment)"
        )
    numbers, groups = _split(g.disparity)
    if math.isnan(numbers["eo_difference"]):
        if smaller is None:
            verdict.notes.append(
                f"{g.name}: equalized odds not judged: fewer than two groups hold {policy.min_group_size} defaulters "
                f"and {policy.min_group_size} good payers"
            )
        else:
            _judge_smaller(g.name, smaller, policy, verdict)
    verdict.reasons.extend(_breaches(g, numbers, groups, policy))


def _judge_smaller(name: str, eo: SmallerEo, policy: FairnessPolicy, verdict: FairnessVerdict) -> None:
    low, high = eo.interval
    limit = policy.max_eo_difference
    where = f"{eo.groups} groups of {eo.outcomes}+ defaulters and good payers; {policy.confidence:.0%} interval"
    if eo.value > limit + 1e-12:
        verdict.reasons.append(
            f"{name}: equalized-odds difference {_fmt(eo.value)} above {limit:.2f} ({where} {_fmt(low)}-{_fmt(high)})"
        )
    elif not high <= limit + 1e-12:
        verdict.notes.append(
            f"{name}: equalized odds not determined: {_fmt(eo.value)} within {limit:.2f} but its interval "
            f"{_fmt(low)}-{_fmt(high)} reaches above it ({where})"
        )


def _breaches(g: GroupingResult, d: dict[str, float], groups: dict[str, str], policy: FairnessPolicy) -> list[str]:
    """One reason per limit the POINT estimate breaks, with the groups or rate gaps behind it and its interval."""
    pair = (
        f"{groups['least_favoured']} {d['least_favoured_rate']:.3f} vs "
        f"{groups['most_favoured']} {d['most_favoured_rate']:.3f}"
    )
    odds = f"TPR gap {_fmt(d['tpr_difference'])}, FPR gap {_fmt(d['fpr_difference'])}"
    tol = 1e-12  # 0.9 - 0.6 is 0.30000000000000004: a value at the limit passes
    reasons = []
    for key, label, broken, limit, detail in (
        ("air", "adverse impact ratio {} below", d["air"] < policy.min_air - tol, policy.min_air, pair),
        (
            "dp_difference",
            "approval-rate difference {} above",
            d["dp_difference"] > policy.max_dp_difference + tol,
            policy.max_dp_difference,
            pair,
        ),
        (
            "eo_difference",
            "equalized-odds difference {} above",
            d["eo_difference"] > policy.max_eo_difference + tol,
            policy.max_eo_difference,
            odds,
        ),
    ):
        if broken:
            low, high = g.intervals[key]
            reasons.append(
                f"{g.name}: {label.format(_fmt(d[key]))} {limit:.2f} ({detail}; "
                f"{policy.confidence:.0%} interval {_fmt(low)}-{_fmt(high)})"
            )
    return reasons


def _split(disparity: dict[str, float | str]) -> tuple[dict[str, float], dict[str, str]]:
    """The disparity's numbers and its group names apart: the dict mixes both for reports, the rules need types."""
    numbers = {k: v for k, v in disparity.items() if not isinstance(v, str)}
    names = {k: v for k, v in disparity.items() if isinstance(v, str)}
    return numbers, names


def _fmt(value: float) -> str:
    return "undefined" if math.isnan(value) else f"{value:.3f}"
