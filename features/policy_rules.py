"""Which way is stricter: the rule that lets a spec tighten a governed policy's limits but never loosen them.

The rule is read from a limit's dotted path under `policy`, so a limit added to the spec's policy model
later is covered without code: a key named `min_*` (or any key under `minimum`) is stricter when higher, a
key named `max_*` (or under `maximum`) stricter when lower. `EXPLICIT` names the few others. A key no rule
covers is FIXED: the spec may restate the policy's value, not change it (fail closed).
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from typing import Any, TypeGuard

HIGHER = "higher"  # a higher value is stricter
LOWER = "lower"  # a lower value is stricter
FIXED = "fixed"  # the policy's value only
FREE = "free"  # the spec's choice: a setting, not a limit
SETTING = "setting"  # the spec's choice, unless the policy file states it (then fixed)
ORDERED = "ordered"  # a choice among words listed from loosest to strictest (`ORDERED_CHOICES`)

# Words of a limit that is a choice, loosest first: a spec may pick a later word than the policy's, never an earlier.
ORDERED_CHOICES: dict[str, tuple[str, ...]] = {"performance.judge_on": ("point", "lower_bound")}

# Longest matching dotted prefix wins; a prefix covers every key under it.
EXPLICIT: dict[str, str] = {
    # The decision threshold is the product's risk appetite (German Credit declines at 0.5, the consumer book at
    # 0.25), not a gate limit; the gates are judged at it and the review page shows it beside every verdict.
    # A policy that states it fixes it.
    "cutoff": SETTING,
    "reason_baseline": SETTING,
    "stability.warn": LOWER,
    "stability.alert": LOWER,
    "stability.bins": SETTING,
    "fairness.confidence": HIGHER,  # wider intervals shown to the reviewer
    # Lower judges more (smaller) groups; raising it would let a spec drop a disadvantaged small group out
    # of the verdict, so a `min_` name is not enough here.
    "fairness.min_group_size": LOWER,
    "fairness.min_eo_outcomes": LOWER,  # lower judges equalized odds on smaller groups
    "fairness.intersections": HIGHER,  # true judges the intersections too
    "fairness.proxy_auc": LOWER,  # a lower threshold flags more features
    "fairness.proxy_refuse": LOWER,  # a lower threshold refuses more features
    "fairness.n_boot": FREE,  # resamples of the displayed intervals: a compute budget, not a limit
    "fairness.rationale": FIXED,  # the risk function's reasons for its limits
    "fairness.mitigation": FREE,  # how the less-discriminatory alternative is searched for
    "data_design.require_out_of_time": HIGHER,  # true judges on later months
    "leakage.require_available_at": HIGHER,  # true requires every feature's data-dictionary entry
    "performance.judge_on": ORDERED,  # lower_bound judges on the interval, not the point
    # The refer band: a spec may widen it (send more applicants to a person), never narrow it.
    "refer.below": HIGHER,
    "refer.above": HIGHER,
    "refer.out_of_range": HIGHER,
    "refer.thin_file.below": HIGHER,
    "refer.thin_file.feature": FIXED,
}


def rule_for(path: str) -> str:
    """The direction rule of one dotted limit path (without the leading `policy.`)."""
    parts = path.split(".")
    for end in range(len(parts), 0, -1):
        prefix = ".".join(parts[:end])
        if prefix in EXPLICIT:
            return EXPLICIT[prefix]
    for part in reversed(parts):
        if part == "minimum" or part.startswith("min_"):
            return HIGHER
        if part == "maximum" or part.startswith("max_"):
            return LOWER
    return FIXED


def leaves(tree: Mapping[str, Any], prefix: str = "") -> Iterator[tuple[str, Any]]:
    """(dotted path, value) of every non-mapping value in a nested mapping."""
    for key, value in tree.items():
        path = f"{prefix}{key}"
        if isinstance(value, Mapping) and value:
            yield from leaves(value, f"{path}.")
        else:
            yield path, value


def deep_merge(base: Mapping[str, Any], changes: Mapping[str, Any]) -> dict[str, Any]:
    """`base` with `changes` laid over it, mappings merged key by key (a spec cannot drop a policy's key)."""
    merged = dict(base)
    for key, value in changes.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def looser(
    overrides: Mapping[str, Any], effective: Mapping[str, Any], policy: Mapping[str, Any], stated: set[str]
) -> list[str]:
    """Every override that loosens the policy, as 'policy.<key>: ...' (empty when the spec only tightens).

    `overrides` are the keys the spec wrote (raw), `effective` the validated merged values, `policy` the
    policy's validated values and `stated` the dotted paths the policy file itself writes.
    """
    problems = []
    for path, _ in leaves(overrides):
        if not _present(policy, path):
            continue  # a new entry (e.g. another minimum): it adds a limit, which only tightens
        ours, theirs = _get(effective, path), _get(policy, path)
        rule = rule_for(path)
        if rule == SETTING:
            rule = FIXED if any(path == s or path.startswith(f"{s}.") for s in stated) else FREE
        if rule == ORDERED:
            if _ordered_ok(path, ours, theirs):
                continue
            problems.append(f"policy.{path}: {_show(ours)} is looser than the policy's {_show(theirs)}{_hint(rule)}")
            continue
        if not _allowed(rule, ours, theirs):
            problems.append(f"policy.{path}: {_show(ours)} {_verb(rule)} the policy's {_show(theirs)}{_hint(rule)}")
    return problems


def _ordered_ok(path: str, ours: Any, theirs: Any) -> bool:
    words = ORDERED_CHOICES.get(path, ())
    if ours == theirs:
        return True
    return ours in words and theirs in words and words.index(ours) > words.index(theirs)


def _allowed(rule: str, ours: Any, theirs: Any) -> bool:
    if rule == FREE or ours == theirs:
        return True
    if rule in (HIGHER, LOWER) and theirs is None and ours is not None:
        return True  # the policy sets no such limit (None): the spec adds one, which only tightens
    if rule in (HIGHER, LOWER) and _number(ours) and _number(theirs):
        if math.isnan(ours):
            return False
        return ours >= theirs if rule == HIGHER else ours <= theirs
    return False


def _number(value: Any) -> TypeGuard[float]:
    return isinstance(value, (int, float))  # bool is an int: True (judge more) is stricter than False


def _verb(rule: str) -> str:
    return "is looser than" if rule in (HIGHER, LOWER) else "differs from"


def _hint(rule: str) -> str:
    if rule == ORDERED:
        return " (a spec may only make it stricter)"
    return {HIGHER: " (a spec may only raise it)", LOWER: " (a spec may only lower it)"}.get(
        rule, " (set by the policy; a spec may not change it)"
    )


def _show(value: Any) -> str:
    return str(value).lower() if isinstance(value, bool) else f"{value!r}" if isinstance(value, str) else f"{value}"


def _present(tree: Mapping[str, Any], path: str) -> bool:
    node: Any = tree
    for part in path.split("."):
        if not isinstance(node, Mapping) or part not in node:
            return False
        node = node[part]
    return True


def _get(tree: Mapping[str, Any], path: str) -> Any:
    node: Any = tree
    for part in path.split("."):
        node = node[part]
    return node
