"""The sections of an experiment spec that other sections refer to: the data, the features and the split.

Their own module so that the checks spanning sections (`features/spec_rules.py`) and the spec itself
(`features/spec.py`, which re-exports them) build on them without a cycle.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from features.fairness_spec import Strict as _Strict
from features.synthetic_options import BookOptions
from features.target import Label, normalise_target


class SensitiveAttribute(_Strict):
    """A sensitive attribute: a raw column as it is, or derived from one by a value map or bins.

    Written in YAML as a plain column name, or as {name, column, map | bins}.
    """

    name: str = Field(description="the attribute's name in fairness reports (a column name when used as it is)")
    column: str | None = Field(default=None, description="the raw column it is derived from (default: name)")
    map: dict[str, str] | None = Field(default=None, description="raw value -> group, e.g. personal status -> sex")
    bins: list[float] | None = Field(default=None, description="increasing edges banding a number, e.g. age")

    @model_validator(mode="before")
    @classmethod
    def _from_name(cls, value: object) -> object:
        return {"name": value} if isinstance(value, str) else value

    @model_validator(mode="after")
    def _one_rule(self) -> "SensitiveAttribute":
        if self.map is not None and self.bins is not None:
            raise ValueError(f"sensitive attribute '{self.name}' takes 'map' or 'bins', not both")
        if self.bins is not None and (len(self.bins) < 2 or sorted(self.bins) != self.bins):
            raise ValueError(f"sensitive attribute '{self.name}': 'bins' must be at least two increasing edges")
        return self

    @property
    def source(self) -> str:
        return self.column or self.name


class DataSpec(_Strict):
    source: str | None = Field(default=None, description="a CSV or Parquet file, relative to the spec")
    synthetic: BookOptions | None = Field(
        default=None, description="generate the consumer-loan book in memory instead of reading a file"
    )
    target: str = Field(
        description="the outcome column; `target: {column, positive, negative}` maps an outcome with more values"
    )
    positive: Label | list[Label] = Field(description="the value (or values) that is a default")
    negative: list[Label] | None = Field(
        default=None, description="good payers; given, rows whose value is in neither list are dropped and counted"
    )
    time: str | None = Field(default=None, description="the application date column (needed for out-of-time)")
    id: str | None = Field(default=None, description="a unique row identifier, written beside scores")
    pii: list[str] = Field(default=[], description="personal data: never read, never in an artifact")
    sensitive: list[SensitiveAttribute] = Field(
        default=[], description="attributes fairness is judged on; never features, nor the columns they come from"
    )

    @model_validator(mode="before")
    @classmethod
    def _outcome_mapping(cls, value: object) -> object:
        return normalise_target(value)

    @model_validator(mode="after")
    def _one_source(self) -> "DataSpec":
        if (self.source is None) == (self.synthetic is None):
            raise ValueError("data needs exactly one of 'source' (a CSV/Parquet path) or 'synthetic'")
        return self

    def sensitive_names(self) -> list[str]:
        return [s.name for s in self.sensitive]

    def sensitive_sources(self) -> list[str]:
        """Raw columns that sensitive attributes are read or derived from."""
        return [s.source for s in self.sensitive]


class FeatureSpec(_Strict):
    numeric: list[str] = Field(default=[], description="numeric model inputs")
    categorical: list[str] = Field(default=[], description="categorical model inputs (unseen categories: missing)")
    monotone: dict[str, Literal["increasing", "decreasing"]] = Field(
        default={}, description="numeric feature -> the direction risk may only move with it"
    )
    reviewed: dict[str, str] = Field(
        default={}, description="feature -> why a leakage-screen finding on it is acceptable (shown on the card)"
    )
    # The data dictionary: when each feature is known. Only `application` may be a feature; a policy can require it.
    available_at: dict[str, Literal["application"]] = Field(
        default={}, description="feature -> when it is known (only `application`); the policy can require it"
    )

    def all(self) -> list[str]:
        return [*self.numeric, *self.categorical]

    def monotone_vector(self) -> list[int]:
        """XGBoost's monotone_constraints, in model-input order (numeric then categorical)."""
        sign = {"increasing": 1, "decreasing": -1}
        return [sign.get(self.monotone.get(name, ""), 0) for name in self.all()]


class SplitSpec(_Strict):
    method: Literal["random", "out_of_time"] = Field(
        default="random", description="out_of_time holds out the latest months (needs data.time)"
    )
    valid_size: float = Field(default=0.2, gt=0, lt=1, description="share for early stopping and tuning")
    test_size: float = Field(default=0.2, gt=0, lt=1, description="share of the holdout the gates judge")
    oot_months: int = Field(default=6, gt=0, description="the latest months held out as the out-of-time sample")
    seed: int = Field(default=42, description="the random split's seed")
