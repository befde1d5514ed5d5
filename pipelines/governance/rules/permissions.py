"""Who may change what on a team server: pure rules the server's gate applies before each registry change.

MLflow's basic-auth knows identities and per-model EDIT grants, but any EDIT holder could set any tag and any
alias. These rules add what four-eyes needs, keyed on the *authenticated* user and their creditflow role:

- data scientists register versions; the server writes `lineage.author` itself, and refuses client-set
  `approval.*` (other than `approval.status=pending`), `exception.*`, `validation.*` and `lineage.model_sha256`
  tags at registration (the evidence is the validator's; the author's run reports its verdicts as `author.*`);
- `lineage.*` and `validation.*` are evidence: written at registration, never changed afterwards, except that the
  validator (role `validator`) writes `validation.*` when it computes the evidence (`creditflow validate`) and
  `lineage.model_sha256` once, the tree hash of the files the server froze at registration;
- reviewers approve or reject versions they did not register; the server records who and when;
- risk grants exceptions, never on a version they registered; the server records who and when;
- `champion` moves only for a reviewer who is not the version's author, and only when the promotion rules
  (`pipelines.governance.rules.promotion.unmet_conditions`, the CLI's rules) hold; `previous` is moved by the server;
- governed models (with versions) and their versions are neither renamed nor deleted.
Each function returns the reasons for refusal; an empty list means the change may go ahead.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from features.policy import ExceptionTerms
from pipelines.core import tags
from pipelines.core.decisions import DECISIONS
from pipelines.core.free_text import shown, text_problem
from pipelines.core.records import AuditRecord, VersionInfo
from pipelines.gates.registry import gate_names
from pipelines.governance.rules.exceptions import expiry_problems, granter_problems
from pipelines.governance.rules.identity import person_key, same_person
from pipelines.governance.rules.promotion import unmet_conditions

DATA_SCIENTIST, REVIEWER, RISK, VALIDATOR, ADMIN = "data-scientist", "reviewer", "risk", "validator", "admin"
MONITORS = (RISK, VALIDATOR)  # who records a version's monitoring on a team server
MONITORING_PARAGRAPH = "Monitoring:"  # the label of the version description's paragraph monitoring owns
ROLES = (DATA_SCIENTIST, REVIEWER, RISK, VALIDATOR, ADMIN)
ROLE_PREFIX = "creditflow-"  # basic-auth role names: creditflow-data-scientist, creditflow-reviewer, creditflow-risk
# the validation worker's identity (`server start` runs it); named here, not in pipelines/server/roles.py, which
# imports MLflow's server: the worker and `server start` paid seconds of imports for a name (issue 24.6)
SERVICE_VALIDATOR = "creditflow-validator"
SERVER = "creditflow-server"  # the name on audit rows the server writes of its own accord (lockouts, closed runs)

# Tags the server writes itself when an approval or an exception is recorded: a client never sets them.
SERVER_APPROVAL_TAGS = (tags.APPROVAL_TIME, tags.APPROVAL_EVIDENCE)
REVIEWER_TAGS = (tags.APPROVAL_STATUS, tags.APPROVAL_REVIEWER, tags.APPROVAL_COMMENT)
EXCEPTION_FIELDS_BY_RISK = ("status", "justification", "expires", "alternative")
_EXCEPTION_TAG = re.compile(r"^exception\.([a-z_]+)\.([a-z_]+)$")
_LOGGED_MODEL_SOURCE = re.compile(r"^models:/m-[0-9a-f]+$")


@dataclass(frozen=True)
class Actor:
    """The authenticated user of a request and their creditflow role ('' when they have none)."""

    name: str
    role: str

    def is_(self, person: str | None) -> bool:
        """The identity rule of pipelines/governance/rules/identity.py: a look-alike login is the same person."""
        return same_person(self.name, person)


def reserved(key: str) -> bool:
    return key.startswith(tags.RESERVED_PREFIXES)


_GOVERNED_KEYS = tuple(person_key(prefix) for prefix in tags.RESERVED_PREFIXES)
_GOVERNED_ALIASES = {person_key(alias): alias for alias in (tags.CHAMPION, tags.PREVIOUS)}


def lookalike_problems(key: str) -> list[str]:
    """A tag key that reads as a governed one without being it (`Approval.status`, ` approval.status`, full-width
    or Cyrillic letters): normalised as names are (NFKC, invisible code points and spaces dropped, case folded,
    confusables mapped: pipelines/governance/rules/identity.py) and refused, so no fake row sits beside the real one."""
    if reserved(key) or not person_key(key).startswith(_GOVERNED_KEYS):
        return []
    return [f"tag {shown(key)} reads as the governed tag {governed_tag(key)}: choose another name"]


_NAMED_TAGS: tuple[str, ...] = (
    *tags.APPROVAL_TAGS,
    *(tags.APPROVAL_EVIDENCE, tags.POLICY, tags.POLICY_DIGEST, tags.VALIDATOR, tags.VALIDATION_TIME),
    *(tags.REVIEW_RUN, tags.REPRODUCIBILITY, tags.DATA_DIGEST, tags.SPEC_DIGEST, tags.GIT_COMMIT, tags.RUN_ID),
    tags.AUTHOR,
)


def governed_tag(key: str) -> str:
    """The governed tag a look-alike key reads as (`approval.status`), else its governed family (`validation.*`),
    so the message names what the key imitates."""
    normalised = person_key(key)
    named = next((name for name in _NAMED_TAGS if person_key(name) == normalised), None)
    if named is not None:
        return named
    family = next(p for p, k in zip(tags.RESERVED_PREFIXES, _GOVERNED_KEYS, strict=True) if normalised.startswith(k))
    return f"{family}*"


def alias_lookalike_problems(alias: str) -> list[str]:
    governed = _GOVERNED_ALIASES.get(person_key(alias))
    if governed is None or alias.casefold() == governed:
        return []
    return [f"alias {shown(alias)} looks like the governed alias {governed}: choose another"]


def registration_problems(actor: Actor, version_tags: dict[str, str], source: str) -> list[str]:
    """A new model version: registered by a data scientist, from a logged model, with no approval or exception."""
    problems = []
    if actor.role != DATA_SCIENTIST:
        problems.append(f"{_who(actor)} may not register model versions (data scientists register)")
    if source.startswith("models:/") and not _LOGGED_MODEL_SOURCE.match(source):
        problems.append(
            f"source {source} copies a registered version into another model (MLflow's 'Promote model'); "
            "creditflow promotes by moving alias champion: creditflow promote"
        )
    for key, value in sorted(version_tags.items()):
        problems += lookalike_problems(key)
        if key == tags.APPROVAL_STATUS and value == "pending":
            continue
        if key.startswith(tags.VALIDATION_PREFIX) or key == tags.MODEL_SHA256:
            problems.append(
                f"tag {key} is evidence the validator writes (the server's validation worker), never sent at "
                "registration: send the run's own verdicts as author.*"
            )
        if key.startswith((tags.APPROVAL_PREFIX, tags.EXCEPTION_PREFIX)):
            problems.append(f"tag {key} cannot be set at registration (a new version is pending review)")
    return problems


def version_tag_problems(
    actor: Actor,
    version: VersionInfo,
    key: str,
    value: str | None,
    *,
    terms: ExceptionTerms | None = None,
    today: date | None = None,
) -> list[str]:
    """Setting (value) or deleting (None) tag `key` on a model version; `terms` are the exception terms of the
    governed policy (the defaults when none is stored), `today` the day an expiry is judged on (UTC)."""
    if key.startswith(tags.AUTHOR_PREFIX) and actor.role != VALIDATOR:
        return [f"tag {key} is what the author's run reported at registration: frozen (the validator keeps it)"]
    if key.startswith(tags.MONITORING_PREFIX):
        return monitoring_problems(actor)
    if not reserved(key):
        return lookalike_problems(key)
    if value is None:
        return [f"tag {key} is governed and cannot be deleted"]
    if key.startswith(tags.VALIDATION_PREFIX) and actor.role == VALIDATOR:
        return []  # the validator's recomputed evidence; the server records it (a `validate` row)
    if key == tags.MODEL_SHA256 and actor.role == VALIDATOR and not version.tags.get(key):
        return []  # the tree hash of the files frozen since registration, as the validator found them
    if key.startswith((tags.LINEAGE_PREFIX, tags.VALIDATION_PREFIX)):
        return [f"tag {key} is evidence written at registration and cannot be changed (but by the validator)"]
    bounded = [p for p in [text_problem(key, value)] if p]  # the text reaches the audit table: stated limit, whole
    if key.startswith(tags.APPROVAL_PREFIX):
        return bounded + _approval_problems(actor, version, key, value)
    return bounded + _exception_problems(actor, version, key, value, terms or ExceptionTerms(), today)


def _approval_problems(actor: Actor, version: VersionInfo, key: str, value: str) -> list[str]:
    if key in SERVER_APPROVAL_TAGS or key not in REVIEWER_TAGS:
        return [f"tag {key} is written by the server when an approval is recorded"]
    problems = []
    if actor.role != REVIEWER:
        problems.append(f"{_who(actor)} may not review (reviewers approve or reject)")
    if actor.is_(version.tags.get(tags.AUTHOR)):
        problems.append(f"four-eyes: {actor.name} registered version {version.version} and may not review it")
    if key == tags.APPROVAL_STATUS and value not in DECISIONS:
        problems.append(f"{tags.APPROVAL_STATUS} must be one of {', '.join(DECISIONS)}, not {shown(value)}")
    if key == tags.APPROVAL_STATUS and value == "rejected" and tags.CHAMPION in version.aliases:
        problems.append(f"version {version.version} is champion: roll it back before rejecting it")
    if key == tags.APPROVAL_REVIEWER and not actor.is_(value):
        problems.append(
            f"{tags.APPROVAL_REVIEWER} must be the authenticated reviewer {actor.name!r}, not {shown(value)}"
        )
    return problems


def _exception_problems(
    actor: Actor, version: VersionInfo, key: str, value: str, terms: ExceptionTerms, today: date | None
) -> list[str]:
    """The exception rules of pipelines/governance/rules/exceptions.py (who grants, until when, under the policy's
    terms),
    applied to one tag as risk sets it."""
    found = _EXCEPTION_TAG.match(key)
    if not found or found.group(1) not in gate_names():
        return [f"tag {key} is not an exception tag: exception.<{'|'.join(gate_names())}>.<field>"]
    field = found.group(2)
    problems = []
    if field not in EXCEPTION_FIELDS_BY_RISK:
        problems.append(f"tag {key} is written by the server when an exception is granted")
    if actor.role != RISK:
        problems.append(f"{_who(actor)} may not grant exceptions (risk grants them)")
    if actor.is_(version.tags.get(tags.AUTHOR)):
        problems.append(f"{actor.name} registered version {version.version} and may not grant it an exception")
    else:
        problems += granter_problems(version, actor.name, terms)
    if field == "expires":
        if not _is_date(value):
            problems.append(f"{key} must be a date (YYYY-MM-DD), not {shown(value)}")
        elif today is not None:
            problems += [p.replace("--expires", key) for p in expiry_problems(value, today, terms)]
    return problems


def champion_move_problems(
    actor: Actor,
    target: VersionInfo,
    trail: list[AuditRecord],
    *,
    terms: ExceptionTerms | None = None,
    today: date | None = None,
) -> list[str]:
    """Putting `champion` on `target` (a promotion or a rollback): the CLI's promotion rules (every exception
    judged again under the governed policy's `terms`, its expiry on `today`), and four eyes on the person who
    moves it."""
    problems = []
    if actor.role != REVIEWER:
        problems.append(f"{_who(actor)} may not move champion (reviewers promote)")
    if actor.is_(target.tags.get(tags.AUTHOR)):
        problems.append(f"four-eyes: {actor.name} registered version {target.version} and may not promote it")
    return problems + unmet_conditions(target, trail, terms=terms, today=today)


def alias_problems(actor: Actor, alias: str, deleting: bool) -> list[str]:
    """Setting or deleting an alias other than a champion move (which `champion_move_problems` judges)."""
    looks = alias_lookalike_problems(alias)
    if looks:
        return looks
    alias = alias.casefold()  # MLflow keeps aliases as typed: `Champion` must not slip past the rules
    if alias == tags.PREVIOUS:
        return ["alias previous is moved by the server with champion: use creditflow promote or rollback"]
    if alias == tags.CHAMPION and deleting:
        return ["alias champion cannot be deleted: use creditflow rollback"]
    if actor.role not in (DATA_SCIENTIST, REVIEWER):
        return [f"{_who(actor)} may not set model aliases"]
    return []


def description_problems(actor: Actor, version: str, old: str = "", new: str = "") -> list[str]:
    """A version's description: frozen from registration, but for the validator's link to its review page and the
    monitoring paragraph, which those who monitor (MONITORS) rewrite and nothing else."""
    if actor.role == VALIDATOR:
        return []
    if actor.role in MONITORS and _without(old, MONITORING_PARAGRAPH) == _without(new, MONITORING_PARAGRAPH):
        return []
    return [f"the description of version {version} is frozen from registration (the validator links its review page)"]


def monitoring_problems(actor: Actor) -> list[str]:
    """Who may monitor a version on a team server: its verdict (monitoring.* tags, the description's monitoring
    paragraph) is evidence of the model's life, not the author's to write."""
    if actor.role in MONITORS:
        return []
    return [f"{_who(actor)} may not record monitoring (risk or the validator monitors a version)"]


def _without(description: str, label: str) -> list[str]:
    """The description's paragraphs but the one `label` starts (pipelines/tracking/registry.py replace_part)."""
    return [p for p in description.split("\n\n") if p.strip() and not p.lstrip().startswith(label)]


def model_tag_problems(key: str) -> list[str]:
    """A tag on the registered model itself: the governed names belong on versions only."""
    return [f"tag {key} is governed and belongs on model versions only"] if reserved(key) else lookalike_problems(key)


def governed_model_problems(action: str, name: str, versions: int) -> list[str]:
    """Rename or delete of a registered model, or delete of a version: refused once the model has versions,
    since the audit log, aliases and lineage refer to it by name and number."""
    if versions == 0:
        return []
    return [f"model {name!r} is governed ({versions} version(s)): {action} is refused"]


def creation_problems(actor: Actor, what: str) -> list[str]:
    """Creating experiments, runs or registered models: data scientists' work."""
    return [] if actor.role == DATA_SCIENTIST else [f"{_who(actor)} may not create {what} (data scientists do)"]


def admin_problems(actor: Actor, what: str) -> list[str]:
    return [] if actor.role == ADMIN else [f"{_who(actor)} may not {what} (admins manage users and grants)"]


def password_problems(actor: Actor, username: str) -> list[str]:
    """A password change: one's own (basic-auth checks the rest), or an admin's."""
    if actor.role == ADMIN or actor.is_(username):
        return []
    return [f"{_who(actor)} may not change the password of {shown(username)} (one's own, or an admin)"]


def policy_problems(actor: Actor) -> list[str]:
    return [] if actor.role == RISK else [f"{_who(actor)} may not change the governed policy (risk owns it)"]


def _who(actor: Actor) -> str:
    return f"{actor.name} (role {actor.role or 'none'})"


def _is_date(value: str) -> bool:
    try:
        date.fromisoformat(value)
        return True
    except ValueError:
        return False
