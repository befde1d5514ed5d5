"""The values at the bottom of the package graph: registry records, the audit trail as read, tag names, the
clock and the acting user. Standard library only (and `features.errors`), so re-exported here."""

from pipelines.core import tags
from pipelines.core.actor import current_user
from pipelines.core.clock import now_iso, parse_time, today
from pipelines.core.records import MOVES, AuditRecord, FilesCheck, VersionInfo
from pipelines.core.trail import Trail

__all__ = [
    "MOVES",
    "AuditRecord",
    "FilesCheck",
    "Trail",
    "VersionInfo",
    "current_user",
    "now_iso",
    "parse_time",
    "tags",
    "today",
]
