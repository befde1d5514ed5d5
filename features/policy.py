"""The governed policy: the lender's limits for every gate, the prohibited features and the exception terms.

The risk function writes a policy file (`experiments/policies/*.yaml`); a spec names it (`policy.file`) and
may make a limit stricter, never looser (`features/policy_rules.py`). A spec that names no file is judged
under the built-in `creditflow-default` policy, by the same rule. Where a policy comes from is a
`PolicySource`: a file beside the spec here, the version's own run when a version is read back, the
tracking server in team mode. Its name, version and digest become registry tags and evidence.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any, Protocol

import yaml
from pydantic import Field, ValidationError

from features.errors import SpecError, describe_errors
from features.fairness_spec import Strict as _Strict
from features.policy_rules import deep_merge, leaves, looser
from features.policy_spec import PolicySpec


class ExceptionTerms(_Strict):
    """How long an accepted exception to a failed gate may last, and who may grant one."""

    max_days: int = Field(default=90, ge=1, le=730)
    granted_by: list[str] = []  # logins allowed to grant; empty: anyone except the version's author


class Policy(_Strict):
    """A policy file, validated. `limits` has the shape of a spec's `policy` section (every key optional)."""

    name: str = Field(pattern=r"^[A-Za-z0-9_.-]+$")
    version: str
    owner: str = ""
    description: str = ""
    limits: PolicySpec = PolicySpec()
    prohibited_features: list[str] = []  # names or shell patterns (`*marital*`), case-insensitive
    proxy_watchlist: list[str] = []  # names known to stand in for a protected characteristic (`*postcode*`)
    exceptions: ExceptionTerms = ExceptionTerms()


@dataclass(frozen=True)
class GoverningPolicy:
    """A policy as its source gave it: the document as written (what the digest covers) and where it came from."""

    policy: Policy
    document: dict[str, Any]
    origin: str
    stated: set[str] = field(default_factory=set)  # dotted limit paths the document writes

    @property
    def label(self) -> str:
        return f"{self.policy.name} v{self.policy.version}"

    @property
    def digest(self) -> str:
        return policy_digest(self.document)


class PolicySource(Protocol):
    """Where governing policies come from; `ref` is the spec's `policy.file` (None: the source's default)."""

    def load(self, ref: str | None) -> GoverningPolicy: ...


BUILTIN: dict[str, Any] = {
    "name": "creditflow-default",
    "version": "1",
    "owner": "creditflow",
    "description": "Built-in defaults, applied when a spec names no policy file.",
    "prohibited_features": ["*marital*", "*religio*", "*race*", "*ethnic*", "sex", "gender", "*national_origin*"],
    "proxy_watchlist": ["*zip*", "*postcode*", "*post_code*", "*first_name*", "*surname*", "*nationality*"],
}


class FilePolicySource:
    """Policy files on disk, relative paths resolved from the folder of the spec that names them."""

    def __init__(self, base: Path):
        self.base = base

    def load(self, ref: str | None) -> GoverningPolicy:
        if ref is None:
            return governing(BUILTIN, "built-in")
        path = Path(ref) if Path(ref).is_absolute() else self.base / ref
        if not path.is_file():
            raise SpecError(f"policy file not found: {path} (named by policy.file)")
        try:
            raw = yaml.safe_load(path.read_text())
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            raise SpecError(f"{path}: invalid YAML{f' at line {mark.line + 1}' if mark else ''}") from None
        return governing(raw, str(path))


class StoredPolicySource:
    """The policy a version was judged under, as logged on its run: whatever the spec's file says today."""

    def __init__(self, document: dict[str, Any]):
        self.document = document

    def load(self, ref: str | None) -> GoverningPolicy:
        return governing(self.document, "stored with the version")


def governing(document: Any, origin: str) -> GoverningPolicy:
    """Validate a policy document; a SpecError naming the origin and the key otherwise."""
    if not isinstance(document, dict):
        raise SpecError(f"{origin}: expected a mapping of policy keys at the top level")
    try:
        policy = Policy.model_validate(document)
    except ValidationError as exc:
        raise SpecError(f"{origin}: {describe_errors(exc)}") from None
    limits = document.get("limits") or {}
    return GoverningPolicy(policy, document, origin, {path for path, _ in leaves(limits)})


def policy_digest(document: dict[str, Any]) -> str:
    """sha256 of the document as written (canonical JSON), so layout and comments do not change it."""
    return hashlib.sha256(json.dumps(document, sort_keys=True, default=str).encode()).hexdigest()


def govern(
    raw: dict[str, Any], where: str, source: PolicySource
) -> tuple[dict[str, Any], GoverningPolicy, dict[str, Any]]:
    """The spec's raw mapping with its `policy` section laid over the governing policy's limits.

    Returns (raw spec to validate, the governing policy, the spec's own overrides).
    """
    section = raw.get("policy")
    section = dict(section) if isinstance(section, dict) else {}
    ref = section.pop("file", None)
    if ref is not None and not isinstance(ref, str):
        raise SpecError(f"{where}: policy.file: expected the path of a policy file")
    found = source.load(ref)
    return {**raw, "policy": deep_merge(found.policy.limits.model_dump(), section)}, found, section


def check_governed(
    limits: PolicySpec, features: list[str], found: GoverningPolicy, overrides: dict[str, Any], where: str
) -> None:
    """One line, exit 2, when a spec's limits loosen the policy's or its features include a prohibited one.

    Takes the spec's parts, not the spec: the spec module builds on this one (`load_spec` governs).
    """
    problems = looser(overrides, limits.model_dump(), found.policy.limits.model_dump(), found.stated)
    if problems:
        raise SpecError(f"{where}: {problems[0]} (policy {found.label}; a spec may only make a limit stricter)")
    banned = matches(features, found.policy.prohibited_features)
    if banned:
        listed = ", ".join(f"'{feature}' (pattern '{pattern}')" for feature, pattern in banned)
        raise SpecError(f"{where}: feature(s) prohibited by policy {found.label}: {listed}")


def matches(names: list[str], patterns: list[str]) -> list[tuple[str, str]]:
    """(name, first matching pattern) for each name a pattern covers, case-insensitively."""
    found = []
    for name in names:
        hit = next((p for p in patterns if fnmatchcase(name.casefold(), p.casefold())), None)
        if hit is not None:
            found.append((name, hit))
    return found
