"""A version read back under the governed policy it was judged under: the document its run stored
(pipelines/evidence/policy.py writes it; once validated, the validator's review run, `validation.review_run`),
checked against the version's `validation.policy_digest` tag."""

from __future__ import annotations

import json

from features.errors import CreditflowError
from features.policy import GoverningPolicy, governing
from pipelines.core import tags
from pipelines.core.records import VersionInfo
from pipelines.tracking import Tracker

__all__ = ["POLICY_PATH", "stored_policy"]

POLICY_PATH = "policy/policy.json"  # the policy document the version was judged under


def stored_policy(tracker: Tracker, version: VersionInfo) -> GoverningPolicy | None:
    """The policy stored with a version, checked against its digest tag; None for versions registered before
    policies were stored."""
    run = version.tags.get(tags.REVIEW_RUN) or version.run_id  # a validated version: the validator's policy
    text = tracker.read_text(run, POLICY_PATH) if run else None
    if text is None:
        return None
    found = governing(json.loads(text), f"{version.name} version {version.version}: {POLICY_PATH}")
    if found.digest != version.tags.get(tags.POLICY_DIGEST):
        raise CreditflowError(
            f"{version.name} version {version.version}: the stored policy does not match its "
            f"{tags.POLICY_DIGEST} tag: the evidence was changed"
        )
    return found
