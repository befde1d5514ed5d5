"""A version's policy against the store's governed policies (pipelines/governance/rules/policy_currency.py), for
`review`, `promote` and `status`: the store says where the governed policies are, the rule says what differs."""

from __future__ import annotations

from features.errors import CreditflowError
from features.policy import PolicyStore
from pipelines.core.records import VersionInfo
from pipelines.governance.rules.policy_currency import policy_name, policy_problems

__all__ = ["version_policy_problems"]


def version_policy_problems(policies: PolicyStore, version: VersionInfo) -> list[str]:
    """What is wrong with the policy `version` was judged under, against the governed ones (empty: current)."""
    name = policy_name(version)
    try:
        kept = policies.versions(name) if name else []
    except CreditflowError as exc:  # a policy name the store cannot hold
        return [f"version {version.version}: {exc}"]
    current = (kept[-1].version, kept[-1].digest) if kept else None
    return policy_problems(version, current, policies.where)
