"""The governed policy as evidence: tags on the version, the document and the applied limits on its run.

The document is stored as the policy source gave it, so a version is read back (monitoring, exceptions)
under the policy it was judged under, and its digest can be checked against the version's tag.
"""

from __future__ import annotations

import json

from features.errors import CreditflowError
from features.policy import GoverningPolicy, governing
from features.spec import Spec
from pipelines.core import tags
from pipelines.core.records import VersionInfo
from pipelines.tracking import RunLogger, Tracker

POLICY_PATH = "policy/policy.json"  # the policy document the version was judged under
LIMITS_PATH = "policy/applied_limits.json"  # the limits applied: the policy's, tightened by the spec


def policy_tags(spec: Spec) -> dict[str, str]:
    found = _governing(spec)
    return {tags.POLICY: found.label, tags.POLICY_DIGEST: found.digest}


def record_policy(run: RunLogger, spec: Spec) -> None:
    found = _governing(spec)
    run.text(json.dumps(found.document, indent=2, sort_keys=True, default=str), POLICY_PATH)
    run.text(json.dumps(spec.policy.model_dump(), indent=2), LIMITS_PATH)


def stored_policy(tracker: Tracker, version: VersionInfo) -> GoverningPolicy | None:
    """The policy stored with a version, checked against its digest tag; None for versions registered before
    policies were stored."""
    text = tracker.read_text(version.run_id, POLICY_PATH) if version.run_id else None
    if text is None:
        return None
    found = governing(json.loads(text), f"{version.name} version {version.version}: {POLICY_PATH}")
    if found.digest != version.tags.get(tags.POLICY_DIGEST):
        raise CreditflowError(
            f"{version.name} version {version.version}: the stored policy does not match its "
            f"{tags.POLICY_DIGEST} tag: the evidence was changed"
        )
    return found


def _governing(spec: Spec) -> GoverningPolicy:
    if spec.governing is None:
        raise ValueError("the spec was not read by load_spec: it has no governing policy")
    return spec.governing
