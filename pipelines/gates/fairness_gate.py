"""The fairness gate (`validation.fairness`, policy section `fairness`): approval rates by sensitive group and
intersection on the main holdout at the decision cutoff (pipelines/gates/fairness.py), the proxy screen on the
training rows, and the policy's watchlist of feature names. Without a declared sensitive attribute it is
`not_assessed`: nothing to judge it on is not a pass, so promotion needs an accepted exception."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from features.policy import matches
from pipelines.core.tags import NOT_ASSESSED
from pipelines.gates.gate import GateContext, GateResult, status_of

if TYPE_CHECKING:
    import pandas as pd

    from pipelines.gates.fairness import FairnessResult

__all__ = ["NO_ATTRIBUTE", "FairnessEvidence", "FairnessGate"]

NO_ATTRIBUTE = (
    "not assessed: no sensitive attribute is declared in data.sensitive, so fairness cannot be measured; "
    "promotion needs an accepted exception"
)


@dataclass(frozen=True)
class FairnessEvidence:
    """The gate's detail: the group verdict (None without a sensitive attribute), the proxy candidates, and the
    features whose names match the policy's watchlist (feature, pattern)."""

    result: FairnessResult | None
    proxies: pd.DataFrame | None = None
    watchlist: list[tuple[str, str]] = field(default_factory=list)


class FairnessGate:
    name = "fairness"
    policy_section = "fairness"
    title = "Fairness (approval rates by group)"

    def evaluate(self, context: GateContext) -> GateResult:
        spec, checked = context.spec, context.checked
        watchlist = matches(spec.features.all(), spec.governing.policy.proxy_watchlist) if spec.governing else []
        if checked.sensitive.empty:
            evidence = FairnessEvidence(None, watchlist=watchlist)
            return GateResult(self.name, NOT_ASSESSED, findings=[NO_ATTRIBUTE], detail=evidence)
        from pipelines.gates.fairness import fairness_gate, metric_name, proxy_candidates
        from pipelines.gates.figures import fairness_figure
        from pipelines.gates.refer_fairness import refer_rates

        main, settings = context.main, spec.policy.fairness
        found = fairness_gate(
            context.labels(main),
            context.scores[main],
            sensitive=checked.sensitive.iloc[context.rows(main)],
            cutoff=spec.policy.cutoff,
            policy=settings,
            seed=spec.tuning.seed,
        )
        train = context.rows("train")
        proxies = proxy_candidates(
            checked.features.iloc[train],
            sensitive=checked.sensitive.iloc[train],
            numeric=spec.features.numeric,
            categorical=spec.features.categorical,
            threshold=settings.proxy_auc,
            seed=spec.tuning.seed,
        )
        tables = {f"fairness/groups_{metric_name(g.name)}.csv": g.table for g in found.groupings.values()}
        refused, reviewed = proxies_refused(proxies, settings.proxy_refuse, spec.features.reviewed)
        referral = refer_rates(context)  # None when the policy refers nobody (pipelines/gates/refer_fairness.py)
        if referral is not None:
            refused, reviewed = refused + referral.findings, reviewed + referral.notes
            tables["fairness/refer_rates.csv"] = referral.table
        return GateResult(
            self.name,
            _status(found.verdict.reasons, refused),
            findings=list(found.verdict.reasons) + refused,
            notes=list(found.verdict.notes) + reviewed,
            metrics={**found.metrics(), **(referral.metrics if referral else {})},
            tables={**tables, "fairness/proxy_candidates.csv": proxies},
            figures={"fairness/approval_rates.png": fairness_figure(found)},
            detail=FairnessEvidence(found, proxies, watchlist),
        )


def _status(reasons: list[str], refused: list[str]) -> str:
    """Failed on a broken limit or a refused proxy; not assessed when every reason is that the verdict could not be
    reached (the cutoff declines nobody, a group declined too rarely): nothing judged is not a pass either."""
    if not reasons and not refused:
        return status_of(True)
    if not refused and all(r.startswith("not assessable") or ": not assessable: " in r for r in reasons):
        return NOT_ASSESSED
    return status_of(False)


def proxies_refused(proxies: pd.DataFrame, refuse: float, reviewed: dict[str, str]) -> tuple[list[str], list[str]]:
    """Features that predict a sensitive attribute at or above `refuse` (an exact copy of race scores 1.0): findings,
    unless `features.reviewed` justifies the feature (then a note with the justification)."""
    findings, notes = [], []
    for row in proxies[proxies["auc"] >= refuse].itertuples(index=False):
        text = f"proxy: '{row.feature}' predicts {row.attribute} with AUC {row.auc:.3f} (refused at {refuse:g})"
        if row.feature in reviewed:
            notes.append(f"{text}; reviewed: {reviewed[str(row.feature)]}")
        else:
            findings.append(f"{text}: it stands in for the attribute; justify it in features.reviewed or drop it")
    return findings, notes


def fairness_evidence(result: GateResult) -> FairnessEvidence:
    """The fairness gate's detail, typed."""
    evidence = result.detail
    if not isinstance(evidence, FairnessEvidence):
        raise TypeError(f"gate {result.name} holds no fairness evidence")
    return evidence
