"""The audit trail's hash chain on hand-made records: order, forgeries, gaps, forks and clocks (issue 12, item 2)."""

from datetime import datetime, timedelta, timezone

from pipelines.governance.rules.chain import GENESIS, Link, canonical, record_digest, seal, verify_chain

T0 = datetime(2026, 11, 1, 12, 0, tzinfo=timezone.utc)
NOW = T0 + timedelta(days=1)


def link(fields, minutes=0, stored_minutes=None, ref=None):
    claimed = T0 + timedelta(minutes=minutes)
    stored = T0 + timedelta(minutes=minutes if stored_minutes is None else stored_minutes)
    fields = {**fields, "time": claimed.isoformat()}
    return fields, claimed, stored, ref or f"run-{fields.get('action')}-{minutes}"


def chain(*actions):
    """An honest trail: one record per action, a minute apart, each sealed after the one before."""
    links, head = [], None
    for minute, action in enumerate(actions):
        fields, claimed, stored, ref = link({"action": action, "version": "1"}, minute)
        sealed = seal(fields, head)
        links.append(Link(ref, action, sealed, claimed, stored))
        head = sealed
    return links


def test_an_honest_trail_verifies_in_chain_order_whatever_the_listing_order():
    links = chain("register", "review", "promote")
    verdict = verify_chain(list(reversed(links)), NOW)
    assert verdict.trusted and [x.label for x in verdict.order] == ["register", "review", "promote"]
    assert verdict.head is links[-1] and links[0].fields["prev"] == GENESIS


def test_the_canonical_serialisation_is_fixed():
    # team mode (issue 15) stores the same records: this vector must never change
    fields = {"action": "register", "model": "m", "version": "1", "evidence": "", "seq": "1", "prev": GENESIS}
    assert canonical(fields) == (
        b'{"action":"register","model":"m","prev":"' + GENESIS.encode() + b'","seq":"1","version":"1"}'
    )
    assert record_digest(fields) == record_digest({**fields, "digest": "anything", "reason": ""})
    assert canonical({"actor": "ｒisk"}) == '{"actor":"ｒisk"}'.encode()


def test_an_edited_record_breaks_its_digest():
    links = chain("register", "review")
    edited = Link(
        links[0].ref, "register", {**links[0].fields, "evidence": "f" * 64}, links[0].claimed, links[0].stored
    )
    verdict = verify_chain([edited, links[1]], NOW)
    assert not verdict.trusted and "does not match its digest" in verdict.problems[0]
    assert "run-register-0" in verdict.problems[0]


def test_a_backdated_record_inserted_into_the_past_is_a_second_head():
    links = chain("register", "review", "promote")
    fields, claimed, _, _ = link({"action": "register", "version": "1", "evidence": "tampered"}, 0)
    forged = Link("run-forged", "register", seal(fields, links[0].fields), claimed, T0 + timedelta(hours=3))
    verdict = verify_chain([*links, forged], NOW)
    assert not verdict.trusted
    assert "second head (fork)" in verdict.problems[0] and "run-forged" in verdict.problems[0]


def test_a_record_dated_in_the_future_or_backdated_or_going_backwards_is_named():
    links = chain("register", "review")
    head = links[-1].fields
    future = datetime(2099, 1, 1, tzinfo=timezone.utc)
    fields = {"action": "promote", "version": "1", "time": future.isoformat()}
    dated_2099 = Link("run-2099", "promote", seal(fields, head), future, T0 + timedelta(minutes=2))
    problems = verify_chain([*links, dated_2099], NOW).problems
    assert any("dated in the future" in p and "run-2099" in p for p in problems)
    assert any("backdated" in p for p in problems)

    fields, claimed, _, _ = link({"action": "promote", "version": "1"}, -30)
    backwards = Link("run-back", "promote", seal(fields, head), claimed, claimed)
    assert "before the record it follows" in verify_chain([*links, backwards], NOW).problems[0]

    fields, claimed, _, _ = link({"action": "promote", "version": "1"}, 5)
    stored_late = Link("run-late", "promote", seal(fields, head), claimed, claimed + timedelta(hours=2))
    assert "backdated" in verify_chain([*links, stored_late], NOW).problems[0]


def test_a_removed_record_leaves_a_gap_naming_the_next_one():
    links = chain("register", "review", "promote", "rollback")
    verdict = verify_chain(
        [links[0], links[2], links[3]], NOW, removed={links[1].fields["digest"]: "run x was deleted"}
    )
    assert verdict.problems[0].startswith("record 3 (promote, run-promote-2) follows a record that is not in the trail")
    assert "run x was deleted" in verdict.problems[0]
    assert "1 later record(s) are cut off" in verdict.problems[1]


def test_a_wrong_sequence_number_and_a_record_without_chain_fields_are_named():
    links = chain("register", "review")
    fields = {k: v for k, v in links[1].fields.items() if k != "digest"}
    renumbered = {**fields, "seq": "7"}
    renumbered["digest"] = record_digest(renumbered)
    relabelled = Link(links[1].ref, "review", renumbered, links[1].claimed, links[1].stored)
    assert "sequence number '7', expected 2" in verify_chain([links[0], relabelled], NOW).problems[0]

    fields, claimed, stored, _ = link({"action": "register", "version": "2"}, 3)
    unchained = Link("run-old", "register", fields, claimed, stored)
    verdict = verify_chain([*links, unchained], NOW)
    assert verdict.broken == [] and verdict.unchained == [unchained]
    assert "carries no chain fields" in verdict.problems[0] and "audit rebuild" in verdict.problems[0]


def test_a_forged_digest_pointing_back_into_the_chain_does_not_loop():
    links = chain("register")
    fields, claimed, stored, _ = link({"action": "promote", "version": "1"}, 1)
    loop = {**fields, "seq": "2", "prev": links[0].fields["digest"], "digest": links[0].fields["digest"]}
    verdict = verify_chain([*links, Link("run-loop", "promote", loop, claimed, stored)], NOW)
    assert not verdict.trusted
