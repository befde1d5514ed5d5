"""Whether a version was judged under the current governed version of its policy.

A version records the policy its gates judged under (`validation.policy` = `NAME vVERSION`, and its digest). When
the risk function stores a new version of that policy, or the version was judged under a document that was never
the governed one (an author's own file), the evidence no longer answers to the lender's limits: team mode refuses
its promotion, local mode says so on review, promotion and status.
"""

from __future__ import annotations

from pipelines.core import tags
from pipelines.core.records import VersionInfo

__all__ = ["policy_name", "policy_problems"]


def policy_name(version: VersionInfo) -> str | None:
    """The name of the policy a version was judged under (None: it records none)."""
    label = version.tags.get(tags.POLICY, "")
    return label.rsplit(" v", 1)[0] if label else None


def policy_problems(version: VersionInfo, current: tuple[str, str] | None, where: str) -> list[str]:
    """Problems with the policy of `version` against `current` (the governed (version, digest) of its policy's
    name in `where`, None when none is governed there)."""
    name, digest = policy_name(version), version.tags.get(tags.POLICY_DIGEST, "")
    if name is None or not digest:
        return [f"version {version.version} records no governed policy ({tags.POLICY}, {tags.POLICY_DIGEST})"]
    label = version.tags[tags.POLICY]
    if current is None:
        return [f"version {version.version} was judged under policy {label}, which {where} does not govern"]
    governed_version, governed_digest = current
    if digest != governed_digest:
        return [
            f"version {version.version} was judged under policy {label} (digest {digest[:12]}), not the governed "
            f"{name} v{governed_version} (digest {governed_digest[:12]}) in {where}: validate it again"
        ]
    return []
