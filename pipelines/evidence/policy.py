"""The governed policy as evidence: tags on the version, the document and the applied limits on its run.

The document is stored as the policy source gave it, so a version is read back (monitoring, exceptions) under the
policy it was judged under (pipelines/governance/stored_policy.py), its digest checked against the version's tag.
"""

from __future__ import annotations

import json

from features.policy import GoverningPolicy
from features.spec import Spec
from pipelines.core import tags
from pipelines.governance.stored_policy import POLICY_PATH
from pipelines.tracking import RunLogger

LIMITS_PATH = "policy/applied_limits.json"  # the limits applied: the policy's, tightened by the spec


def policy_tags(spec: Spec) -> dict[str, str]:
    found = _governing(spec)
    return {tags.POLICY: found.label, tags.POLICY_DIGEST: found.digest}


def record_policy(run: RunLogger, spec: Spec) -> None:
    found = _governing(spec)
    run.text(json.dumps(found.document, indent=2, sort_keys=True, default=str), POLICY_PATH)
    run.text(json.dumps(spec.policy.model_dump(), indent=2), LIMITS_PATH)


def _governing(spec: Spec) -> GoverningPolicy:
    if spec.governing is None:
        raise ValueError("the spec was not read by load_spec: it has no governing policy")
    return spec.governing
