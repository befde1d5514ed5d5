"""The values governance reads and writes: a registered version as creditflow sees it, one audit record, and
the model files as a caller found them. Plain data at the bottom of the package graph (MLflow's
`mlflow/entities/`): the rules, both governance stores, the tracking adapter and the server share them."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Mapping

__all__ = ["MOVES", "AuditRecord", "FilesCheck", "VersionInfo", "approval_values", "field_problems"]

MOVES = ("promote", "rollback")  # actions that put `champion` on a version


@dataclass(frozen=True)
class VersionInfo:
    """One registered model version as creditflow reads it: tags and aliases included."""

    name: str
    version: str
    tags: dict[str, str]
    aliases: tuple[str, ...]
    run_id: str | None
    source: str
    created_ms: int

    @property
    def uri(self) -> str:
        return f"models:/{self.name}/{self.version}"


@dataclass(frozen=True)
class AuditRecord:
    """One entry of the governance trail (stored as the params of one MLflow run, hash-chained)."""

    action: str  # register | review | exception | promote | rollback | refuse | abandon | rebuild
    model: str
    version: str
    actor: str
    time: str  # ISO 8601, UTC
    outcome: str  # done | refused | noop | rebuilt
    reason: str = ""
    evidence: str = ""
    approval: str = ""
    from_version: str = ""
    to_version: str = ""
    seq: str = ""  # chain fields (pipelines/governance/rules/chain.py), set when the record is appended
    prev: str = ""
    digest: str = ""
    restored_from: str = ""  # a record written before the chain, re-anchored by `audit rebuild`: its run
    restored_time: str = ""  # ... and the time it stated
    gate: str = ""  # exception: the gate it excuses
    expires: str = ""  # exception: valid through this day (YYYY-MM-DD)
    repairs: str = ""  # rebuild: the digests of malformed records it set aside, comma-separated
    source: str = ""  # review: `ui` when the decision was made in the MLflow UI and recorded when found
    deleted: bool = False  # the run was deleted in the UI: shown, never trusted
    run_id: str = ""  # where it is stored
    stored_ms: int = 0  # when the store says it was written (epoch milliseconds)

    def params(self) -> dict[str, str]:
        values = {k: v for k, v in self.__dict__.items() if k not in _STORE_FIELDS}
        return {k: v for k, v in values.items() if v != ""}

    @classmethod
    def from_params(cls, params: dict[str, str]) -> "AuditRecord":
        """From stored params; `_run_id`, `_start_ms` and `_deleted` carry what the store knows."""
        known = {k: params.get(k, "") for k in cls.__dataclass_fields__ if k not in _STORE_FIELDS}
        return cls(
            **known,
            deleted=params.get("_deleted") == "True",
            run_id=params.get("_run_id", ""),
            stored_ms=int(params.get("_start_ms") or 0),
        )


_STORE_FIELDS = ("deleted", "run_id", "stored_ms")


def approval_values(approval: str) -> dict[str, str] | None:
    """The approval tags a record holds (its `approval` field is their JSON), {} when it holds none, None when the
    field cannot be read (cut short by a version that truncated long fields, or written around creditflow)."""
    if not approval:
        return {}
    try:
        values = json.loads(approval)
    except ValueError:
        return None
    if not isinstance(values, dict) or not all(isinstance(v, str) for v in values.values()):
        return None
    return values


def field_problems(fields: Mapping[str, str]) -> list[str]:
    """Why a stored record's fields cannot be read back as a record (empty when they can)."""
    approval = fields.get("approval", "")
    if approval_values(approval) is None:
        return [f"its approval field ({len(approval):,} characters) is not readable JSON (cut short when written?)"]
    return []


@dataclass(frozen=True)
class FilesCheck:
    """The model files as a caller found them: their tree hash, and anything wrong with the folder itself."""

    sha256: str
    problems: tuple[str, ...] = ()
