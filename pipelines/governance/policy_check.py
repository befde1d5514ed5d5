"""A version's policy against the store's governed policies (pipelines/governance/rules/policy_currency.py), for
`review`, `promote` and `status`: the store says where the governed policies are, the rule says what differs."""

from __future__ import annotations

from features.errors import CreditflowError
from features.policy import PolicyStore
from pipelines.core import tags
from pipelines.core.records import VersionInfo
from pipelines.governance.rules.policy_currency import policy_name, policy_problems

__all__ = ["unknown_policy_problems", "version_policy_problems"]


def version_policy_problems(policies: PolicyStore, version: VersionInfo) -> list[str]:
    """What is wrong with the policy `version` was judged under, against the governed ones (empty: current)."""
    name = policy_name(version)
    try:
        kept = policies.versions(name) if name else []
    except CreditflowError as exc:  # a policy name the store cannot hold
        return [f"version {version.version}: {exc}"]
    current = (kept[-1].version, kept[-1].digest) if kept else None
    return policy_problems(version, current, policies.where)


def unknown_policy_problems(policies: PolicyStore, version: VersionInfo) -> list[str]:
    """`audit verify`: a version judged under a document that is no kept version of its policy (an author's own
    file, a forged digest); a superseded but kept version is history, not forgery (a policy folder keeps only the
    current version, so there a superseded one is reported too)."""
    name, digest = policy_name(version), version.tags.get(tags.POLICY_DIGEST, "")
    if name is None:
        return []
    try:
        kept = {v.digest for v in policies.versions(name)}
    except CreditflowError as exc:
        return [f"version {version.version}: {exc}"]
    if not kept or digest in kept:  # a store that holds no version of it cannot judge (status says so)
        return []
    return [
        f"version {version.version} was judged under policy {version.tags.get(tags.POLICY)} with digest "
        f"{digest[:12]}, which is no version of {name} kept in {policies.where}"
    ]
