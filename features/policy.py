"""The governed policy: the lender's limits for every gate, the prohibited features and the exception terms.

The risk function owns a policy; a spec names it (`policy.name`, never a file the author could write) and may
make a limit stricter, never looser (`features/policy_rules.py`). A spec that names no policy is judged under the
built-in `creditflow-default` policy, by the same rule (locally; a team server refuses it). Where a policy comes
from is a `PolicySource`: the project's policy folder here (`<name>.yaml`), the version's own run when a version is
read back, the team server's policy store in team mode. Its name, version and digest become registry tags and
evidence.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any, Protocol

import yaml
from pydantic import Field, ValidationError

from features.errors import SpecError, describe_errors
from features.fairness_spec import Strict as _Strict
from features.hitl_policy import NoticeTerms, OverrideLimits
from features.lexicon import DEFAULT_WORDS, lexicon_matches
from features.monitoring_spec import BacktestLimits
from features.policy_rules import deep_merge, leaves, looser
from features.policy_spec import PolicySpec
from features.spec_rules import Problem

POLICY_DIR_ENV = "CREDITFLOW_POLICY_DIR"
NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]*$"  # a file name in the policy folder: no path, no leading dot


class ExceptionTerms(_Strict):
    """How long an accepted exception to a failed gate may last, and who may grant one."""

    max_days: int = Field(default=90, ge=1, le=730)
    granted_by: list[str] = []  # logins allowed to grant; empty: anyone except the version's author


class ValidationTerms(_Strict):
    """Whether a version's evidence must be recomputed by a validator (`creditflow validate`, someone other than
    its author) before a team server promotes it."""

    required: bool = False
    reproduce: bool = Field(
        default=False,
        description="validate also retrains from the recorded spec, seed and data and compares holdout PDs "
        "(max absolute difference 1e-6, else validation.reproducibility fails): set for material models",
    )


class InputLimits(_Strict):
    """Limits on a batch or request being scored, measured against the version's reference sample: per feature,
    the share of rows missing beyond the reference's own share, the share of categories the model never saw and
    the share of numbers outside the reference's range; and the batch's decline rate over the holdout's. Past a
    `warn` limit the scores carry a warning; past a `refuse` limit (None: never) nothing is scored."""

    missing_warn: float = Field(default=0.10, ge=0, le=1)
    missing_refuse: float | None = Field(default=None, ge=0, le=1)
    unseen_warn: float = Field(default=0.05, ge=0, le=1)
    unseen_refuse: float | None = Field(default=None, ge=0, le=1)
    out_of_range_warn: float = Field(default=0.05, ge=0, le=1)
    out_of_range_refuse: float | None = Field(default=None, ge=0, le=1)
    decline_rate_jump: float = Field(default=0.10, ge=0, le=1)  # absolute rise over the holdout's decline rate


class Policy(_Strict):
    """A policy file, validated. `limits` has the shape of a spec's `policy` section (every key optional)."""

    name: str = Field(pattern=NAME_PATTERN)
    version: str
    owner: str = ""
    description: str = ""
    limits: PolicySpec = PolicySpec()
    prohibited_features: list[str] = []  # names or shell patterns (`*marital*`), case-insensitive
    proxy_watchlist: list[str] = []  # names known to stand in for a protected characteristic (`*postcode*`)
    prohibited_words: dict[str, list[str]] = {}  # characteristic -> words and word forms (features/lexicon.py)
    exceptions: ExceptionTerms = ExceptionTerms()
    validation: ValidationTerms = ValidationTerms()
    input_check: InputLimits = InputLimits()  # what `score` and the served model accept (pipelines/scoring)
    notices: NoticeTerms = NoticeTerms()  # applicant notices (`creditflow notices`)
    overrides: OverrideLimits = OverrideLimits()  # final decisions against the model's (`monitor --decisions`)
    backtest: BacktestLimits = BacktestLimits()  # the vintage back-test and label-free estimate (monitoring)


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
    """Where governing policies come from; `ref` is the spec's `policy.name` (None: the source's default)."""

    def load(self, ref: str | None) -> GoverningPolicy: ...


@dataclass(frozen=True)
class PolicyVersion:
    """One stored version of a governed policy: what `policy show` and `policy list` print."""

    name: str
    version: str
    digest: str
    stored_by: str
    time: str
    document: dict[str, Any]


class PolicyStore(PolicySource, Protocol):
    """The governed policies of a project: resolved by name, listed, and stored (`creditflow policy`)."""

    where: str  # for messages: the folder, or the team server

    def versions(self, name: str) -> list[PolicyVersion]:
        """Every kept version of `name`, oldest first (empty: no such policy)."""
        ...

    def names(self) -> list[str]: ...

    def push(self, found: GoverningPolicy) -> str:
        """Store a new version; a one-line CreditflowError when it may not be stored; what was done."""
        ...


def policy_folder(spec_dir: Path | None = None) -> Path:
    """The project's policy folder: $CREDITFLOW_POLICY_DIR, else `policies/` beside the spec (without a spec,
    `experiments/policies` under the working folder)."""
    if os.environ.get(POLICY_DIR_ENV):
        return Path(os.environ[POLICY_DIR_ENV])
    return spec_dir / "policies" if spec_dir is not None else Path("experiments") / "policies"


BUILTIN: dict[str, Any] = {
    "name": "creditflow-default",
    "version": "1",
    "owner": "creditflow",
    "description": "Built-in defaults, applied when a spec names no policy file.",
    "prohibited_features": ["*marital*", "*religio*", "*race*", "*ethnic*", "sex", "gender", "*national_origin*"],
    "proxy_watchlist": ["*zip*", "*postcode*", "*post_code*", "*first_name*", "*surname*", "*nationality*"],
    "prohibited_words": DEFAULT_WORDS,
}


class FolderPolicySource:
    """The project's policy folder (`policy_folder`): policy NAME is `<folder>/NAME.yaml`, whose `name` is NAME.
    It keeps the current version only (the folder's history is its version control's)."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.where = f"the policy folder {folder}"

    def load(self, ref: str | None) -> GoverningPolicy:
        if ref is None:
            return governing(BUILTIN, "built-in")
        path = self._path(ref)
        if not path.is_file():
            raise SpecError(f"no governed policy {ref!r} in {self.where} (expected {path})")
        found = read_policy_file(path)
        if found.policy.name != ref:
            raise SpecError(f"{path}: names policy {found.policy.name!r}, not {ref!r}")
        return found

    def versions(self, name: str) -> list[PolicyVersion]:
        if not self._path(name).is_file():
            builtin = governing(BUILTIN, "built-in") if name == BUILTIN["name"] else None
            return [_version_of(builtin)] if builtin is not None else []
        return [_version_of(self.load(name))]

    def names(self) -> list[str]:
        return sorted(p.stem for p in self.folder.glob("*.yaml")) if self.folder.is_dir() else []

    def push(self, found: GoverningPolicy) -> str:
        name = found.policy.name
        current = self.versions(name)
        if current and current[-1].digest == found.digest:
            return f"policy {found.label} is already the current version in {self.where}"
        refuse_same_version(current, found)
        self.folder.mkdir(parents=True, exist_ok=True)
        self._path(name).write_text(yaml.safe_dump(found.document, sort_keys=False))
        return f"policy {found.label} stored in {self.where} (digest {found.digest[:12]})"

    def _path(self, name: str) -> Path:
        if not re.match(NAME_PATTERN, name):
            raise SpecError(f"policy name {name!r}: letters, digits, '_', '.', '-' only, not starting with '.'")
        return self.folder / f"{name}.yaml"


def _version_of(found: GoverningPolicy) -> PolicyVersion:
    return PolicyVersion(found.policy.name, found.policy.version, found.digest, found.policy.owner, "", found.document)


def read_policy_file(path: Path) -> GoverningPolicy:
    """A policy file, validated; one line naming the file otherwise."""
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError):
        raise SpecError(f"{path}: cannot read a policy file there") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise SpecError(f"{path}: invalid YAML{f' at line {mark.line + 1}' if mark else ''}") from None
    return governing(raw, str(path))


def refuse_same_version(kept: list[PolicyVersion], found: GoverningPolicy) -> None:
    """A changed document keeps no old version number: every version a model was judged under stays readable."""
    clash = next((v for v in kept if v.version == found.policy.version and v.digest != found.digest), None)
    if clash is not None:
        raise SpecError(
            f"policy {found.label}: version {clash.version} is already stored with other limits; "
            "a changed policy needs a new `version`"
        )


class StoredPolicySource:
    """The policy a version was judged under, as logged on its run: whatever the spec's file says today."""

    legacy_files = True  # a version registered before policies were named may carry `policy.file`

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
    if "file" in section and not getattr(source, "legacy_files", False):
        raise SpecError(
            f"{where}: policy.file: a spec names its governed policy, never a file: write `policy: {{name: NAME}}` "
            "(the risk function's policy; `creditflow policy list` shows them)"
        )
    section.pop("file", None)
    ref = section.pop("name", None)
    if ref is not None and (not isinstance(ref, str) or not re.match(NAME_PATTERN, ref)):
        raise SpecError(f"{where}: policy.name: expected the name of a governed policy (`creditflow policy list`)")
    found = source.load(ref)
    return {**raw, "policy": deep_merge(found.policy.limits.model_dump(), section)}, found, section


def governed_problems(
    limits: PolicySpec, features: list[str], found: GoverningPolicy, overrides: dict[str, Any]
) -> list[Problem]:
    """Every limit of a spec that loosens the policy's, and every feature the policy prohibits.

    Takes the spec's parts, not the spec: the spec module builds on this one (`load_spec` governs).
    """
    terms = f"policy {found.label}; a spec may only make a limit stricter"
    problems = [
        Problem("", f"{text} ({terms})")
        for text in looser(overrides, limits.model_dump(), found.policy.limits.model_dump(), found.stated)
    ]
    banned = [
        f"'{feature}' (pattern '{pattern}')" for feature, pattern in matches(features, found.policy.prohibited_features)
    ]
    named = {b.split("'")[1] for b in banned}
    banned += [
        f"'{feature}' (the word '{word}' means {what})"
        for feature, word, what in lexicon_matches(features, found.policy.prohibited_words)
        if feature not in named
    ]
    if banned:
        problems.append(Problem("features", f"feature(s) prohibited by policy {found.label}: {', '.join(banned)}"))
    return problems


def matches(names: list[str], patterns: list[str]) -> list[tuple[str, str]]:
    """(name, first matching pattern) for each name a pattern covers, case-insensitively."""
    found = []
    for name in names:
        hit = next((p for p in patterns if fnmatchcase(name.casefold(), p.casefold())), None)
        if hit is not None:
            found.append((name, hit))
    return found
