"""The hash chain of the server's audit log, in the record format of the local audit trail.

A row is a record of `pipelines/governance/rules/chain.py`, the one definition of the format: its fields (time, user,
route, action, model, version, target, payload digest, decision, reason, detail) with `seq`, `prev` (the digest
of the row before it, `GENESIS` for the first) and `digest` (sha256 of the record's canonical serialisation,
`canonical`). Sealing and verifying are that module's `seal` and `verify_chain`, so a changed, removed,
inserted or reordered row, or a row dated before the one it follows, is named exactly as in a local trail.
The server keeps one chain for every model (a table, in `seq` order); a model's rows are a part of it.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timezone
from typing import Any, Iterable, Mapping

from pipelines.core.clock import parse_time
from pipelines.governance.rules.chain import CHAIN_FIELDS, SEQ, Link, seal, verify_chain

CHAINED_FIELDS = (
    "time",
    "username",
    "route",
    "action",
    "model",
    "version",
    "target",
    "payload_digest",
    "decision",
    "reason",
    "detail",
)


def record_fields(row: Mapping[str, Any]) -> dict[str, str]:
    """A row as the record the chain covers: the table's columns (named as the record's fields: `seq`, `prev`,
    `digest`), as text."""
    return {key: str(row[key]) for key in (*CHAINED_FIELDS, *CHAIN_FIELDS) if row.get(key) is not None}


def sealed_row(entry: Mapping[str, Any], head: Mapping[str, Any] | None) -> dict[str, Any]:
    """`entry` as the row after `head` (the last row; None for the first): with seq, prev and digest."""
    sealed = seal({key: str(entry.get(key, "")) for key in CHAINED_FIELDS}, record_fields(head) if head else None)
    return {**sealed, SEQ: int(sealed[SEQ])}


def payload_digest(body: bytes) -> str:
    """What a request asked for, without storing it: sha256 of its body."""
    return hashlib.sha256(body or b"").hexdigest()


def chain_problems(rows: Iterable[Mapping[str, Any]], *, now: datetime | None = None) -> list[str]:
    """Every break of the chain (empty when it is intact), as `pipelines.governance.rules.chain.verify_chain`
    names it."""
    links = [_link(row) for row in rows]
    return verify_chain(links, now or datetime.now(timezone.utc)).problems


def _link(row: Mapping[str, Any]) -> Link:
    fields = record_fields(row)
    label = f"{row.get('action', '?')} by {row.get('username', '?')}"
    return Link(f"row {row.get(SEQ)}", label, fields, parse_time(str(row.get("time", ""))), None)
