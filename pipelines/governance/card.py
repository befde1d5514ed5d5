"""Re-log a version's card and review page with its current approvals and exceptions."""

from __future__ import annotations

import logging

from pipelines.gates.exceptions import recorded_exceptions
from pipelines.governance.audit import read_trail
from pipelines.reports.governance_section import with_governance
from pipelines.tracking import Tracker, VersionInfo

log = logging.getLogger("creditflow")
CARD_PATHS = ("model_card/model_card.md", "model_card/model_card.html")


def refresh_card(tracker: Tracker, version: VersionInfo) -> None:
    """Replace the governance block of the version's Markdown card and HTML review page (its run's artifacts)."""
    if not version.run_id:
        return
    current = tracker.model_version(version.name, version.version)
    trail = read_trail(tracker, version.name)
    reviews = [r for r in trail if r.action == "review" and r.version == version.version]
    exceptions = recorded_exceptions(current, trail)
    for path in CARD_PATHS:
        card = tracker.read_text(version.run_id, path)
        if card is None:
            log.info("no %s on run %s: decisions recorded in tags and the audit trail only", path, version.run_id)
            continue
        tracker.write_text(version.run_id, with_governance(card, reviews, exceptions, path.endswith(".html")), path)
