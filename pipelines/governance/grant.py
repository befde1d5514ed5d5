"""`creditflow review --exception`: record an accepted exception to one failed or not-assessed gate.

Everything is checked before anything is written (exit 2, registry unchanged): the gate, who grants it
(never the author; one of the policy's granters when it names them), the justification, the expiry (not
past, within the policy's maximum) and, for fairness, the less-discriminatory alternative in the evidence.
The exception then becomes `exception.<gate>.*` tags, an `exception` record of the audit trail bound to the
evidence digest, and a row of the version's review page.
"""

from __future__ import annotations

import json

from features.errors import CreditflowError
from features.policy import ExceptionTerms
from pipelines.core.clock import today
from pipelines.core.records import VersionInfo
from pipelines.governance.rules.exceptions import (
    ExceptionRequest,
    gate_of,
    request_problems,
)
from pipelines.governance.store import open_store
from pipelines.governance.stored_policy import stored_policy
from pipelines.tracking import Tracker

CHALLENGER_PATH = "fairness/challenger.json"


def grant_exception(
    model: str, version: str, *, gate: str, justification: str, expires: str, tracking_uri: str | None
) -> None:
    """Record an exception granted by the acting user (the governance store's identity rule)."""
    store = open_store(tracking_uri)
    tracker = store.tracker
    tracker.model_version(model, version)  # unknown model or version: exit 2 before locking
    granter = store.acting_user()
    with store.lock(model):
        found = tracker.model_version(model, version)
        store.grant_exception(found, _checked_request(tracker, found, gate, granter, justification, expires))


def _checked_request(
    tracker: Tracker, found: VersionInfo, gate: str, granter: str, justification: str, expires: str
) -> ExceptionRequest:
    """The exception asked for, checked against the rules and the version's governed policy (CreditflowError
    naming every problem)."""
    governing = stored_policy(tracker, found)
    terms = governing.policy.exceptions if governing else ExceptionTerms()
    request = ExceptionRequest(gate_of(gate), granter, justification, expires, _alternative(tracker, found))
    problems = request_problems(found, request, today(), terms)
    if problems:
        raise CreditflowError("; ".join(problems))
    return request


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


def _num(value: float | str | None) -> str:  # a JSON number, or what a hand-edited file holds
    return "n/a" if value is None else f"{float(value):.3f}"
