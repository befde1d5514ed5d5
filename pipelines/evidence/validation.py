"""`creditflow validate MODEL VERSION`: the validator, not the author, computes the evidence a reviewer signs.

Every registered gate is recomputed from the registered model files (their tree hash must be the version's
`lineage.model_sha256`), the data the version's spec names (its sha256 must be the version's `lineage.data_digest`)
and the current governed version of the policy the version names (the store's policies: the project's policy
folder locally, the server's policy store in team mode). The verdicts replace the `validation.*` tags, with
`validation.validator` and `validation.time`; what the author's run reported is kept as `author.*` (once: a second
validation never overwrites it). The audit trail records a `validate` action carrying the new evidence digest, so an
approval given for other evidence is void; the validator's review page (both columns side by side) is written on a
run of its own in `<MODEL>-validation`, linked from the version's description.
Tags are written before the record: a validator that dies in between leaves evidence no record vouches for, which
promotion refuses until `validate` runs again; nothing half-written is ever trusted.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import click
import yaml

from features.errors import CreditflowError, Refused, SpecError
from features.policy import GoverningPolicy, StoredPolicySource
from pipelines.core import tags
from pipelines.core.clock import now_iso
from pipelines.core.records import AuditRecord, FilesCheck, VersionInfo
from pipelines.governance.rules.policy_currency import policy_name
from pipelines.governance.rules.promotion import evidence_digest
from pipelines.governance.store import GovernanceStore, open_store
from pipelines.governance.stored_policy import POLICY_PATH
from pipelines.reports.card_context import CardIdentity, earlier_candidates
from pipelines.reports.card_evidence import draw_review_charts
from pipelines.reports.governance_section import ON_SERVER, PENDING
from pipelines.reports.model_card import card_sections, to_markdown
from pipelines.reports.review_page import CARD_PATH, PAGE_PATH, review_page
from pipelines.reports.validation_section import comparison_items, disagreements, metric_rows, verdict_rows
from pipelines.tracking.pyfunc_model import load_model_scorer
from pipelines.training.evaluation import Evaluation
from pipelines.training.reproduction import Reproduction, recorded_training, reproduce
from pipelines.training.revalidation import registered_candidate, revalidate
from pipelines.training.workflow import Prepared, prepare

__all__ = ["validate_version"]


def validate_version(model: str, version: str, *, tracking_uri: str | None, data: str | None) -> Evaluation:
    """Recompute and record VERSION's evidence as the acting validator; the evaluation it recorded."""
    store = open_store(tracking_uri)
    found = store.tracker.model_version(model, version)  # unknown model or version: exit 2
    if not found.run_id:
        raise CreditflowError(f"{model} version {found.version} names no training run: nothing to validate from")
    governed = governed_policy(store, found)
    with tempfile.TemporaryDirectory() as folder:
        prepared = prepare(
            logged_spec(store, found, Path(folder), data), policies=StoredPolicySource(governed.document)
        )
    if prepared.data.digest != found.tags.get(tags.DATA_DIGEST):
        raise CreditflowError(
            f"{prepared.data.source}: its sha256 {prepared.data.digest[:12]} is not the {tags.DATA_DIGEST} of "
            f"{model} version {found.version} ({found.tags.get(tags.DATA_DIGEST, 'missing')[:12]}): not its data"
        )
    hashed: list[str] = []
    scorer, _ = load_model_scorer(
        store.tracker, found.source, check=lambda files: hashed.append(_same_files(found, files))
    )
    recorded = None
    if governed.policy.validation.reproduce:  # read before any work: a run that logged nothing is refused at once
        recorded = recorded_training(store.tracker.run_params(found.run_id), f"{model} version {found.version}")
    evaluation = revalidate(prepared, registered_candidate(prepared, scorer))
    reproduction = None
    if recorded is not None:
        registered = evaluation.scores[evaluation.main]
        reproduction = reproduce(prepared, registered, evaluation.main, *recorded)
    record_validation(store, found, prepared, evaluation, governed, model_sha256=hashed[0], reproduction=reproduction)
    return evaluation


def governed_policy(store: GovernanceStore, version: VersionInfo) -> GoverningPolicy:
    """The current governed version of the policy `version` names; exit 2 when it is no longer governed."""
    name = policy_name(version) or _authors_policy(version)
    if name is None:
        raise CreditflowError(f"{version.name} version {version.version} names no policy ({tags.POLICY})")
    try:
        return store.policies().load(name)
    except SpecError as exc:
        raise CreditflowError(f"{version.name} version {version.version}: {exc}") from None


def logged_spec(store: GovernanceStore, version: VersionInfo, folder: Path, data: str | None) -> Path:
    """The spec logged on the version's run, with its data source made absolute: `data`, else the file the author's
    run read (its `data.source` param: a spec's relative source is relative to where that spec lay), else the source
    as the spec states it, relative to the working folder. Its digest is checked either way."""
    specs = [p for p in store.tracker.list_artifacts(version.run_id or "", "spec") if p.endswith((".yaml", ".yml"))]
    if not specs:
        raise CreditflowError(f"{version.name} version {version.version}: its run has no logged spec")
    path = Path(store.tracker.download_artifacts(version.run_id or "", specs[0], str(folder)))
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    stated = raw.get("data", {}).get("source")
    read = store.tracker.run_params(version.run_id or "").get("data.source")
    relative = isinstance(stated, str) and not Path(stated).is_absolute()
    source = data or (read if relative and read and Path(read).is_file() else stated)
    if isinstance(source, str) and not source.startswith("synthetic"):
        raw["data"]["source"] = str(Path(source).resolve())
    path.write_text(yaml.safe_dump(raw, sort_keys=False), encoding="utf-8")
    return path


def _authors_policy(version: VersionInfo) -> str | None:
    """A team registration names its policy only as the author reported it (author.policy = `NAME vN`)."""
    label = version.tags.get(tags.AUTHOR_POLICY, "")
    return label.rsplit(" v", 1)[0] if label else None


def _same_files(version: VersionInfo, files: FilesCheck) -> str:
    """The files' tree hash; refused when it is not the version's `lineage.model_sha256`. A team registration
    carries none (the server froze the files at registration): the validator records the hash it found."""
    expected = version.tags.get(tags.MODEL_SHA256) or (files.sha256 if not files.problems else "")
    if files.problems or files.sha256 != expected:
        why = "; ".join(files.problems) or f"tree hash {files.sha256[:12]}, registered {expected[:12] or 'nothing'}"
        raise Refused(f"{version.name} version {version.version}: its model files are not the registered ones ({why})")
    return files.sha256


NOT_REPRODUCED = "the policy does not ask for reproduction"


def record_validation(
    store: GovernanceStore,
    found: VersionInfo,
    prepared: Prepared,
    evaluation: Evaluation,
    governed: GoverningPolicy,
    *,
    model_sha256: str,
    reproduction: Reproduction | None = None,
) -> None:
    """The review page first (on a run of its own), then the verdicts as tags (the author's kept as author.* the
    first time; `validation.time` last: a team server records the validation when it is written), the `validate`
    record, and the description's link. A validator killed before `validation.time` leaves evidence no record
    vouches for, which promotion refuses and the server's worker validates again."""
    validator, time = store.acting_user(), now_iso()
    model, version = found.name, found.version
    with store.lock(model):
        trail = store.settled_trail(model)
        if not trail.trusted:
            raise trail.refusal()
        current = store.tracker.model_version(model, version)
        authors = author_values(current)
        verdicts = verdict_rows(evaluation.gates(), {**author_verdicts(current), **_short(authors)})
        if reproduction is not None:  # the validator's own check: the author reports none
            diff = f"max |PD difference| {reproduction.max_difference:.3g}"
            verdicts.append([tags.REPRODUCIBILITY, reproduction.verdict, "-", diff])
        stale = reproduction is None and tags.REPRODUCIBILITY in current.tags
        if stale:  # an earlier validation's verdict must not stand beside evidence that did not check it
            verdicts.append([tags.REPRODUCIBILITY, tags.NOT_ASSESSED, "-", NOT_REPRODUCED])
        run_id, page = write_review_page(store, current, prepared, evaluation, verdicts, validator, time, governed)
        values = {} if current.tags.get(tags.MODEL_SHA256) else {tags.MODEL_SHA256: model_sha256}
        values.update({f"{tags.VALIDATION_PREFIX}{gate}": verdict for gate, verdict in evaluation.gates().items()})
        if reproduction is not None or stale:
            values[tags.REPRODUCIBILITY] = reproduction.verdict if reproduction else tags.NOT_ASSESSED
        values.update({tags.POLICY: governed.label, tags.POLICY_DIGEST: governed.digest})
        values.update({tags.REVIEW_RUN: run_id, tags.VALIDATOR: validator, tags.VALIDATION_TIME: time})
        store.tracker.set_version_tags(model, version, {**authors, **values})
        validated = store.tracker.model_version(model, version)
        store.append(
            AuditRecord(
                "validate",
                model,
                version,
                validator,
                time,
                "done",
                reason=_summary(evaluation, governed, disagreements(verdicts), reproduction),
                evidence=evidence_digest(validated),
            )
        )
        link = store.tracker.ui_link(run_id, PAGE_PATH)
        store.tracker.describe_version_part(  # first: the page the reviewer reads, as a link the browser opens
            model,
            version,
            "**Validated**",
            f"by {validator} at {time}: [review page]({link}) on run {run_id}, the validator's "
            "evidence beside the author's.",
            first=True,
        )
    click.echo(f"{model} version {version}: validated by {validator} under policy {governed.label}")
    for gate, verdict in evaluation.gates().items():
        click.echo(f"  {tags.VALIDATION_PREFIX}{gate}={verdict}")
    if reproduction is not None:
        click.echo(f"  {tags.REPRODUCIBILITY}={reproduction.verdict} ({reproduction.message})")
    elif stale:
        click.echo(f"  {tags.REPRODUCIBILITY}={tags.NOT_ASSESSED} ({NOT_REPRODUCED})")
    click.echo(f"review page: {page}")


def _short(authors: dict[str, str]) -> dict[str, str]:
    return {k.removeprefix(tags.AUTHOR_PREFIX): v for k, v in authors.items()}


_NOT_REPORTED = (tags.VALIDATOR, tags.VALIDATION_TIME, tags.REVIEW_RUN)


def author_values(version: VersionInfo) -> dict[str, str]:
    """The author's reported verdicts and policy as author.* tags: only before the first validation."""
    if tags.VALIDATOR in version.tags:
        return {}
    kept = {}
    for key, value in version.tags.items():
        if key.startswith(tags.VALIDATION_PREFIX) and key not in _NOT_REPORTED:
            kept[tags.author_tag(tags.gate_name(key))] = value
    return kept


def author_verdicts(version: VersionInfo) -> dict[str, str]:
    return {k.removeprefix(tags.AUTHOR_PREFIX): v for k, v in version.tags.items() if k.startswith(tags.AUTHOR_PREFIX)}


def write_review_page(
    store: GovernanceStore,
    version: VersionInfo,
    prepared: Prepared,
    evaluation: Evaluation,
    verdicts: list[list[str]],
    validator: str,
    time: str,
    governed: GoverningPolicy,
) -> tuple[str, str]:
    """The validator's review page and card, with the comparison first, on a run of its own in experiment
    `<MODEL>-validation` (the author's run keeps the author's page; a team server freezes both). Returns the run
    and where the page is."""
    identity = CardIdentity(
        version.name,
        version.version,
        version.run_id or "",
        version.tags.get(tags.GIT_COMMIT, "unknown"),
        version.tags.get(tags.DATA_DIGEST, ""),
        prepared.spec.tuning.params.model_dump(),
        earlier_candidates(
            store.tracker.model_versions(version.name), version.version, version.tags.get(tags.DATA_DIGEST, "")
        ),
    )
    draw_review_charts(prepared.spec, evaluation)
    metrics = metric_rows(evaluation.metrics, store.tracker.run_metrics(version.run_id or ""))
    comparison = ("Validator and author", comparison_items(validator, time, verdicts, metrics))
    sections = [comparison, *card_sections(identity, prepared, evaluation)]
    title = f"Review page: {version.name} version {version.version} (validated by {validator})"
    tracker = store.tracker
    pending = ON_SERVER if store.validated_by_server else PENDING
    with tracker.run(f"{version.name}-validation", run_name=f"validate-{version.version}") as run:
        run.text(to_markdown(title, sections, pending=pending), CARD_PATH)
        run.text(review_page(title, sections, pending=pending), PAGE_PATH)
        run.text(json.dumps(governed.document, indent=2, sort_keys=True, default=str), POLICY_PATH)
    return run.run_id, tracker.artifact_location(run.run_id, PAGE_PATH)


def _summary(
    evaluation: Evaluation, governed: GoverningPolicy, flagged: list[str], reproduction: Reproduction | None
) -> str:
    verdicts = ", ".join(f"{gate} {verdict}" for gate, verdict in evaluation.gates().items())
    reproduced = f"; {reproduction.message}" if reproduction is not None else ""
    disagreeing = f"; the author's run disagrees on {', '.join(flagged)}" if flagged else ""
    return f"policy {governed.label}: {verdicts}{reproduced}{disagreeing}"
