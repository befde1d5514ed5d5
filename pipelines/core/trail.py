"""A model's audit trail as read: its records in chain order, what breaks the chain, and what was deleted.
Both governance stores return one (the local MLflow-run trail and the team server's audit table)."""

from __future__ import annotations

from dataclasses import dataclass, field

from features.errors import Refused
from pipelines.core.records import AuditRecord

__all__ = ["Trail"]


@dataclass
class Trail:
    """A model's trail as read: records in chain order, what breaks it, and what was deleted in the UI."""

    model: str
    records: list[AuditRecord] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    deleted: list[AuditRecord] = field(default_factory=list)
    head: dict[str, str] | None = None  # the record a new one follows
    experiment: str | None = "active"  # 'active', 'deleted' or None (no trail yet)
    legacy: list[AuditRecord] = field(default_factory=list)  # live records without chain fields
    broken: list[str] = field(default_factory=list)  # problems of the chained records alone
    malformed: dict[str, str] = field(default_factory=dict)  # digest -> what cannot be read, not yet set aside

    @property
    def trusted(self) -> bool:
        return not self.problems

    def refusal(self) -> Refused:
        return Refused(f"the audit trail of {self.model} is untrusted: {self.problems[0]}")
