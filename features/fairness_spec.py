"""Fairness settings of the spec (`policy.fairness`): the gate's limits and the mitigated challenger."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class Strict(BaseModel):
    """Spec models reject unknown keys."""

    model_config = ConfigDict(extra="forbid")


class MitigationSpec(Strict):
    """A less-discriminatory alternative: fairlearn ExponentiatedGradient over XGBoost, reported beside the model.

    The challenger needs no sensitive attribute at scoring time; it is trained on the training rows
    under `constraint` for `attributes` (default: every sensitive attribute).
    """

    enabled: bool = False
    when: Literal["failed", "always"] = Field(
        default="failed", description="train it only when the gate failed, or always"
    )
    constraint: Literal[
        "equalized_odds",
        "demographic_parity",
        "true_positive_rate_parity",
        "false_positive_rate_parity",
        "error_rate_parity",
    ] = "equalized_odds"
    difference_bound: float = Field(default=0.02, gt=0, lt=1)
    attributes: list[str] = []
    max_iter: int = Field(default=30, ge=1, le=500)
    max_rows: int = Field(default=20_000, ge=100, description="training rows sampled for the reduction")


class FairnessPolicy(Strict):
    """Fairness limits, chosen per jurisdiction (`policy.fairness`): the one definition read by the fairness gate,
    by outcome monitoring and by the reports. A value exactly at a limit passes; `rationale` is shown in the report."""

    min_air: float = Field(default=0.8, gt=0, le=1)
    max_dp_difference: float = Field(default=0.1, ge=0)
    max_eo_difference: float = Field(default=0.1, ge=0)
    min_group_size: int = Field(default=30, ge=1)
    min_declines: int = Field(
        default=0,
        ge=0,
        description="an attribute with a judged group declined fewer times than this is not assessable: approval "
        "rates near 1 everywhere say nothing about fair treatment",
    )
    min_eo_outcomes: int | None = Field(
        default=None,
        ge=1,
        description="when fewer than two groups hold min_group_size defaulters and good payers, equalized odds is "
        "judged with its interval over the groups holding this many (None: not judged)",
    )
    confidence: float = Field(default=0.95, gt=0, lt=1)
    n_boot: int = Field(default=200, ge=1)
    intersections: bool = True
    proxy_auc: float = Field(
        default=0.65, gt=0.5, le=1, description="a feature predicting an attribute this well is listed"
    )
    proxy_refuse: float = Field(
        default=0.95,
        gt=0.5,
        le=1,
        description="a feature predicting an attribute this well stands in for it: it fails the gate unless "
        "features.reviewed justifies it",
    )
    rationale: str = (
        "Four-fifths rule for the adverse impact ratio (US EEOC practice, used by lenders for ECOA/Reg B "
        "disparate-impact review); 0.10 limits on approval-rate and equalized-odds gaps."
    )
    mitigation: MitigationSpec = MitigationSpec()

    def limits(self) -> dict[str, object]:
        """The gate's settings as reported with its verdict (not the proxy screen or the challenger)."""
        return self.model_dump(exclude={"proxy_auc", "proxy_refuse", "mitigation"})
