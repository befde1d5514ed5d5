"""The experiment spec: the YAML a data scientist edits, validated into typed models.

A spec is checked whole before any data is read or anything is written to MLflow: unknown keys, missing required
keys, wrong types, problems between sections and limits the governed policy forbids are all listed in one
SpecError, each with its key and, where it helps, the right form (one line when there is one problem).
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import yaml
from pydantic import Field, PrivateAttr, TypeAdapter, ValidationError, model_validator

from features.errors import SpecError
from features.fairness_spec import Strict as _Strict
from features.monitoring_spec import MonitoringSpec
from features.policy import FolderPolicySource, GoverningPolicy, PolicySource, govern, governed_problems, policy_folder
from features.policy_rules import deep_merge
from features.policy_spec import PolicySpec
from features.policy_spec import StabilityPolicy as StabilityPolicy  # re-exported: pipelines/gates/stability.py
from features.spec_rules import Problem, Sections, cross_problems, validation_problems
from features.spec_sections import DataSpec as DataSpec
from features.spec_sections import FeatureSpec as FeatureSpec
from features.spec_sections import SensitiveAttribute as SensitiveAttribute
from features.spec_sections import SplitSpec as SplitSpec
from features.tuning_spec import TuningSpec


class Spec(_Strict):
    name: str = Field(pattern=r"^[A-Za-z0-9_.-]+$", description="the MLflow experiment and registered model")
    data: DataSpec = Field(description="where the rows come from and what each column is")
    features: FeatureSpec = Field(description="the model's inputs")
    split: SplitSpec = Field(default=SplitSpec(), description="how rows are split into train, valid, test (, oot)")
    tuning: TuningSpec = Field(default=TuningSpec(), description="the Optuna study and the XGBoost parameters")
    policy: PolicySpec = Field(
        default=PolicySpec(), description="`name`: the governed policy; other keys may only tighten its limits"
    )
    monitoring: MonitoringSpec = Field(default=MonitoringSpec(), description="what `creditflow monitor` watches")
    reasons: dict[str, str] = Field(
        default={}, description="feature -> the reason text a declined applicant reads; every feature needs one"
    )
    reasons_generic: list[str] = Field(
        default=[],
        description="features whose reason text compliance review found generic (CFPB Circular 2023-03): a notice "
        "that would give one is refused until the text is rewritten",
    )
    _governing: GoverningPolicy | None = PrivateAttr(default=None)  # set by load_spec

    @property
    def governing(self) -> GoverningPolicy | None:
        """The policy the spec is judged under (None for a spec not read by `load_spec`)."""
        return self._governing

    @model_validator(mode="after")
    def _consistent(self) -> "Spec":
        problems = cross_problems(
            Sections(
                self.data, self.features, self.split, self.policy, self.monitoring, self.reasons, self.reasons_generic
            )
        )
        if problems:
            raise ValueError("; ".join(str(p) for p in problems))
        return self


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
    problems, spec = spec_problems(raw, str(path), policies or FolderPolicySource(policy_folder(path.parent)))
    if problems or spec is None:
        raise SpecError(describe_problems(str(path), problems))
    return spec


def spec_problems(raw: dict[str, Any], where: str, policies: PolicySource) -> tuple[list[Problem], Spec | None]:
    """Every problem of a spec's mapping at once, and the spec when there is none."""
    problems: list[Problem] = []
    try:
        merged, found, overrides = govern(raw, where, policies)
    except SpecError as exc:  # the policy cannot be read: the rest is checked against the defaults
        problems.append(Problem("", str(exc).removeprefix(f"{where}: ")))
        section = raw.get("policy")
        own = {k: v for k, v in section.items() if k not in ("name", "file")} if isinstance(section, dict) else {}
        merged, found, overrides = {**raw, "policy": deep_merge(PolicySpec().model_dump(), own)}, None, own
    try:
        spec: Spec | None = Spec.model_validate(merged)
    except ValidationError as exc:
        spec = None
        # the error of the whole spec (Spec._consistent) joins the cross-section problems: listed one by one here
        problems += validation_problems(exc, Spec, whole=False) + cross_problems(_sections(merged))
    parts = _sections(merged)
    if found is not None and parts.policy is not None and parts.features is not None:
        problems += governed_problems(parts.policy, parts.features.all(), found, overrides)
    if spec is not None and found is not None:
        spec._governing = found
    return problems, (spec if not problems else None)


def _sections(raw: dict[str, Any]) -> Sections:
    """Each section the cross-section checks read, validated on its own (None: invalid or missing)."""
    parts: dict[str, Any] = {}
    for name in ("data", "features", "split", "policy", "monitoring", "reasons", "reasons_generic"):
        field = Spec.model_fields[name]
        value = raw.get(name) if name in raw else field.get_default(call_default_factory=True)
        try:
            annotation: Any = field.annotation
            parts[name] = TypeAdapter(annotation).validate_python(value)
        except (ValidationError, TypeError, ValueError):
            parts[name] = None
    return Sections(**parts)


def describe_problems(where: str, problems: list[Problem]) -> str:
    """One line for one problem; a count and one indented line per problem for several."""
    if len(problems) == 1:
        return f"{where}: {problems[0]}"
    return f"{where}: {len(problems)} problems:\n" + "\n".join(f"  - {p}" for p in problems)


def spec_digest(path: str | Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()
