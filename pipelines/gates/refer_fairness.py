"""Fairness with a human in the loop (issue 25, item 2): who the refer band sends to a person, by group.

A refer band is a decision too: if it sends one group to underwriters far more often than another, that group
waits longer, meets more human discretion and more chances of the bias the model was checked for. So beside the
approval rates the fairness gate reports, per sensitive attribute, each group's approve / refer / decline rates on
the main holdout through the one decision rule (pipelines/scoring/decision.py), and a spread of refer rates past
the policy's `refer.max_rate_difference` is a finding. Final (human) decisions are judged later, by monitoring
(`creditflow monitor --decisions`): at validation none exists yet. Pure: arrays in, findings out.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from pipelines.gates.gate import GateContext
from pipelines.scoring.decision import APPROVE_CODE, DECLINE_CODE, REFER_CODE, decision_codes, refer_rule

__all__ = ["ReferRates", "refer_rates"]


@dataclass
class ReferRates:
    table: pd.DataFrame  # attribute, group, n, approve_rate, refer_rate, decline_rate
    findings: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    metrics: dict[str, float] = field(default_factory=dict)


def refer_rates(context: GateContext) -> ReferRates | None:
    """The holdout's decisions by group under the spec's refer rule; None when the policy refers nobody."""
    spec = context.spec
    policy = spec.policy
    if not policy.refers:
        return None
    main = context.main
    rows, train = context.rows(main), context.rows("train")
    features = context.checked.features
    refer = policy.refer
    ranges = {}
    if refer.out_of_range:
        for name in spec.features.numeric:
            values = pd.to_numeric(features[name].iloc[train], errors="coerce").dropna()
            if len(values):
                ranges[name] = (float(values.min()), float(values.max()))
    thin = (refer.thin_file.feature, refer.thin_file.below) if refer.thin_file else None
    rule = refer_rule(policy.cutoff, below=refer.below, above=refer.above, thin_file=thin, ranges=ranges)
    holdout = features.iloc[rows].apply(pd.to_numeric, errors="coerce")
    uncertain = rule.uncertain(holdout) if rule is not None else None
    codes = decision_codes(context.scores[main], policy.cutoff, rule, uncertain)
    return judge(codes, context.checked.sensitive.iloc[rows], refer.max_rate_difference, policy.fairness.min_group_size)


def judge(codes: np.ndarray, sensitive: pd.DataFrame, limit: float, min_group_size: int) -> ReferRates:
    """Rates per group of each attribute; a finding where refer rates of judged groups differ by more than `limit`."""
    parts, found = [], ReferRates(pd.DataFrame())
    for name in sensitive.columns:
        groups = sensitive[name].astype(str).to_numpy()
        table = pd.DataFrame({"group": groups, "code": codes}).groupby("group")["code"]
        rates = pd.DataFrame(
            {
                "n": table.size(),
                "approve_rate": table.apply(lambda c: float(np.mean(c == APPROVE_CODE))),
                "refer_rate": table.apply(lambda c: float(np.mean(c == REFER_CODE))),
                "decline_rate": table.apply(lambda c: float(np.mean(c == DECLINE_CODE))),
            }
        ).reset_index()
        parts.append(rates.assign(attribute=name))
        judged = rates[rates["n"] >= min_group_size]
        if len(judged) < 2:
            found.notes.append(f"refer rates by {name}: fewer than two groups of {min_group_size}")
            continue
        high, low = judged.loc[judged["refer_rate"].idxmax()], judged.loc[judged["refer_rate"].idxmin()]
        spread = float(high["refer_rate"] - low["refer_rate"])
        found.metrics[f"fairness.refer.{name}.rate_difference"] = spread
        text = (
            f"refer rates by {name}: {high['group']} {high['refer_rate']:.1%} against {low['group']} "
            f"{low['refer_rate']:.1%} (difference {spread:.3f}, policy limit {limit:g})"
        )
        if spread > limit:
            found.findings.append(f"{text}: the refer band sends one group to underwriters far more often")
        else:
            found.notes.append(text)
    columns = ["attribute", "group", "n", "approve_rate", "refer_rate", "decline_rate"]
    found.table = pd.concat(parts, ignore_index=True)[columns] if parts else pd.DataFrame(columns=columns)
    return found
