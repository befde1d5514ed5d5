"""The hash chain of the server's audit log: one place that turns a record into bytes and links it to the last.

Each row's hash is sha256 over the previous row's hash and the canonical serialisation of the row's own
fields (its sequence number included), so a changed, removed or reordered row breaks every later link.
This is the format the local audit trail uses for its chain too; when the two share one canonical
serialisation (`canonical`), point `canonical` at it and nothing else here changes.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any, Iterable, Mapping

GENESIS = "0" * 64
CHAINED_FIELDS = (
    "seq",
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


def canonical(record: Mapping[str, Any]) -> bytes:
    """The record's chained fields as canonical JSON: sorted keys, no whitespace, UTF-8."""
    fields = {key: record.get(key, "") for key in CHAINED_FIELDS}
    return json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str).encode()


def link_hash(previous_hash: str, record: Mapping[str, Any]) -> str:
    return hashlib.sha256(previous_hash.encode() + b"\n" + canonical(record)).hexdigest()


def payload_digest(body: bytes) -> str:
    """What a request asked for, without storing it: sha256 of its body."""
    return hashlib.sha256(body or b"").hexdigest()


def chain_problems(rows: Iterable[Mapping[str, Any]]) -> list[str]:
    """Every broken link of a chain read in sequence order (empty when the chain is intact)."""
    problems, previous, expected_seq = [], GENESIS, 1
    for row in rows:
        seq = int(row["seq"])
        if seq != expected_seq:
            problems.append(f"row {expected_seq}: missing (next row is {seq})")
        if row["previous_hash"] != previous:
            problems.append(f"row {seq}: previous_hash does not match row {seq - 1}")
        if link_hash(row["previous_hash"], row) != row["hash"]:
            problems.append(f"row {seq}: hash does not match its content (the row was changed)")
        previous, expected_seq = row["hash"], seq + 1
    return problems
