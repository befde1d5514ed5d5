"""The governed policy's human-in-the-loop terms: what an applicant's notice says (`notices`) and how far
underwriters' final decisions may depart from the model's before monitoring warns or alerts (`overrides`).

The refer band itself is a limit (`limits.refer`, features/policy_spec.py): a spec may widen it. These terms are
the risk function's alone: a spec has no say in them.
"""

from __future__ import annotations

from pydantic import Field, model_validator

from features.fairness_spec import Strict as _Strict

LOCALES = ("en", "zh")  # zh: Simplified Chinese (zh-Hans)


class NoticeTerms(_Strict):
    """The lender's side of an adverse-action notice: who the applicant contacts, where the templates are (a folder
    in the policy folder holding `<locale>.yaml`), whether the notice states the probability of default."""

    lender: str = ""
    contact: str = ""  # a notice without a contact is refused: the applicant's rights need somewhere to go
    templates: str = Field(default="notices", pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
    show_score: bool = False
    max_reasons: int = Field(default=4, ge=1, le=4)


class OverrideLimits(_Strict):
    """Final decisions against the model's: the share overridden, and the adverse impact ratio of final approvals
    falling below the model's (people reintroducing the bias the model avoided). `underwriter_counts`: whether a
    report may show counts per underwriter id (never a name)."""

    rate_warn: float = Field(default=0.20, ge=0, le=1)
    rate_alert: float = Field(default=0.35, ge=0, le=1)
    air_drop_warn: float = Field(default=0.05, ge=0, le=1)  # model AIR minus final AIR
    air_drop_alert: float = Field(default=0.10, ge=0, le=1)
    min_group_size: int = Field(default=30, ge=1)
    underwriter_counts: bool = False
    underwriter_column: bool = True  # False: a decisions file may not carry an underwriter column at all

    @model_validator(mode="after")
    def _ordered(self) -> "OverrideLimits":
        if self.rate_warn > self.rate_alert or self.air_drop_warn > self.air_drop_alert:
            raise ValueError("overrides: a warn limit is above its alert limit")
        return self
