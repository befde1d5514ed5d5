"""What `creditflow status` shows, as pure rows: versions with gates, approval, aliases, monitoring, model hash and
registration state, the audit trail, and whether the champion is verified against it."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from pipelines.core import tags
from pipelines.core.records import AuditRecord, FilesCheck, VersionInfo
from pipelines.core.tags import CHAMPION
from pipelines.gates.registry import gate_names
from pipelines.governance.rules.exceptions import expired_exceptions, recorded_exceptions
from pipelines.governance.rules.promotion import abandoned, champion_problems, registered_evidence


@dataclass(frozen=True)
class AuditLog:
    """A model's audit trail as `status --audit` shows it: a title, one row per record, and (a team server's) the
    problems of its hash chain, None where the trail's own problems are shown already."""

    title: str
    rows: list[dict[str, str]]
    chain_problems: list[str] | None = None


def registration_state(version: VersionInfo, trail: list[AuditRecord]) -> str:
    """recorded / abandoned (its process died before recording it) / unrecorded (its record is missing)."""
    if abandoned(trail, version.version) or version.tags.get(tags.REGISTRATION_STATUS) == tags.ABANDONED:
        return "abandoned"
    return "recorded" if registered_evidence(trail, version.version) is not None else "unrecorded"


def version_rows(versions: list[VersionInfo], trail: list[AuditRecord]) -> list[dict[str, str]]:
    """One row per version: what a reviewer or operator looks at first."""
    return [
        {
            "version": v.version,
            **{name: v.tags.get(f"{tags.VALIDATION_PREFIX}{name}", "-") for name in gate_names()},
            "exceptions": ", ".join(f"{e['gate']} until {e['expires']}" for e in recorded_exceptions(v, trail)) or "-",
            "approval": v.tags.get(tags.APPROVAL_STATUS, "-"),
            "reviewer": v.tags.get(tags.APPROVAL_REVIEWER, "-"),
            "author": v.tags.get(tags.AUTHOR, "-"),
            "validator": v.tags.get(tags.VALIDATOR, "-"),  # who computed the gates (`-`: the author's own run)
            "aliases": ",".join(v.aliases) or "-",
            "monitoring": v.tags.get(tags.MONITORING_STATUS, "-"),
            "model_sha256": v.tags.get(tags.MODEL_SHA256, "-")[:12],
            "registration": registration_state(v, trail),
        }
        for v in versions
    ]


def trail_rows(trail: list[AuditRecord]) -> list[dict[str, str]]:
    """The trail in chain order (deleted records, shown last, are not part of it)."""
    return [
        {
            "seq": r.seq or "-",
            "time": r.time,
            "action": r.action,
            "outcome": r.outcome,
            "version": r.version,
            "actor": r.actor,
            "champion": f"{r.from_version or '-'} -> {r.to_version}" if r.to_version else "",
            "why": r.reason,
            "evidence": r.evidence[:12],
            **{k: v for k, v in (("gate", r.gate), ("until", r.expires), ("source", r.source)) if v},
            **({"deleted": "DELETED (not in the chain)"} if r.deleted else {}),
        }
        for r in trail
    ]


def exception_list(versions: list[VersionInfo], trail: list[AuditRecord], today: dt.date) -> list[dict[str, str]]:
    """Every recorded exception of every version, with whether it has expired."""
    rows = [row for v in versions for row in recorded_exceptions(v, trail)]
    return [{**row, "expired": "yes" if row["expires"] < today.isoformat() else "no"} for row in rows]


def server_rows(rows: list[dict]) -> list[dict[str, str]]:
    """A team server's audit rows as `status --audit` shows them: every registry change, allowed or refused."""
    return [
        {
            "seq": str(r["seq"]),
            "time": r["time"],
            "user": r["username"],
            "action": r["action"],
            "version": r["version"],
            "target": r["target"],
            "decision": r["decision"],
            "why": r["reason"],
        }
        for r in rows
    ]


def champion_state(
    versions: list[VersionInfo], trail: list[AuditRecord], today: dt.date, *, files: FilesCheck | None = None
) -> dict[str, object]:
    """Whether the champion is verified against the trail and its files, and its expired exceptions (reported, not
    enforced: serving does not stop on a calendar date; `status --check` and monitoring raise it)."""
    champion = next((v for v in versions if CHAMPION in v.aliases), None)
    if champion is None:
        return {"champion": None, "verified": False, "problems": ["no version has alias champion"], "expired": []}
    problems = champion_problems(champion, trail, files=files)
    expired = expired_exceptions(champion, trail, today)
    return {"champion": champion.version, "verified": not problems, "problems": problems, "expired": expired}
