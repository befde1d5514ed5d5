"""`creditflow review --exception`: record an accepted exception to one failed or not-assessed gate.

Everything is checked before anything is written (exit 2, registry unchanged): the gate, who grants it
(never the author; one of the policy's granters when it names them), the justification, the expiry (not
past, within the policy's maximum) and, for fairness, the less-discriminatory alternative in the evidence.
The exception then becomes `exception.<gate>.*` tags, an `exception` record of the audit trail bound to the
evidence digest, and a row of the version's review page.
"""

from __future__ import annotations

import json

import click

from features.errors import CreditflowError
from features.policy import ExceptionTerms
from pipelines import tags
from pipelines.evidence.policy import stored_policy
from pipelines.gates.exceptions import (
    EXCEPTION,
    ExceptionRequest,
    exception_values,
    gate_of,
    request_problems,
)
from pipelines.gates.promotion import AuditRecord, evidence_digest
from pipelines.gates.team_rules import EXCEPTION_FIELDS_BY_RISK
from pipelines.governance import audit
from pipelines.governance.card import refresh_card
from pipelines.governance.team import refusals
from pipelines.tracking import Tracker, VersionInfo, connect

CHALLENGER_PATH = "fairness/challenger.json"


def grant_exception(
    model: str, version: str, gate: str, justification: str, expires: str, tracking_uri: str | None
) -> None:
    """Record an exception granted by the acting user ($CREDITFLOW_USER, else the OS user)."""
    tracker = connect(tracking_uri)
    tracker.model_version(model, version)  # unknown model or version: exit 2 before locking
    granter = audit.acting_user(tracker)
    if tracker.team is not None:
        return _grant_on_server(tracker, model, version, gate, justification, expires, granter)
    with tracker.registry_lock(model):
        found = tracker.model_version(model, version)
        request = _checked_request(tracker, found, gate, granter, justification, expires)
        when, digest = audit.now_iso(), evidence_digest(found)
        tracker.set_version_tags(model, version, exception_values(request, when, digest))
        audit.record(
            tracker,
            AuditRecord(
                EXCEPTION,
                model,
                found.version,
                granter,
                when,
                "done",
                reason=request.justification.strip(),
                evidence=digest,
                gate=request.gate,
                expires=request.expires,
            ),
        )
    refresh_card(tracker, found)
    click.echo(
        f"{model} version {found.version}: exception to {tags.VALIDATION_PREFIX}{request.gate} accepted by "
        f"{granter}, valid through {request.expires}; promotion still needs an approval given after it"
    )


def _checked_request(
    tracker: Tracker, found: VersionInfo, gate: str, granter: str, justification: str, expires: str
) -> ExceptionRequest:
    """The exception asked for, checked against the rules and the version's governed policy (CreditflowError
    naming every problem)."""
    governing = stored_policy(tracker, found)
    terms = governing.policy.exceptions if governing else ExceptionTerms()
    request = ExceptionRequest(gate_of(gate), granter, justification, expires, _alternative(tracker, found))
    problems = request_problems(found, request, audit.today(), terms)
    if problems:
        raise CreditflowError("; ".join(problems))
    return request


def _grant_on_server(
    tracker: Tracker, model: str, version: str, gate: str, justification: str, expires: str, granter: str
) -> None:
    """On a team server: the same checks, then the tags risk sets (`status` last); the server records who granted
    it, when and for which evidence, and writes the audit row the exception rules read."""
    found = tracker.model_version(model, version)
    request = _checked_request(tracker, found, gate, granter, justification, expires)
    values = exception_values(request, audit.now_iso(), evidence_digest(found))
    status = tags.exception_tag(request.gate, "status")
    for field in EXCEPTION_FIELDS_BY_RISK:  # what a client may set; the server writes the rest
        key = tags.exception_tag(request.gate, field)
        if key in values and key != status:
            refusals(lambda: tracker.set_version_tags(model, version, {key: values[key]}))
    refusals(lambda: tracker.set_version_tags(model, version, {status: values[status]}))
    click.echo(
        f"{model} version {found.version}: exception to {tags.VALIDATION_PREFIX}{request.gate} accepted by "
        f"{granter} (server-recorded), valid through {request.expires}; "
        "promotion still needs an approval given after it"
    )


def _alternative(tracker: Tracker, version: VersionInfo) -> str:
    """The less-discriminatory alternative's comparison with the model, in one line ('' when the run has none)."""
    text = tracker.read_text(version.run_id, CHALLENGER_PATH) if version.run_id else None
    if text is None:
        return ""
    report = json.loads(text)
    rows = {r["model"]: r for r in report.get("comparison", [])}
    if not {"original", "challenger"} <= set(rows):
        return ""
    about, ours, theirs = report.get("challenger", {}), rows["original"], rows["challenger"]
    return (
        f"challenger under {about.get('constraint', '?')} (bound {about.get('difference_bound', '?')}) on "
        f"{report.get('sample', '?')}: AUC {_num(theirs.get('auc'))} vs {_num(ours.get('auc'))}, approval rate "
        f"{_num(theirs.get('approval_rate'))} vs {_num(ours.get('approval_rate'))}, fairness "
        f"{theirs.get('fairness', '?')} vs {ours.get('fairness', '?')}"
    )


def _num(value) -> str:
    return "n/a" if value is None else f"{float(value):.3f}"
