"""What the server writes itself once MLflow has made an allowed registry change, and what the audit row says.

- a new version: `lineage.author` is the authenticated user, whatever the client sent; the row records the
  evidence digest it was registered with (the promotion rules compare against it);
- `approval.*` is not here: the gate carries a decision out itself, row first (pipelines/server/decisions.py);
- `validation.time`, the validator's last write (`creditflow validate`): the row is a `validate` row carrying the
  recomputed evidence digest, which the promotion rules compare against from then on;
- `exception.<gate>.status`: the server records who granted it, when, and for which evidence; each exception
  row carries the gate, expiry and justification as the tags then stand (the exception rules read them).
"""

from __future__ import annotations

from typing import Any

from pipelines.core import tags
from pipelines.core.clock import now_iso
from pipelines.governance.rules.promotion import evidence_digest
from pipelines.server.services import Pending, Services


def after_allowed(services: Services, pending: Pending, response: dict[str, Any]) -> tuple[str, dict[str, str]]:
    """(reason, detail) of the audit row of an allowed change, after the server's own writes."""
    if pending.action == "create_version":
        return _registered(services, pending, response.get("model_version") or {})
    if pending.action == "set_version_tag" and pending.target.startswith(tags.EXCEPTION_PREFIX):
        return _excepted(services, pending)
    if pending.action == "set_version_tag" and pending.target == tags.VALIDATION_TIME:
        return _validated(services, pending)
    return "", {}


def _validated(services: Services, pending: Pending) -> tuple[str, dict[str, str]]:
    pending.action = "validate"
    version = services.registry.version(pending.model, pending.version)
    if version is None:
        return "", {}
    verdicts = ", ".join(
        f"{tags.gate_name(k)} {v}"
        for k, v in sorted(version.tags.items())
        if k.startswith(tags.VALIDATION_PREFIX) and k not in tags.NOT_VERDICTS
    )
    page_run = version.tags.get(tags.REVIEW_RUN, "")
    if page_run:  # the validator's review page: nobody changes it from now on
        reason = f"run {page_run} is the review page of {version.name} version {version.version}"
        services.store.freeze("run", page_run, reason)
    return f"validated under {version.tags.get(tags.POLICY, '?')}: {verdicts}", {"evidence": evidence_digest(version)}


def _registered(services: Services, pending: Pending, created: dict[str, Any]) -> tuple[str, dict[str, str]]:
    pending.action, pending.version = "register", str(created.get("version", ""))
    sent = {t.get("key"): t.get("value") for t in pending.body.get("tags") or [] if isinstance(t, dict)}
    services.registry.set_tags(pending.model, pending.version, {tags.AUTHOR: pending.actor.name})
    version = services.registry.version(pending.model, pending.version)
    evidence = evidence_digest(version) if version else ""
    if version and version.source.startswith("models:/"):
        model_id = version.source.removeprefix("models:/")
        services.store.freeze(
            "model", model_id, f"logged model {model_id} is {pending.model} version {pending.version}"
        )
    if version and version.run_id:  # what the reviewer and the validator read is the run as registered
        services.store.freeze(
            "run", version.run_id, f"run {version.run_id} is the evidence of {pending.model} version {pending.version}"
        )
    claimed = sent.get(tags.AUTHOR)
    note = "" if claimed == pending.actor.name else f"{tags.AUTHOR} written by the server (the client sent {claimed!r})"
    return note, {"evidence": evidence}


def _excepted(services: Services, pending: Pending) -> tuple[str, dict[str, str]]:
    pending.action = "exception"
    version = services.registry.version(pending.model, pending.version)
    if version is None:
        return "", {}
    gate = pending.target.split(".")[1]
    if pending.target.endswith(".status"):
        services.registry.set_tags(
            pending.model,
            pending.version,
            {
                f"{tags.EXCEPTION_PREFIX}{gate}.granted_by": pending.actor.name,
                f"{tags.EXCEPTION_PREFIX}{gate}.time": now_iso(),
                f"{tags.EXCEPTION_PREFIX}{gate}.evidence": evidence_digest(version),
            },
        )
    version = services.registry.version(pending.model, pending.version) or version
    detail = {
        "evidence": evidence_digest(version),
        "gate": gate,
        "expires": version.tags.get(f"{tags.EXCEPTION_PREFIX}{gate}.expires", ""),
        "justification": version.tags.get(f"{tags.EXCEPTION_PREFIX}{gate}.justification", ""),
    }
    return f"{pending.target}={pending.body.get('value', '')}", detail
