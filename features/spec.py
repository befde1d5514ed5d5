"""The experiment spec: the YAML a data scientist edits, validated into typed models.

Unknown keys, missing required keys and wrong types are rejected with one line that names
the file and the key, before any data is read or anything is written to MLflow.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from features.errors import SpecError


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SyntheticSource(_Strict):
    """Generate the consumer-loan book in memory instead of reading a file."""

    rows: int = Field(gt=0)
    seed: int = Field(default=0, ge=0)
    start_month: str = "2024-01"
    months: int = Field(default=24, gt=0)
    bias: float = Field(default=0.0, ge=0)
    drift_income: float = Field(default=0.0, gt=-1)
    drift_utilisation: float = 0.0
    drift_mix: float = Field(default=0.0, ge=0, le=1)


class SensitiveAttribute(_Strict):
    """A sensitive attribute: a raw column as it is, or derived from one by a value map or bins.

    Written in YAML as a plain column name, or as {name, column, map | bins}.
    """

    name: str
    column: str | None = None
    map: dict[str, str] | None = None
    bins: list[float] | None = None

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
    source: str | None = None
    synthetic: SyntheticSource | None = None
    target: str
    positive: int | str
    time: str | None = None
    id: str | None = None
    pii: list[str] = []
    sensitive: list[SensitiveAttribute] = []

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
    numeric: list[str] = []
    categorical: list[str] = []
    monotone: dict[str, Literal["increasing", "decreasing"]] = {}

    def all(self) -> list[str]:
        return [*self.numeric, *self.categorical]

    def monotone_vector(self) -> list[int]:
        """XGBoost's monotone_constraints, in model-input order (numeric then categorical)."""
        sign = {"increasing": 1, "decreasing": -1}
        return [sign.get(self.monotone.get(name, ""), 0) for name in self.all()]


class SplitSpec(_Strict):
    method: Literal["random", "out_of_time"] = "random"
    valid_size: float = Field(default=0.2, gt=0, lt=1)
    test_size: float = Field(default=0.2, gt=0, lt=1)
    oot_months: int = Field(default=6, gt=0)
    seed: int = 42


class XGBoostParams(_Strict):
    """Parameters of the candidate model; tuning searches around them."""

    max_depth: int = Field(default=4, ge=1, le=16)
    learning_rate: float = Field(default=0.05, gt=0, le=1)
    min_child_weight: float = Field(default=1.0, ge=0)
    subsample: float = Field(default=0.8, gt=0, le=1)
    colsample_bytree: float = Field(default=0.8, gt=0, le=1)
    reg_lambda: float = Field(default=1.0, ge=0)
    reg_alpha: float = Field(default=0.0, ge=0)
    gamma: float = Field(default=0.0, ge=0)
    max_rounds: int = Field(default=1000, gt=0)
    early_stopping_rounds: int = Field(default=50, gt=0)
    nthread: int = Field(default=0, ge=0, description="0 = all cores")


class TuningSpec(_Strict):
    seed: int = 42
    params: XGBoostParams = XGBoostParams()


class PerformancePolicy(_Strict):
    minimum: dict[str, float] = {"auc": 0.70}
    maximum: dict[str, float] = {}
    max_baseline_uplift: float = Field(default=0.05, gt=0)


class PolicySpec(_Strict):
    cutoff: float = Field(default=0.5, gt=0, lt=1, description="decline when PD >= cutoff")
    performance: PerformancePolicy = PerformancePolicy()


class Spec(_Strict):
    name: str = Field(pattern=r"^[A-Za-z0-9_.-]+$")
    data: DataSpec
    features: FeatureSpec
    split: SplitSpec = SplitSpec()
    tuning: TuningSpec = TuningSpec()
    policy: PolicySpec = PolicySpec()

    @model_validator(mode="after")
    def _consistent(self) -> "Spec":
        _check_features(self)
        if self.split.method == "out_of_time" and self.data.time is None:
            raise ValueError("split.method 'out_of_time' needs data.time")
        if self.split.valid_size + self.split.test_size >= 1:
            raise ValueError("split.valid_size + split.test_size must be below 1")
        return self


def _check_features(spec: Spec) -> None:
    names = spec.features.all()
    if not names:
        raise ValueError("features: declare at least one numeric or categorical feature")
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise ValueError(f"features declared twice: {', '.join(twice)}")
    forbidden = {
        "target": [spec.data.target], "id": [spec.data.id], "time": [spec.data.time],
        "pii": spec.data.pii, "sensitive": spec.data.sensitive_names() + spec.data.sensitive_sources(),
    }
    for role, columns in forbidden.items():
        clash = sorted(set(names) & {c for c in columns if c})
        if clash:
            raise ValueError(f"{role} column(s) cannot be model features: {', '.join(clash)}")
    not_numeric = sorted(set(spec.features.monotone) - set(spec.features.numeric))
    if not_numeric:
        raise ValueError(f"features.monotone applies to numeric features only: {', '.join(not_numeric)}")


def load_spec(path: str | Path) -> Spec:
    """Read and validate a spec file; every failure is a SpecError naming the file and key."""
    path = Path(path)
    if not path.is_file():
        raise SpecError(f"spec file not found: {path}")
    try:
        raw = yaml.safe_load(path.read_text())
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark else ""
        raise SpecError(f"{path}: invalid YAML{where}") from None
    if not isinstance(raw, dict):
        raise SpecError(f"{path}: expected a mapping of spec keys at the top level")
    try:
        return Spec.model_validate(raw)
    except ValidationError as exc:
        raise SpecError(f"{path}: {_describe(exc)}") from None


def _describe(exc: ValidationError) -> str:
    """One line per spec: 'key: problem' for each error, joined."""
    parts = []
    for err in exc.errors():
        # pydantic adds validator and union-branch names to locations; users never wrote those
        key = ".".join(str(p) for p in err["loc"] if "[" not in str(p) and p not in ("int", "str"))
        if err["type"] == "extra_forbidden":
            parts.append(f"unknown key '{key}'")
        elif err["type"] == "missing":
            parts.append(f"missing required key '{key}'")
        else:
            message = err["msg"].removeprefix("Value error, ")
            parts.append(f"{key}: {message}" if key else message)
    return "; ".join(dict.fromkeys(parts))


def spec_digest(path: str | Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()
