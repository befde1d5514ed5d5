"""Re-log a version's card and review page with its current approvals and exceptions."""

from __future__ import annotations

import logging

from pipelines.core.records import AuditRecord, VersionInfo
from pipelines.governance.rules.exceptions import recorded_exceptions
from pipelines.reports.governance_section import with_governance
from pipelines.tracking import Tracker

log = logging.getLogger("creditflow")
CARD_PATHS = ("model_card/model_card.md", "model_card/model_card.html")


def refresh_card(tracker: Tracker, version: VersionInfo, trail: list[AuditRecord]) -> None:
    """Replace the governance block of the version's Markdown card and HTML review page (its run's artifacts), as
    the model's trail `trail` records its reviews and exceptions."""
    if not version.run_id:
        return
    current = tracker.model_version(version.name, version.version)
    reviews = [r for r in trail if r.action == "review" and r.version == version.version]
    exceptions = recorded_exceptions(current, trail)
    for path in CARD_PATHS:
        card = tracker.read_text(version.run_id, path)
        if card is None:
            log.info("no %s on run %s: decisions recorded in tags and the audit trail only", path, version.run_id)
            continue
        tracker.write_text(
            version.run_id, with_governance(card, reviews, exceptions, as_html=path.endswith(".html")), path
        )
