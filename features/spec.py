"""The experiment spec: the YAML a data scientist edits, validated into typed models.

Unknown keys, missing required keys and wrong types are rejected with one line that names
the file and the key, before any data is read or anything is written to MLflow.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path
from typing import Literal

import yaml
from pydantic import Field, PrivateAttr, ValidationError, model_validator

from features.errors import SpecError, describe_errors
from features.fairness_spec import Strict as _Strict
from features.monitoring_spec import MonitoringSpec
from features.policy import FolderPolicySource, GoverningPolicy, PolicySource, check_governed, govern, policy_folder
from features.policy_spec import PolicySpec
from features.policy_spec import StabilityPolicy as StabilityPolicy  # re-exported: pipelines/gates/stability.py
from features.synthetic_options import BookOptions
from features.target import Label, normalise_target
from features.tuning_spec import TuningSpec
from features.validation_spec import check_available_at, check_reason_times, check_reasons, check_reviewed


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
    synthetic: BookOptions | None = None  # generate the consumer-loan book in memory instead of reading a file
    target: str  # the outcome column; `target: {column, positive, negative}` is flattened into these three keys
    positive: Label | list[Label]
    negative: list[Label] | None = None  # given: rows whose value is in neither list are dropped and counted
    time: str | None = None
    id: str | None = None
    pii: list[str] = []
    sensitive: list[SensitiveAttribute] = []

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
    numeric: list[str] = []
    categorical: list[str] = []
    monotone: dict[str, Literal["increasing", "decreasing"]] = {}
    reviewed: dict[str, str] = {}  # feature -> why a leakage-screen finding on it is acceptable (shown on the card)
    # The data dictionary: when each feature is known. Only `application` may be a feature; a policy can require it.
    available_at: dict[str, Literal["application"]] = {}

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


class Spec(_Strict):
    name: str = Field(pattern=r"^[A-Za-z0-9_.-]+$")
    data: DataSpec
    features: FeatureSpec
    split: SplitSpec = SplitSpec()
    tuning: TuningSpec = TuningSpec()
    policy: PolicySpec = PolicySpec()
    monitoring: MonitoringSpec = MonitoringSpec()
    reasons: dict[str, str] = {}  # feature -> reason text shown to applicants
    _governing: GoverningPolicy | None = PrivateAttr(default=None)  # set by load_spec

    @property
    def governing(self) -> GoverningPolicy | None:
        """The policy the spec is judged under (None for a spec not read by `load_spec`)."""
        return self._governing

    @model_validator(mode="after")
    def _consistent(self) -> "Spec":
        _check_features(self)
        check_reasons(self.reasons, self.features.all())
        check_reviewed(self.features.reviewed, self.features.all())
        check_reason_times(self.reasons, self.policy.leakage.post_decision_terms)
        check_available_at(self.features.available_at, self.features.all(), self.policy.leakage.require_available_at)
        unknown = sorted(set(self.monitoring.drift.columns) - set(self.features.all()))
        if unknown:
            raise ValueError(f"monitoring.drift.columns: unknown feature(s): {', '.join(unknown)}")
        if self.split.method == "out_of_time" and self.data.time is None:
            raise ValueError("split.method 'out_of_time' needs data.time")
        unknown = sorted(set(self.policy.fairness.mitigation.attributes) - set(self.data.sensitive_names()))
        if unknown:
            raise ValueError(f"policy.fairness.mitigation.attributes: not in data.sensitive: {', '.join(unknown)}")
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
    forbidden: dict[str, Sequence[str | None]] = {  # id and time may be unset (None)
        "target": [spec.data.target],
        "id": [spec.data.id],
        "time": [spec.data.time],
        "pii": spec.data.pii,
        "sensitive": spec.data.sensitive_names() + spec.data.sensitive_sources(),
    }
    for role, columns in forbidden.items():
        clash = sorted(set(names) & {c for c in columns if c})
        if clash:
            raise ValueError(f"{role} column(s) cannot be model features: {', '.join(clash)}")
    not_numeric = sorted(set(spec.features.monotone) - set(spec.features.numeric))
    if not_numeric:
        raise ValueError(f"features.monotone applies to numeric features only: {', '.join(not_numeric)}")


def load_spec(path: str | Path, policies: PolicySource | None = None) -> Spec:
    """Read and validate a spec under its governing policy; every failure is a SpecError naming the file and key.

    `policies` says where the policy named by `policy.name` comes from (default: the project's policy folder).
    """
    path = Path(path)
    if not path.is_file():
        raise SpecError(f"spec file not found: {path}")
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError as exc:
        raise SpecError(
            f"{path}: not UTF-8 text (byte 0x{exc.object[exc.start]:02x} at position {exc.start})"
        ) from None
    except OSError as exc:
        raise SpecError(f"{path}: cannot read: {exc.strerror or exc}") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark else ""
        raise SpecError(f"{path}: invalid YAML{where}") from None
    if not isinstance(raw, dict):
        raise SpecError(f"{path}: expected a mapping of spec keys at the top level")
    raw, found, overrides = govern(raw, str(path), policies or FolderPolicySource(policy_folder(path.parent)))
    try:
        spec = Spec.model_validate(raw)
    except ValidationError as exc:
        raise SpecError(f"{path}: {describe_errors(exc)}") from None
    check_governed(spec.policy, spec.features.all(), found, overrides, str(path))
    spec._governing = found
    return spec


def spec_digest(path: str | Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()
