"""What `creditflow status` shows, as pure rows: versions with gates, approval, aliases and monitoring, the audit
trail, and whether the champion is verified against it."""

from __future__ import annotations

from pipelines import tags
from pipelines.gates.promotion import CHAMPION, GATES, AuditRecord, VersionInfo, champion_problems


def version_rows(versions: list[VersionInfo]) -> list[dict[str, str]]:
    """One row per version: what a reviewer or operator looks at first."""
    return [
        {
            "version": v.version,
            **{gate.removeprefix(tags.VALIDATION_PREFIX): v.tags.get(gate, "-") for gate in GATES},
            "approval": v.tags.get(tags.APPROVAL_STATUS, "-"),
            "reviewer": v.tags.get(tags.APPROVAL_REVIEWER, "-"),
            "author": v.tags.get(tags.AUTHOR, "-"),
            "aliases": ",".join(v.aliases) or "-",
            "monitoring": v.tags.get(tags.MONITORING_STATUS, "-"),
        }
        for v in versions
    ]


def trail_rows(trail: list[AuditRecord]) -> list[dict[str, str]]:
    return [
        {
            "time": r.time,
            "action": r.action,
            "outcome": r.outcome,
            "version": r.version,
            "actor": r.actor,
            "champion": f"{r.from_version or '-'} -> {r.to_version}" if r.to_version else "",
            "why": r.reason,
            "evidence": r.evidence[:12],
            **({"deleted": "DELETED IN UI"} if r.deleted else {}),
        }
        for r in trail
    ]


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


def champion_state(versions: list[VersionInfo], trail: list[AuditRecord]) -> dict[str, object]:
    champion = next((v for v in versions if CHAMPION in v.aliases), None)
    if champion is None:
        return {"champion": None, "verified": False, "problems": ["no version has alias champion"]}
    problems = champion_problems(champion, trail)
    return {"champion": champion.version, "verified": not problems, "problems": problems}
