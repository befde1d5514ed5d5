"""Moving `champion` on the server: the one path by which a promotion or rollback happens in team mode, whether
it comes from `creditflow promote`/`rollback` or from an alias edit in the MLflow UI.

The caller holds the model's lock (`GovernanceStore.model_lock`), so the rules are checked and the aliases moved
with no other change of that model in between, across every worker: two reviewers promoting at once are served
one after the other. `previous` is set before `champion`, and the audit row is written after the move.
"""

from __future__ import annotations

from dataclasses import dataclass

from pipelines.core import tags
from pipelines.core.clock import today
from pipelines.core.records import AuditRecord, VersionInfo
from pipelines.governance.rules.permissions import champion_move_problems
from pipelines.governance.rules.policy_currency import policy_name, policy_problems, validation_problems
from pipelines.governance.rules.promotion import approval_fingerprint, champion_problems, evidence_digest
from pipelines.server.services import Pending, Services


@dataclass(frozen=True)
class Outcome:
    """HTTP status, MLflow error code (when refused) and message of a champion move."""

    status: int
    message: str
    code: str = ""
    changed: bool = False


def promote(services: Services, pending: Pending, version: str) -> Outcome:
    registry, model = services.registry, pending.model
    pending.action, pending.version, pending.target = "promote", version, tags.CHAMPION
    target = registry.version(model, version)
    if target is None:
        return _missing(services, pending, f"model {model!r} has no version {version}")
    trail = services.store.trail(model)
    old = registry.aliases(model).get(tags.CHAMPION)
    if old == target.version and not champion_problems(target, trail):
        services.audit(pending, "noop", f"version {version} is already champion")
        return Outcome(200, f"{model} version {version} is already champion: nothing to do")
    problems = _move_problems(services, pending, target, trail) + _policy_problems(services, target)
    if problems:
        return _refuse(services, pending, "promote", problems, old)
    if old and old != target.version:
        registry.set_alias(model, tags.PREVIOUS, old)
    registry.set_alias(model, tags.CHAMPION, target.version)
    services.audit(pending, "allowed", detail=_move_detail(target, old))
    previous = f" (previous: version {old})" if old and old != target.version else ""
    return Outcome(200, f"{model}: champion -> version {target.version}{previous}", changed=True)


def rollback(services: Services, pending: Pending, reason: str) -> Outcome:
    registry, model = services.registry, pending.model
    pending.action, pending.target = "rollback", tags.CHAMPION
    aliases = registry.aliases(model)
    if tags.PREVIOUS not in aliases:
        return _missing(services, pending, f"model {model!r} has no alias 'previous': nothing to roll back to")
    target = registry.version(model, aliases[tags.PREVIOUS])
    assert target is not None  # an alias always points at an existing version
    pending.version, old = target.version, aliases.get(tags.CHAMPION)
    trail = services.store.trail(model)
    problems = _move_problems(services, pending, target, trail)
    if problems:
        return _refuse(services, pending, "rollback", problems, old)
    registry.set_alias(model, tags.CHAMPION, target.version)
    registry.delete_alias(model, tags.PREVIOUS)  # a second rollback must not flip back to the withdrawn version
    services.audit(pending, "allowed", reason, detail=_move_detail(target, old))
    return Outcome(200, f"{model}: champion -> version {target.version} (rolled back from version {old})", changed=True)


def _move_problems(services: Services, pending: Pending, target: VersionInfo, trail: list[AuditRecord]) -> list[str]:
    """The promotion rules, every exception judged again under the governed policy as stored on this server."""
    terms = services.exception_terms(target)
    return champion_move_problems(pending.actor, target, trail, terms=terms, today=today())


def _policy_problems(services: Services, target: VersionInfo) -> list[str]:
    """The version must have been judged under the current governed version of its policy, as this server stores
    it (an author's own policy file, or a superseded version, is not the lender's policy), and its current evidence
    must be a validator's (the server's own `validate` row), whatever the policy says."""
    name = policy_name(target)
    stored = services.store.policy(name) if name else None
    current = (str(stored["document"].get("version", "")), str(stored["digest"])) if stored else None
    problems = policy_problems(target, current, "the team server's policy store")
    # under every policy: the current evidence must be the one a validator's `validate` row vouches for
    return problems + validation_problems(target, services.store.trail(target.name), evidence_digest(target))


def _move_detail(target: VersionInfo, old: str | None) -> dict[str, str]:
    return {
        "evidence": evidence_digest(target),
        "approval": approval_fingerprint(target),
        "from_version": old or "",
        "to_version": target.version,
    }


def _refuse(services: Services, pending: Pending, action: str, problems: list[str], old: str | None) -> Outcome:
    pending.refused = problems
    services.audit(pending, "refused", "; ".join(problems), detail={"from_version": old or ""})
    message = f"{action} of {pending.model} version {pending.version} refused: " + "; ".join(problems)
    return Outcome(403, message, code="PERMISSION_DENIED")


def _missing(services: Services, pending: Pending, message: str) -> Outcome:
    services.audit(pending, "failed", message)
    return Outcome(404, message, code="RESOURCE_DOES_NOT_EXIST")
