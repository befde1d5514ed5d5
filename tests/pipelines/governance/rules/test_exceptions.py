"""Exception rules on hand-made versions and trails (no tracking store)."""

import datetime as dt
from dataclasses import replace

import pytest

from features.policy import ExceptionTerms
from pipelines.core.records import AuditRecord
from pipelines.governance.rules.exceptions import (
    ExceptionRequest,
    exception_values,
    expired_exceptions,
    recorded_exceptions,
    request_problems,
)
from pipelines.governance.rules.promotion import champion_problems, evidence_digest, unmet_conditions
from tests.pipelines.governance.rules.test_promotion import TODAY, promoted, registered, version

TERMS = ExceptionTerms(max_days=90)
FAILED = {"validation.fairness": "failed", "validation.policy": "consumer-credit v1", "validation.policy_digest": "x"}


def request(**changes) -> ExceptionRequest:
    values = {
        "gate": "fairness",
        "granted_by": "dora",
        "justification": "age is an empirically derived factor",
        "expires": "2026-04-30",
        "alternative": "challenger AUC 0.70 vs 0.78",
    }
    return ExceptionRequest(**{**values, **changes})


def granted(v, trail, req=None, when="2026-03-01T10:00:00"):
    """The version with the exception's tags, and the trail with its record and a later approval."""
    req = req or request()
    v = replace(v, tags={**v.tags, **exception_values(req, when, evidence_digest(v))})
    record = AuditRecord(
        "exception",
        "m",
        v.version,
        req.granted_by,
        when,
        "done",
        evidence=evidence_digest(v),
        gate=req.gate,
        expires=req.expires,
    )
    review = AuditRecord("review", "m", v.version, "bob", "2026-03-01T11:00:00", "done", reason="approved: ok")
    return v, [*trail, record, review]


@pytest.mark.parametrize(
    "changes, tags, message",
    [
        ({}, {"validation.fairness": "passed"}, "validation.fairness is 'passed': an exception is only for a failed"),
        ({"granted_by": "Alice"}, {}, "Alice is the version's author: an exception is granted by someone else"),
        ({"justification": "  "}, {}, "--justification must say why"),
        ({"expires": "2026-02-28"}, {}, "--expires 2026-02-28 is in the past"),
        ({"expires": "2026-06-01"}, {}, "beyond the policy's maximum of 90 days (at most 2026-05-30)"),
        ({"expires": "next week"}, {}, "expected a date YYYY-MM-DD"),
        (
            {"gate": "speed"},
            {},
            "--exception speed: no registered gate of that name (one of: data_design, performance, ",
        ),
        ({"gate": "policy"}, {}, "no registered gate of that name"),
        ({"gate": "stability"}, {"validation.stability": None}, "--exception stability: version 1 has no gate of that"),
        ({"alternative": ""}, {}, "a fairness exception needs the less-discriminatory alternative"),
    ],
)
def test_bad_exception_requests(changes, tags, message):
    v = version(**{**FAILED, **tags})
    problems = request_problems(v, request(**changes), TODAY, TERMS)
    assert any(message in p for p in problems), problems


def test_a_valid_request_and_the_policy_granters():
    v = version(**FAILED)
    assert request_problems(v, request(), TODAY, TERMS) == []
    assert request_problems(v, request(expires="2026-05-30"), TODAY, TERMS) == []  # exactly the maximum
    not_assessed = version(**{**FAILED, "validation.fairness": "not_assessed"})
    assert request_problems(not_assessed, request(alternative=""), TODAY, TERMS) == []  # nothing to mitigate
    listed = ExceptionTerms(granted_by=["erin"])
    assert request_problems(v, request(), TODAY, listed) == [
        "dora may not grant exceptions under this policy (allowed: erin)"
    ]


def test_a_failed_gate_promotes_only_with_a_valid_unexpired_exception_and_a_later_approval():
    v = version(**FAILED)
    trail = [registered(v)]
    assert unmet_conditions(v, trail, today=TODAY) == [
        "validation.fairness is 'failed', not 'passed', and no accepted exception"
    ]
    excused, full = granted(v, trail)
    assert unmet_conditions(excused, full, today=TODAY) == []
    assert unmet_conditions(excused, full, today=dt.date(2026, 4, 30)) == []  # valid through its last day
    assert unmet_conditions(excused, full, today=dt.date(2026, 5, 1)) == [
        "validation.fairness is 'failed', not 'passed', and its exception expired on 2026-04-30"
    ]
    assert "approval predates its exception" in unmet_conditions(excused, full[:-1], today=TODAY)[0]
    typed_in_ui = replace(excused, tags={**excused.tags, "exception.fairness.expires": "2027-01-01"})
    assert "differ from the recorded exception" in unmet_conditions(typed_in_ui, full, today=TODAY)[0]
    assert "no accepted exception" in unmet_conditions(excused, [trail[0], full[-1]], today=TODAY)[0]  # no record
    deleted = [full[0], replace(full[1], deleted=True), full[2]]
    assert "no accepted exception" in unmet_conditions(excused, deleted, today=TODAY)[0]


def test_an_expired_exception_is_reported_not_enforced_on_the_champion():
    excused, trail = granted(version(aliases=("champion",), **FAILED), [])
    trail = [registered(excused), *trail, promoted(excused, time="2026-03-02T00:00:00")]
    assert champion_problems(excused, trail) == []
    late = dt.date(2026, 5, 1)
    assert expired_exceptions(excused, trail, late) == ["validation.fairness: exception expired on 2026-04-30"]
    assert expired_exceptions(excused, trail, TODAY) == []
    rows = recorded_exceptions(excused, trail)
    assert [(r["gate"], r["granted_by"], r["expires"], r["tags"]) for r in rows] == [
        ("fairness", "dora", "2026-04-30", "match")
    ]
    assert rows[0]["alternative"] == "challenger AUC 0.70 vs 0.78"
    typed = replace(excused, tags={**excused.tags, "exception.fairness.expires": "2027-01-01"})
    assert recorded_exceptions(typed, trail)[0]["tags"] == "changed around creditflow"
    assert recorded_exceptions(typed, []) == [] and expired_exceptions(typed, [], late) == []


@pytest.mark.parametrize(
    "forged, terms, message",
    [
        (request(granted_by="alice", expires="2099-12-31"), None, "granted by the version's author 'alice'"),
        (request(granted_by="alice\u200b"), None, "granted by the version's author"),
        (request(granted_by="\u0251lice"), None, "granted by the version's author"),
        (request(expires="2099-12-31"), TERMS, "lasts beyond the policy's maximum of 90 days"),
        (request(), ExceptionTerms(granted_by=["erin"]), "dora may not grant exceptions under this policy"),
    ],
)
def test_a_forged_exception_record_is_not_honoured_at_promotion(forged, terms, message):
    """Issue 29, item 3: a record written into the store (author as granter, expiry 2099) passes the tag and
    digest checks; promotion re-checks it against the governed policy."""
    v = version(**FAILED)
    excused, full = granted(v, [registered(v)], forged)
    problems = unmet_conditions(excused, full, today=TODAY, terms=terms)
    assert problems and message in problems[0], problems
    assert unmet_conditions(*granted(v, [registered(v)]), today=TODAY, terms=TERMS) == []


def test_an_exception_to_a_passed_gate_excuses_nothing_and_is_not_needed():
    v = version(**{**FAILED, "validation.fairness": "passed"})
    excused, full = granted(v, [registered(v)])
    assert unmet_conditions(excused, full, today=TODAY, terms=TERMS) == []
