"""The hash chain that makes an audit trail tamper-evident, as pure functions: records in, order and problems out.

Each record of one model's trail carries `seq` (1, 2, ...), `prev` (the digest of the record before it,
`GENESIS` for the first) and `digest` (sha256 of its canonical serialisation, `canonical`). The trail is
read by following `prev` links from the genesis, never by the time a record claims. The trail is
untrusted when
- a record has no chain fields (written before the chain existed, or added around creditflow);
- a record's digest does not match its content (edited);
- a record follows a record that is not there (a gap: removed, or the chain was spliced);
- two records follow the same record (a second head, a fork: a record inserted into the past);
- a record's sequence number is not its predecessor's plus one;
- a record's claimed time goes backwards along the chain, lies in the future, or is far from the time
  the store says it was written.
What a hash chain without a secret cannot show is that the newest records were not removed, or that a
well-formed record appended at the head was written by creditflow: the governance rules (the first
registration of a version wins; promotions are re-checked against the version's tags) cover the latter,
and team mode's append-only server table the former.

The serialisation is shared with team mode (issue 15), whose server keeps the same records in a table:
change `canonical` and every existing trail breaks.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Mapping

GENESIS = "0" * 64
SEQ, PREV, DIGEST = "seq", "prev", "digest"
CHAIN_FIELDS = (SEQ, PREV, DIGEST)
MAX_SKEW = timedelta(minutes=5)  # a record's claimed time vs the store's time, and vs now


def canonical(fields: Mapping[str, str]) -> bytes:
    """The bytes a record's digest covers: every non-empty field except `digest`, as compact UTF-8 JSON with
    sorted keys. Empty fields are left out, so a field added to the record type later does not change the
    digest of records written before it."""
    body = {str(k): str(v) for k, v in fields.items() if k != DIGEST and str(v) != ""}
    return json.dumps(body, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def record_digest(fields: Mapping[str, str]) -> str:
    return hashlib.sha256(canonical(fields)).hexdigest()


def seal(fields: Mapping[str, str], head: Mapping[str, str] | None) -> dict[str, str]:
    """`fields` as the record after `head` (None: the first record): with seq, prev and digest."""
    sealed = {k: str(v) for k, v in fields.items() if k not in CHAIN_FIELDS}
    sealed[SEQ] = str(int(head[SEQ]) + 1) if head else "1"
    sealed[PREV] = head[DIGEST] if head else GENESIS
    sealed[DIGEST] = record_digest(sealed)
    return sealed


@dataclass(frozen=True)
class Link:
    """One stored record as the chain sees it."""

    ref: str  # where it is stored (a run id, a row id): for messages
    label: str  # what it is, for messages ("review of version 2")
    fields: Mapping[str, str]  # as stored, chain fields included
    claimed: datetime | None  # the time the record states (None: missing or unreadable)
    stored: datetime | None  # when the store says it was written (None: unknown)

    @property
    def chained(self) -> bool:
        return bool(self.fields.get(DIGEST))

    def name(self) -> str:
        seq = self.fields.get(SEQ)
        return f"record {seq} ({self.label}, {self.ref})" if seq else f"record {self.label} ({self.ref})"


@dataclass
class ChainVerdict:
    """The records in chain order (then any left off the chain) and every problem, first bad record first."""

    order: list[Link] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    unchained: list[Link] = field(default_factory=list)  # records without chain fields (each also a problem)

    @property
    def broken(self) -> list[str]:
        """The problems of the chained records alone (what `audit rebuild` never papers over)."""
        return self.problems[: len(self.problems) - len(self.unchained)]

    @property
    def trusted(self) -> bool:
        return not self.problems

    @property
    def head(self) -> Link | None:
        """The record a new one follows: the last one reached from the genesis."""
        chained = [link for link in self.order if link.chained]
        return chained[-1] if chained else None


def verify_chain(links: list[Link], now: datetime, *, removed: Mapping[str, str] | None = None) -> ChainVerdict:
    """Follow the chain from the genesis and name every break; `removed` maps the digests of records that
    exist but do not count (deleted in the UI) to how to restore them, for a clearer gap message."""
    verdict = ChainVerdict()
    chained = [link for link in links if link.chained]
    children: dict[str, list[Link]] = {}
    for link in chained:
        children.setdefault(link.fields.get(PREV, ""), []).append(link)
    walked = _walk(children, now, verdict)
    reached = {id(link) for link in walked}
    left = [link for link in chained if id(link) not in reached]
    digests = {link.fields.get(DIGEST) for link in chained}
    cut_off = [link for link in left if link.fields.get(PREV, "") in digests]
    for link in sorted(left, key=_stored_order):
        before = link.fields.get(PREV, "")
        if before in digests:
            continue  # follows a record that is itself cut off: summarised below
        where = (removed or {}).get(before)
        verdict.problems.append(
            f"{link.name()} follows a record that is not in the trail: a gap"
            + (f" ({where})" if where else " (a record was removed, or this one was added from elsewhere)")
        )
    if cut_off:
        verdict.problems.append(f"{len(cut_off)} later record(s) are cut off from the start of the trail")
    unchained = [link for link in links if not link.chained]
    verdict.unchained = unchained
    for link in unchained:
        verdict.problems.append(
            f"{link.name()} carries no chain fields: written before the hash chain (creditflow audit rebuild "
            "anchors such records) or added around creditflow"
        )
    verdict.order = walked + sorted(left, key=_stored_order) + unchained
    return verdict


def _walk(children: dict[str, list[Link]], now: datetime, verdict: ChainVerdict) -> list[Link]:
    walked: list[Link] = []
    current, previous, seen = GENESIS, None, {GENESIS}
    while children.get(current):
        candidates = sorted(children[current], key=_stored_order)
        if len(candidates) > 1:
            others = ", ".join(c.name() for c in candidates[1:])
            after = previous.name() if previous else "the start of the trail"
            verdict.problems.append(f"{others} and {candidates[0].name()} both follow {after}: a second head (fork)")
        link = candidates[0]
        verdict.problems.extend(link_problems(link, previous, now))
        walked.append(link)
        current, previous = link.fields.get(DIGEST, ""), link
        if current in seen:  # a forged digest that points back into the chain: stop
            break
        seen.add(current)
    return walked


def link_problems(link: Link, previous: Link | None, now: datetime) -> list[str]:
    """What is wrong with one record given the record before it in the chain."""
    problems = []
    if record_digest(link.fields) != link.fields.get(DIGEST):
        problems.append(f"{link.name()} does not match its digest: edited after it was written")
    expected = int(previous.fields.get(SEQ, "0") or 0) + 1 if previous else 1
    if link.fields.get(SEQ) != str(expected):
        problems.append(f"{link.name()} has sequence number {link.fields.get(SEQ)!r}, expected {expected}")
    problems.extend(_time_problems(link, previous, now))
    return problems


def _time_problems(link: Link, previous: Link | None, now: datetime) -> list[str]:
    if link.claimed is None:
        return [f"{link.name()} states no readable time"]
    problems = []
    if previous is not None and previous.claimed is not None and link.claimed < previous.claimed:
        problems.append(f"{link.name()} claims {link.claimed.isoformat()}, before the record it follows")
    if link.claimed > now + MAX_SKEW:
        problems.append(f"{link.name()} is dated in the future ({link.claimed.isoformat()})")
    if link.stored is not None and abs(link.claimed - link.stored) > MAX_SKEW:
        problems.append(
            f"{link.name()} claims {link.claimed.isoformat()} but was stored at {link.stored.isoformat()}: backdated"
        )
    return problems


def _stored_order(link: Link) -> tuple[float, str]:
    return (link.stored.timestamp() if link.stored else 0.0, link.ref)
