"""Accepted exceptions to a failed or not-assessed gate, as pure rules.

Model-risk practice (SR 26-2, EBA loan-origination guidelines): a model that breaks a limit goes forward
only with an exception that is documented (a justification), time-limited (an expiry within the policy's
maximum), granted by someone other than the model's author, and bound to the evidence it excuses. A
fairness exception also shows that the less-discriminatory alternative was considered: the version's
evidence must hold the comparison with the mitigated challenger. An exception is valid only when its tags
match an `exception` record of the audit trail, so a tag typed in the MLflow UI grants nothing.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING

from features.policy import ExceptionTerms
from pipelines.core import tags
from pipelines.core.free_text import text_problem
from pipelines.gates.registry import gate_names
from pipelines.governance.rules.identity import same_person

if TYPE_CHECKING:  # promotion.py applies these rules: only the types are needed here
    from pipelines.core.records import AuditRecord, VersionInfo

ACCEPTED = "accepted"
FAIRNESS = "fairness"  # its exception needs the less-discriminatory alternative in the evidence
EXCEPTION = "exception"  # the audit action


@dataclass(frozen=True)
class ExceptionRequest:
    gate: str  # short name: fairness
    granted_by: str
    justification: str
    expires: str  # YYYY-MM-DD, valid through that day (UTC)
    alternative: str = ""  # the less-discriminatory alternative's comparison, for a fairness exception


def gate_of(text: str) -> str:
    """`fairness` or `validation.fairness` -> `fairness`."""
    return tags.gate_name(text.strip())


def request_problems(
    version: VersionInfo, request: ExceptionRequest, today: dt.date, terms: ExceptionTerms
) -> list[str]:
    """Bad input for an exception (exit 2): the gate (one of the registered gates, judged on this version), the
    person, the justification, the expiry, the alternative."""
    if request.gate not in gate_names():
        return [f"--exception {request.gate}: no registered gate of that name (one of: {', '.join(gate_names())})"]
    gate_tag = f"{tags.VALIDATION_PREFIX}{request.gate}"
    verdict = version.tags.get(gate_tag)
    if verdict is None or gate_tag in tags.NOT_VERDICTS:
        known = sorted(tags.gate_name(k) for k in version.tags if _is_gate(k))
        return [f"--exception {request.gate}: version {version.version} has no gate of that name ({', '.join(known)})"]
    problems = []
    if verdict not in (tags.FAILED, tags.NOT_ASSESSED):
        problems.append(f"{gate_tag} is {verdict!r}: an exception is only for a failed or not-assessed gate")
    problems += granter_problems(version, request.granted_by, terms)
    if not request.justification.strip():
        problems.append("--justification must say why the exception is accepted")
    problems += [p for p in [text_problem("--justification", request.justification)] if p]
    problems += expiry_problems(request.expires, today, terms)
    if request.gate == FAIRNESS and verdict == tags.FAILED and not request.alternative:
        problems.append(
            "a fairness exception needs the less-discriminatory alternative in the evidence: the version has no "
            "challenger comparison (enable policy.fairness.mitigation and run again)"
        )
    return problems


def granter_problems(version: VersionInfo, granter: str, terms: ExceptionTerms) -> list[str]:
    """Someone named, not the version's author, and one of the policy's granters when it names them."""
    if not granter.strip():
        return ["an exception must name who grants it"]
    if same_person(granter, version.tags.get(tags.AUTHOR)):
        return [f"{granter} is the version's author: an exception is granted by someone else"]
    if terms.granted_by and not any(same_person(granter, allowed) for allowed in terms.granted_by):
        return [f"{granter} may not grant exceptions under this policy (allowed: {', '.join(terms.granted_by)})"]
    return []


def expiry_problems(expires: str, today: dt.date, terms: ExceptionTerms) -> list[str]:
    """An expiry that is a date, not past, and within the policy's maximum."""
    try:
        until = dt.date.fromisoformat(expires)
    except ValueError:
        return [f"--expires {expires!r}: expected a date YYYY-MM-DD"]
    latest = today + dt.timedelta(days=terms.max_days)
    if until < today:
        return [f"--expires {expires} is in the past"]
    if until > latest:
        return [f"--expires {expires} is beyond the policy's maximum of {terms.max_days} days (at most {latest})"]
    return []


def exception_values(request: ExceptionRequest, when: str, evidence: str) -> dict[str, str]:
    """The version's exception.<gate>.* tags."""
    values = {
        "status": ACCEPTED,
        "granted_by": request.granted_by.strip(),
        "justification": request.justification.strip(),
        "expires": request.expires,
        "time": when,
        "evidence": evidence,
        "alternative": request.alternative,
    }
    return {tags.exception_tag(request.gate, k): v for k, v in values.items() if v}


def recorded_exception(version: VersionInfo, trail: list[AuditRecord], gate: str) -> AuditRecord | None:
    """The latest trusted exception record for one gate of a version."""
    found = [
        r for r in trail if r.action == EXCEPTION and r.version == version.version and r.gate == gate and not r.deleted
    ]
    return found[-1] if found else None


def exception_problems(
    version: VersionInfo,
    trail: list[AuditRecord],
    gate: str,
    digest: str,
    today: dt.date | None,
    *,
    terms: ExceptionTerms | None = None,
) -> list[str]:
    """Why no valid exception covers `gate` (empty when one does); `digest` is the version's evidence digest now.

    `today` None: expiry not judged (verifying a past move); a date: judged (a new move). The record is judged
    again as if it were granted now (`granted_problems`): a record written into the store around creditflow
    carries whatever granter and expiry its writer chose."""
    record = recorded_exception(version, trail, gate)
    value = version.tags.get
    if record is None or value(tags.exception_tag(gate, "status")) != ACCEPTED:
        return ["no accepted exception"]
    if (value(tags.exception_tag(gate, "granted_by")), value(tags.exception_tag(gate, "expires"))) != (
        record.actor,
        record.expires,
    ):
        return ["its exception tags differ from the recorded exception"]
    problems = granted_problems(version, record, terms)
    if record.evidence != digest:
        problems.append("its exception was granted for other evidence")
    if today is not None and dt.date.fromisoformat(record.expires) < today:
        problems.append(f"its exception expired on {record.expires}")
    if not _approved_after(version, trail, record):
        problems.append("the approval predates its exception: approve again after reading it")
    return problems


def granted_problems(version: VersionInfo, record: AuditRecord, terms: ExceptionTerms | None) -> list[str]:
    """The grant rules applied to a recorded exception: a granter other than the author (the identity rule) and,
    under the governed policy's `terms` (None: not known to the caller, so not judged), one of its granters and
    an expiry within its maximum counted from the day the record says it was granted."""
    author = version.tags.get(tags.AUTHOR)
    if same_person(record.actor, author):
        return [f"its exception was granted by the version's author {record.actor!r}: the grant is void"]
    if terms is None:
        return []
    problems = []
    if terms.granted_by and not any(same_person(record.actor, allowed) for allowed in terms.granted_by):
        allowed = ", ".join(terms.granted_by)
        problems.append(f"{record.actor} may not grant exceptions under this policy (allowed: {allowed})")
    granted, until = _date(record.time[:10]), _date(record.expires)
    if granted is None or until is None:
        problems.append(f"its exception record has no valid grant day or expiry ({record.time!r}, {record.expires!r})")
    elif (until - granted).days > terms.max_days:
        problems.append(
            f"its exception lasts beyond the policy's maximum of {terms.max_days} days "
            f"(granted {granted}, expires {until})"
        )
    return problems


def recorded_exceptions(version: VersionInfo, trail: list[AuditRecord]) -> list[dict[str, str]]:
    """The version's exceptions as the audit trail records them (the latest per gate), one row each.

    Tags typed in the UI without a record are not exceptions and are not listed; `tags` says whether the
    version's exception tags still match the record."""
    latest = {r.gate: r for r in trail if r.action == EXCEPTION and r.version == version.version and not r.deleted}
    rows = []
    for gate, record in sorted(latest.items()):
        value = version.tags.get
        matches = (value(tags.exception_tag(gate, "granted_by")), value(tags.exception_tag(gate, "expires"))) == (
            record.actor,
            record.expires,
        ) and value(tags.exception_tag(gate, "status")) == ACCEPTED
        rows.append(
            {
                "version": version.version,
                "gate": gate,
                "granted_by": record.actor,
                "justification": record.reason,
                "expires": record.expires,
                "time": record.time,
                "evidence": record.evidence,
                "alternative": value(tags.exception_tag(gate, "alternative"), "") if matches else "",
                "tags": "match" if matches else "changed around creditflow",
            }
        )
    return rows


def expired_exceptions(version: VersionInfo, trail: list[AuditRecord], today: dt.date) -> list[str]:
    """'validation.<gate>: exception expired on DATE' for each recorded exception of a version past its expiry."""
    found = []
    for row in recorded_exceptions(version, trail):
        until = _date(row["expires"])
        if until is not None and until < today:
            found.append(f"{tags.VALIDATION_PREFIX}{row['gate']}: exception expired on {row['expires']}")
    return found


def _approved_after(version: VersionInfo, trail: list[AuditRecord], exception: AuditRecord) -> bool:
    if version.tags.get(tags.APPROVAL_STATUS) != "approved":
        return True  # the missing approval is its own unmet condition
    return any(
        r.action == "review" and r.version == version.version and not r.deleted and r.time > exception.time
        for r in trail
    )


def _is_gate(key: str) -> bool:
    return key.startswith(tags.VALIDATION_PREFIX) and key not in tags.NOT_VERDICTS


def _date(text: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        return None
