"""An accepted exception on a workbench's store: the exception.<gate>.* tags, then an `exception` record of the
trail bound to the evidence digest, then the review page's row. The caller holds the model's lock and has checked
the request (pipelines/governance/grant.py)."""

from __future__ import annotations

import click

from pipelines.core import tags
from pipelines.core.clock import now_iso
from pipelines.core.records import AuditRecord, VersionInfo
from pipelines.governance.card import refresh_card
from pipelines.governance.local.trail import read_trail, record
from pipelines.governance.rules.exceptions import EXCEPTION, ExceptionRequest, exception_values
from pipelines.governance.rules.promotion import evidence_digest
from pipelines.tracking import Tracker


def grant(tracker: Tracker, found: VersionInfo, request: ExceptionRequest) -> None:
    when, digest = now_iso(), evidence_digest(found)
    tracker.set_version_tags(found.name, found.version, exception_values(request, when, digest))
    entry = AuditRecord(
        EXCEPTION, found.name, found.version, request.granted_by, when, "done",
        reason=request.justification.strip(), evidence=digest, gate=request.gate, expires=request.expires,
    )  # fmt: skip
    record(tracker, entry)
    refresh_card(tracker, found, read_trail(tracker, found.name))
    click.echo(
        f"{found.name} version {found.version}: exception to {tags.VALIDATION_PREFIX}{request.gate} accepted by "
        f"{request.granted_by}, valid through {request.expires}; promotion still needs an approval given after it"
    )
