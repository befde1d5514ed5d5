"""The checks of a spec that span its sections, each one independent of the others, and the form of a problem.

A spec is checked whole (`features/spec_check.py`): every problem is listed with the key it concerns, what is
wrong and an example of the right form, so a data scientist fixes a spec in one pass. A check whose section is
itself invalid (None here) is skipped: that section's own problems are already listed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from difflib import get_close_matches
from enum import Enum
from typing import TYPE_CHECKING, Any, get_args

from pydantic import BaseModel, ValidationError
from pydantic.fields import FieldInfo

if TYPE_CHECKING:
    from features.monitoring_spec import MonitoringSpec
    from features.policy_spec import PolicySpec
    from features.spec_sections import DataSpec, FeatureSpec, SplitSpec

# What `creditflow spec init` writes for a reason text it cannot know: `check` and `run` refuse it until written,
# so no applicant ever reads a placeholder.
REASON_STUB = "TODO"


@dataclass(frozen=True)
class Problem:
    """One problem of a spec: the key, what is wrong, and (where one helps) an example of the right form."""

    key: str
    what: str
    example: str = ""

    def __str__(self) -> str:
        text = f"{self.key}: {self.what}" if self.key else self.what
        return f"{text} (e.g. {self.example})" if self.example else text


@dataclass(frozen=True)
class Sections:
    """The spec's sections that validated on their own (None: invalid or missing; its problems are listed)."""

    data: DataSpec | None
    features: FeatureSpec | None
    split: SplitSpec | None
    policy: PolicySpec | None
    monitoring: MonitoringSpec | None
    reasons: dict[str, str] | None
    reasons_generic: list[str] | None = None


def cross_problems(s: Sections) -> list[Problem]:
    """Every problem between sections, each check run when the sections it reads are valid."""
    found: list[Problem] = []
    names = s.features.all() if s.features is not None else None
    if s.features is not None and names is not None:
        found += _feature_problems(s.features, names, s.data)
        found += reviewed_problems(s.features.reviewed, names)
        if s.reasons is not None:
            found += reason_problems(s.reasons, names)
        if s.monitoring is not None:
            unknown = sorted(set(s.monitoring.drift.columns) - set(names))
            if unknown:
                found.append(Problem("monitoring.drift.columns", f"unknown feature(s): {', '.join(unknown)}"))
    if s.split is not None:
        if s.data is not None and s.split.method == "out_of_time" and s.data.time is None:
            found.append(Problem("split.method", "'out_of_time' needs data.time", "`time: application_date`"))
        if s.split.valid_size + s.split.test_size >= 1:
            found.append(Problem("split", "valid_size + test_size must be below 1", "`valid_size: 0.2`"))
    if s.policy is not None and s.features is not None and names is not None:
        found += available_at_problems(s.features.available_at, names, s.policy.leakage.require_available_at)
        if s.reasons is not None:
            unreviewed = {k: v for k, v in s.reasons.items() if k not in s.features.reviewed}
            found += reason_time_problems(unreviewed, s.policy.leakage.post_decision_terms)
    if names is not None:
        found += _hitl_problems(s, names)
    if s.policy is not None and s.data is not None:
        unknown = sorted(set(s.policy.fairness.mitigation.attributes) - set(s.data.sensitive_names()))
        if unknown:
            found.append(
                Problem("policy.fairness.mitigation.attributes", f"not in data.sensitive: {', '.join(unknown)}")
            )
    return found


def _hitl_problems(s: Sections, names: list[str]) -> list[Problem]:
    """The refer rule's thin-file feature is a numeric feature; reasons marked generic are features."""
    found = []
    thin = s.policy.refer.thin_file if s.policy is not None else None
    if thin is not None and s.features is not None and thin.feature not in s.features.numeric:
        found.append(Problem("policy.refer.thin_file.feature", f"'{thin.feature}' is not a numeric feature"))
    unknown = sorted(set(s.reasons_generic or []) - set(names))
    if unknown:
        found.append(Problem("reasons_generic", f"unknown feature(s): {', '.join(unknown)}"))
    return found


def _feature_problems(features: FeatureSpec, names: list[str], data: DataSpec | None) -> list[Problem]:
    found = []
    if not names:
        found.append(Problem("features", "declare at least one numeric or categorical feature", "`numeric: [income]`"))
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        found.append(Problem("features", f"declared twice: {', '.join(twice)}"))
    if data is not None:
        forbidden: dict[str, Sequence[str | None]] = {  # id and time may be unset (None)
            "target": [data.target],
            "id": [data.id],
            "time": [data.time],
            "pii": data.pii,
            "sensitive": data.sensitive_names() + data.sensitive_sources(),
        }
        for role, columns in forbidden.items():
            clash = sorted(set(names) & {c for c in columns if c})
            if clash:
                found.append(Problem("features", f"{role} column(s) cannot be model features: {', '.join(clash)}"))
    not_numeric = sorted(set(features.monotone) - set(features.numeric))
    if not_numeric:
        found.append(Problem("features.monotone", f"applies to numeric features only: {', '.join(not_numeric)}"))
    return found


def reviewed_problems(reviewed: dict[str, str], features: list[str]) -> list[Problem]:
    """`features.reviewed` names declared features, each with a reason (shown on the model card)."""
    found = []
    unknown = sorted(set(reviewed) - set(features))
    if unknown:
        found.append(Problem("features.reviewed", f"unknown feature(s): {', '.join(unknown)}"))
    blank = sorted(name for name, why in reviewed.items() if not str(why or "").strip())
    if blank:
        found.append(
            Problem(
                "features.reviewed",
                f"say why each was reviewed: {', '.join(blank)}",
                f"`{blank[0]}: known at application, checked with the credit team`",
            )
        )
    return found


def reason_problems(reasons: dict[str, str], features: list[str]) -> list[Problem]:
    """Every feature can be a decline reason, so each needs a text an applicant can read, not a drafted stub."""
    found = []
    unknown = sorted(set(reasons) - set(features))
    if unknown:
        found.append(Problem("reasons", f"text given for unknown feature(s): {', '.join(unknown)}"))
    missing = [name for name in features if not str(reasons.get(name) or "").strip()]
    if missing:
        found.append(
            Problem(
                "reasons",
                f"no applicant-facing text for {len(missing)} feature(s), each of which can be a decline reason: "
                f"{', '.join(missing)}; write one `feature: text` line per feature under `reasons:`",
                f"`{missing[0]}: <the reason in words the applicant reads>`",
            )
        )
    stubs = [name for name in features if str(reasons.get(name) or "").strip().startswith(REASON_STUB)]
    if stubs:
        found.append(
            Problem(
                "reasons",
                f"{len(stubs)} drafted placeholder(s) still to write (an applicant would read them): "
                f"{', '.join(stubs)}",
                f"`{stubs[0]}: <the reason in words the applicant reads>`",
            )
        )
    return found


def validation_problems(exc: ValidationError, root: type[BaseModel], whole: bool = True) -> list[Problem]:
    """pydantic's errors as problems: the dotted key, what is wrong, and the right form where the model knows it
    (the default of a mistyped key, the nearest key to an unknown one). `whole=False` leaves out the errors of
    the root model's own validators (location empty)."""
    found: list[Problem] = []
    for err in exc.errors():
        if not whole and not err["loc"]:
            continue
        # pydantic adds validator and union-branch names to locations; users never wrote those
        loc = [str(p) for p in err["loc"] if "[" not in str(p) and p not in ("int", "str")]
        key = ".".join(loc)
        if err["type"] in ("extra_forbidden", "unexpected_keyword_argument"):
            near = get_close_matches(loc[-1], list(_fields_at(root, loc[:-1])), n=1) if loc else []
            guess = f"; did you mean '{near[0]}'?" if near else ""
            found.append(Problem("", f"unknown key '{key}'{guess}", _form(root, [*loc[:-1], near[0]]) if near else ""))
        elif err["type"] == "missing":
            found.append(Problem("", f"missing required key '{key}'", _form(root, loc)))
        else:
            message = err["msg"].removeprefix("Value error, ")
            found.append(Problem(key, message, _form(root, loc) if err["type"] != "value_error" else ""))
    return list(dict.fromkeys(found))


def _fields_at(root: type[BaseModel], loc: list[str]) -> dict[str, FieldInfo]:
    model: Any = root
    for part in loc:
        field = model.model_fields.get(part) if _is_model(model) else None
        model = _model_of(field.annotation) if field is not None else None
    return dict(model.model_fields) if _is_model(model) else {}


def _form(root: type[BaseModel], loc: list[str]) -> str:
    """`key: default` for a key whose default is a plain value; `key: <type>` otherwise; '' when unknown."""
    if not loc:
        return ""
    field = _fields_at(root, loc[:-1]).get(loc[-1])
    if field is None:
        return ""
    default = field.get_default(call_default_factory=True)
    if isinstance(default, (bool, int, float, str)) and not isinstance(default, Enum):
        shown = str(default).lower() if isinstance(default, bool) else default
        return f"`{loc[-1]}: {shown}`"
    annotation = getattr(field.annotation, "__name__", None) or str(field.annotation).replace("typing.", "")
    return f"`{loc[-1]}: <{annotation}>`"


def _is_model(value: Any) -> bool:
    return isinstance(value, type) and issubclass(value, BaseModel)


def _model_of(annotation: Any) -> Any:
    """The model class inside an annotation (`X`, `X | None`), else None."""
    if _is_model(annotation):
        return annotation
    return next((a for a in get_args(annotation) if _is_model(a)), None)


def reason_time_problems(reasons: dict[str, str], terms: list[str]) -> list[Problem]:
    """A reason text tells an applicant why they were declined, so it must describe a fact of the application: one
    that describes an event after the decision (a repayment, arrears, collections) is a spec error (whole words of
    the policy's `leakage.post_decision_terms`: "Principal paid", "Sent to collections"; "Unpaid bills" is not).
    A feature `features.reviewed` explains (arrears reported by the bureau before the application) is not one."""
    from features.lexicon import words

    wanted = [tuple(words(term)) for term in terms if words(term)]
    found = []
    for name, text in reasons.items():
        have = words(str(text or ""))
        hit = next(
            (" ".join(t) for t in wanted for i in range(len(have) - len(t) + 1) if tuple(have[i : i + len(t)]) == t),
            None,
        )
        if hit:
            found.append(
                Problem(
                    f"reasons.{name}",
                    f"the reason text {str(text)[:80]!r} describes an event after the decision ('{hit}'); a decline "
                    "reason must be a fact known at application (and so must the feature): reword it, drop the "
                    "feature, or explain in features.reviewed why it is known at application",
                )
            )
    return found


def available_at_problems(available: Mapping[str, str], features: list[str], required: bool) -> list[Problem]:
    """`features.available_at` (the spec's data dictionary) names declared features; a policy that requires it
    (`leakage.require_available_at`) needs every feature declared `application`."""
    found = []
    unknown = sorted(set(available) - set(features))
    if unknown:
        found.append(Problem("features.available_at", f"unknown feature(s): {', '.join(unknown)}"))
    missing = [name for name in features if name not in available]
    if required and missing:
        found.append(
            Problem(
                "features.available_at",
                "the policy requires every feature declared `application` (known when the application is decided); "
                f"not declared: {', '.join(missing)}",
                f"`{missing[0]}: application`",
            )
        )
    return found
