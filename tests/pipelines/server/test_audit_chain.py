"""The audit log's hash chain and the routes the gate judges, without a server."""

from __future__ import annotations

from pipelines.governance.rules.chain import record_digest
from pipelines.server.audit_chain import chain_problems, sealed_row


def chain(n: int) -> list[dict]:
    rows: list[dict] = []
    for seq in range(1, n + 1):
        entry = {"time": f"2026-01-01T00:00:0{seq}+00:00", "username": "u", "action": "review", "decision": "allowed"}
        rows.append(sealed_row(entry, rows[-1] if rows else None))
    return rows


def test_a_row_is_a_record_of_the_local_trails_format():
    first, second = chain(2)
    assert (first["seq"], first["prev"]) == (1, "0" * 64) and second["prev"] == first["digest"]
    fields = {k: str(v) for k, v in second.items()}
    assert record_digest(fields) == second["digest"]  # the digest of pipelines/governance/rules/chain.py, nothing else


def test_an_intact_chain_has_no_problems():
    assert chain_problems(chain(4)) == []


def test_a_changed_row_a_removed_row_and_a_reordered_row_are_found():
    changed = chain(3)
    changed[1]["decision"] = "refused"
    assert chain_problems(changed) == [
        "record 2 (review by u, row 2) does not match its digest: edited after it was written"
    ]
    removed = chain(3)
    del removed[1]
    assert chain_problems(removed) == [
        "record 3 (review by u, row 3) follows a record that is not in the trail: a gap "
        "(a record was removed, or this one was added from elsewhere)"
    ]
    swapped = chain(3)
    swapped[1], swapped[2] = swapped[2], swapped[1]
    assert chain_problems(swapped) == []  # the chain, not the order rows are read in, decides
