"""Bounded, readable audit records (issue 28, item 1): every free text a person types into governance (a review's
comment, an exception's justification, a rollback's reason, the acting user's name) is either refused whole with a
one-line message, or recorded and read back exactly as typed; no record is ever stored that cannot be read."""

import itertools
import json
from typing import Iterator

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from features.errors import CreditflowError
from pipelines.cli import cli
from pipelines.core.actor import current_user
from pipelines.core.clock import now_iso
from pipelines.core.free_text import NAME_LIMIT, TEXT_LIMIT, shown, text_problem
from pipelines.core.records import AuditRecord
from pipelines.governance.local.audit_trail import MAX_FIELD_CHARS, load_trail, record
from pipelines.governance.rules.chain import seal
from pipelines.governance.rules.promotion import approval_fingerprint_of
from pipelines.tracking import Tracker

MODELS = itertools.count()
# Any Unicode text, lone surrogates (an undecodable byte in an argument) and NUL included, short or far too long.
ANY_TEXT = st.one_of(
    st.text(st.characters(exclude_categories=())),
    st.text(st.characters(exclude_categories=()), min_size=TEXT_LIMIT - 50, max_size=MAX_FIELD_CHARS + 500),
)


def review_entry(model: str, comment: str, reviewer: str) -> AuditRecord:
    """A review record as `creditflow review` builds it: the comment in the reason and in the approval field."""
    intended = {"approval.status": "rejected", "approval.reviewer": reviewer, "approval.comment": comment}
    entry = AuditRecord("review", model, "1", reviewer, now_iso(), "done", reason=f"rejected: {comment}")
    return AuditRecord(**{**entry.__dict__, "approval": approval_fingerprint_of(intended)})


def entries(model: str, text: str) -> Iterator[AuditRecord]:
    """One record per free-text field, `text` in it, each made when it is recorded."""
    yield review_entry(model, text, "carol")
    yield review_entry(model, "fine", text)
    yield AuditRecord(
        "exception", model, "1", "carol", now_iso(), "done", reason=text, gate="fairness", expires="2099-01-01"
    )
    yield AuditRecord("rollback", model, "1", "carol", now_iso(), "done", reason=text, from_version="2", to_version="1")


@pytest.fixture(scope="module")
def shared_store(tmp_path_factory, store_template):
    import shutil

    folder = tmp_path_factory.mktemp("free_text")
    shutil.copy(store_template, folder / "mlflow.db")
    return Tracker(f"sqlite:///{folder / 'mlflow.db'}")


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=ANY_TEXT)
def test_any_text_in_any_free_text_field_is_refused_whole_or_read_back_intact(shared_store, text):
    model = f"m{next(MODELS)}"  # a short trail per example: each read verifies the whole chain
    for entry in entries(model, text):
        before = load_trail(shared_store, model)
        try:
            stored = record(shared_store, entry)
        except CreditflowError as exc:
            message = str(exc)
            assert "\n" not in message and "nothing was recorded" in message and len(message) < 400
            after = load_trail(shared_store, model)
            assert after.trusted and len(after.records) == len(before.records)
            continue
        after = load_trail(shared_store, model)
        assert after.trusted, after.problems
        assert len(after.records) == len(before.records) + 1
        back = after.records[-1]
        assert back.params() == stored.params() and back.reason == entry.reason and back.actor == entry.actor
        if entry.approval:
            assert json.loads(back.approval) == json.loads(entry.approval)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=st.text(st.characters(exclude_categories=("Cs", "Cc")), min_size=1, max_size=TEXT_LIMIT))
def test_every_text_within_the_stated_limit_is_recorded(shared_store, text):
    """The stated limit is the real one: a printable text of up to 2,000 characters in any script always fits."""
    assert text_problem("--comment", text) is None
    model = f"m{next(MODELS)}"
    for entry in entries(model, text):
        if entry.actor != text:  # a login has its own, shorter limit
            stored = record(shared_store, entry)
            assert load_trail(shared_store, model).records[-1].params() == stored.params()


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("x" * (TEXT_LIMIT + 1), "--comment is 2,001 characters long; the limit is 2,000"),
        ("bad \udcff byte", "--comment is not valid Unicode text (an undecodable byte at character 5)"),
        ("a\x00b", "--comment holds a NUL character (at character 2)"),
    ],
    ids=["too-long", "surrogate", "nul"],
)
def test_a_text_past_the_limit_or_not_text_is_named_in_one_line(value, expected):
    assert expected in text_problem("--comment", value)


def test_a_long_or_undecodable_creditflow_user_is_refused(monkeypatch):
    monkeypatch.setenv("CREDITFLOW_USER", "u" * 10_000)
    with pytest.raises(CreditflowError, match=f"CREDITFLOW_USER is 10,000 characters long; the limit is {NAME_LIMIT}"):
        current_user()
    monkeypatch.setenv("CREDITFLOW_USER", "carol")
    assert current_user() == "carol"


def test_an_echoed_value_is_cut_at_200_characters():
    assert shown("short") == "'short'"
    cut = shown("y" * 2_000_000)
    assert len(cut) < 250 and cut.endswith("(1,999,802 more characters)")


def test_a_long_comment_is_refused_through_the_cli_before_anything_is_written(governed):
    before = len(load_trail(Tracker(governed), "german_credit").records)
    result = CliRunner().invoke(
        cli, ["review", "german_credit", "2", "--reject", "--comment", "c" * 10_000], catch_exceptions=False
    )
    assert result.exit_code == 2 and "--comment is 10,000 characters long; the limit is 2,000" in result.output
    assert result.output.count("\n") == 1
    assert len(load_trail(Tracker(governed), "german_credit").records) == before
    user = CliRunner().invoke(
        cli,
        ["review", "german_credit", "2", "--reject", "--comment", "thin"],
        env={"CREDITFLOW_USER": "u" * 10_000},
        catch_exceptions=False,
    )
    assert user.exit_code == 2 and "CREDITFLOW_USER is 10,000 characters long" in user.output
    assert len(load_trail(Tracker(governed), "german_credit").records) == before


def test_a_record_cut_by_an_older_version_is_reported_untrusted_then_set_aside_by_a_rebuild(governed):
    """What `review --comment <10,000 characters>` wrote before issue 28: the approval field cut at 6,000 characters,
    sealed as cut (so the chain holds) and unreadable as JSON. Every later command ended in a traceback."""
    tracker = Tracker(governed)
    model = "german_credit"
    comment = "c" * 10_000
    intended = {"approval.status": "rejected", "approval.reviewer": "carol", "approval.comment": comment}
    entry = AuditRecord("review", model, "2", "carol", now_iso(), "done", reason=f"rejected: {comment}")
    fields = {**entry.params(), "approval": approval_fingerprint_of(intended)}
    cut = {k: v[:MAX_FIELD_CHARS] for k, v in fields.items()}
    run_id = tracker.log_record(f"{model}-governance", "review-2-done", seal(cut, load_trail(tracker, model).head))
    tracker.set_version_tags(model, "2", {**intended, "approval.time": entry.time})

    for args in (["status", model], ["audit", "verify", model], ["promote", model, "2"]):
        result = CliRunner().invoke(cli, args, catch_exceptions=False)
        assert result.exit_code == 1, (args, result.output)
        assert "is malformed: its approval field (6,000 characters) is not readable JSON" in result.output
        assert run_id in result.output and "Traceback" not in result.output

    rebuilt = CliRunner().invoke(cli, ["audit", "rebuild", model], catch_exceptions=False)
    assert rebuilt.exit_code == 0, rebuilt.output
    assert "rebuilt: set aside record" in rebuilt.output
    trail = load_trail(tracker, model)
    assert trail.trusted and trail.records[-1].action == "rebuild" and trail.records[-1].repairs
    status = CliRunner().invoke(cli, ["status", model], catch_exceptions=False)
    assert "malformed" not in status.output and "Traceback" not in status.output
    again = CliRunner().invoke(
        cli, ["review", model, "2", "--reject", "--comment", "shorter", "--new-review"], catch_exceptions=False
    )
    assert again.exit_code == 0, again.output
