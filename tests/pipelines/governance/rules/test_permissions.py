"""The team server's rules on their own: who may register, review, grant exceptions, move aliases."""

from __future__ import annotations

import pytest

from pipelines.core.records import AuditRecord, VersionInfo
from pipelines.governance.rules.permissions import (
    Actor,
    alias_problems,
    champion_move_problems,
    description_problems,
    governed_model_problems,
    model_tag_problems,
    registration_problems,
    version_tag_problems,
)
from pipelines.governance.rules.promotion import evidence_digest

DS, REV, RISK = Actor("ds1", "data-scientist"), Actor("rev1", "reviewer"), Actor("risk1", "risk")
GATES = {f"validation.{g}": "passed" for g in ("data_design", "performance", "stability", "fairness")}


def version(aliases=(), **tags) -> VersionInfo:
    values = {**GATES, "lineage.author": "ds1", "approval.status": "pending", **tags}
    return VersionInfo("m", "1", values, tuple(aliases), "run", "models:/m-0a", 0)


def registered(v: VersionInfo) -> list[AuditRecord]:
    return [AuditRecord("register", "m", v.version, "ds1", "t0", "done", evidence=evidence_digest(v))]


def test_only_data_scientists_register_from_a_logged_model():
    authors = {k.replace("validation.", "author."): v for k, v in GATES.items()}
    assert registration_problems(DS, {**authors, "approval.status": "pending"}, "models:/m-0a") == []
    assert "data scientists register" in registration_problems(REV, {}, "models:/m-0a")[0]
    assert "Promote model" in registration_problems(DS, {}, "models:/german_credit/3")[0]
    assert "cannot be set at registration" in registration_problems(DS, {"approval.status": "approved"}, "")[0]
    assert "cannot be set at registration" in registration_problems(DS, {"exception.fairness.status": "x"}, "")[0]


@pytest.mark.parametrize(
    "actor, key, value, found",
    [
        (REV, "approval.status", "approved", None),
        (REV, "approval.comment", "fine", None),
        (REV, "approval.reviewer", "REV1", None),  # names compare case-insensitively
        (REV, "monitoring.status", "ok", "may not record monitoring"),  # monitoring records it (risk, validator)
        (REV, "team.note", "ok", None),  # not governed
        (DS, "approval.status", "approved", "may not review"),
        (Actor("ds1", "reviewer"), "approval.status", "approved", "four-eyes: ds1 registered version 1"),
        (REV, "approval.status", "maybe", "must be one of approved, rejected"),
        (REV, "approval.reviewer", "rev2", "must be the authenticated reviewer"),
        (REV, "approval.evidence", "abc", "written by the server"),
        (REV, "validation.fairness", "passed", "evidence written at registration"),
        (DS, "lineage.author", "rev1", "evidence written at registration"),
        (RISK, "exception.fairness.status", "accepted", None),
        (RISK, "exception.fairness.expires", "soon", "must be a date"),
        (RISK, "exception.fairness.granted_by", "risk1", "written by the server"),
        (RISK, "exception.colour.status", "accepted", "not an exception tag"),
        (REV, "exception.fairness.status", "accepted", "risk grants them"),
        (REV, "approval.status", None, "cannot be deleted"),
        (REV, "approval.comment", "c" * 10_000, "approval.comment is 10,000 characters long; the limit is 2,000"),
        (RISK, "exception.fairness.justification", "bad\x00", "holds a NUL character"),
        (Actor("val", "validator"), "validation.fairness", "passed", None),
        (Actor("val", "validator"), "lineage.model_sha256", "0" * 64, None),  # once: the version has none
        (Actor("val", "validator"), "lineage.data_digest", "0" * 64, "evidence written at registration"),
        (DS, "author.fairness", "passed", "what the author's run reported at registration"),
        (REV, "Approval.status", "approved", "reads as the governed tag approval.status"),
        (REV, " approval.status", "approved", "reads as the governed tag approval.status"),
        (REV, "\uff41pproval.status", "approved", "reads as the governed tag approval.status"),  # full-width a
        (DS, "v\u0430lidation.fairness", "passed", "reads as the governed tag validation.*"),  # Cyrillic a
    ],
)
def test_version_tags(actor, key, value, found):
    problems = version_tag_problems(actor, version(), key, value)
    assert (problems == []) if found is None else any(found in p for p in problems), problems


def test_the_champion_cannot_be_rejected():
    problems = version_tag_problems(REV, version(aliases=("champion",)), "approval.status", "rejected")
    assert "roll it back" in problems[0]


def test_champion_moves_need_a_reviewer_who_is_not_the_author_and_the_promotion_rules():
    approved = version(**{"approval.status": "approved", "approval.reviewer": "rev1"})
    assert champion_move_problems(REV, approved, registered(approved)) == []
    assert "reviewers promote" in champion_move_problems(DS, approved, registered(approved))[0]
    author = champion_move_problems(Actor("ds1", "reviewer"), approved, registered(approved))
    assert "four-eyes: ds1 registered version 1 and may not promote it" in author
    pending = version()
    assert "approval.status is 'pending', not 'approved'" in champion_move_problems(REV, pending, registered(pending))


def test_aliases_and_governed_models():
    assert alias_problems(DS, "challenger", deleting=False) == []
    assert "moved by the server" in alias_problems(REV, "previous", deleting=False)[0]
    assert "moved by the server" in alias_problems(DS, "Previous", deleting=False)[0]
    assert "use creditflow rollback" in alias_problems(REV, "champion", deleting=True)[0]
    assert "may not set model aliases" in alias_problems(RISK, "challenger", deleting=False)[0]
    assert governed_model_problems("delete model", "m", 0) == []
    assert "is governed (2 version(s)): rename model is refused" in governed_model_problems("rename model", "m", 2)[0]
    assert model_tag_problems("approval.status") and model_tag_problems("owner") == []


def test_evidence_is_never_sent_at_registration():
    """Issue 22: a forged `validation.fairness=passed` or model hash at registration is refused, for every policy."""
    for key in ("validation.fairness", "validation.policy", "lineage.model_sha256"):
        found = registration_problems(DS, {key: "passed"}, "models:/m-0a")
        assert len(found) == 1 and "evidence the validator writes" in found[0], found
    looks = registration_problems(DS, {"Approval.status": "approved"}, "models:/m-0a")
    assert looks and "reads as the governed tag approval.status" in looks[0]


@pytest.mark.parametrize("alias", ["\uff43hampion", "ch\u0430mpion", "prev1ous", " previous"])
def test_look_alike_aliases_are_refused(alias):
    assert "looks like the governed alias" in alias_problems(DS, alias, deleting=False)[0]


@pytest.mark.parametrize("actor, allowed", [(DS, False), (REV, False), (RISK, True), (Actor("val", "validator"), True)])
def test_the_monitoring_verdict_is_recorded_by_risk_or_the_validator_only(actor, allowed):
    problems = version_tag_problems(actor, version(), "monitoring.status", "ok")
    assert (problems == []) == allowed, problems


def test_who_monitors_rewrites_the_monitoring_paragraph_of_a_description_and_nothing_else():
    old = "Registered by ds1.\n\n**Validated** by val: [review page](#/x)\n\nMonitoring: latest window 2026-01 is OK"
    new_status = old.replace("2026-01 is OK", "2026-02 is ALERT")
    assert description_problems(RISK, "1", old, new_status) == []
    assert description_problems(RISK, "1", old, old.replace("Registered by ds1", "Registered by rev1"))
    assert description_problems(DS, "1", old, new_status)  # a data scientist's "all fine" is refused
