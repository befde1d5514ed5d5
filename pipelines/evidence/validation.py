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
from pipelines.reports.card_context import CardIdentity, earlier_candidates
from pipelines.reports.card_evidence import draw_review_charts
from pipelines.reports.model_card import card_sections, to_markdown
from pipelines.reports.review_page import CARD_PATH, PAGE_PATH, review_page
from pipelines.reports.validation_section import comparison_items, disagreements, metric_rows, verdict_rows
from pipelines.tracking.pyfunc_model import load_model_scorer
from pipelines.training.evaluation import Evaluation
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
    scorer, _ = load_model_scorer(store.tracker, found.source, check=lambda files: _same_files(found, files))
    evaluation = revalidate(prepared, registered_candidate(prepared, scorer))
    record_validation(store, found, prepared, evaluation, governed)
    return evaluation


def governed_policy(store: GovernanceStore, version: VersionInfo) -> GoverningPolicy:
    """The current governed version of the policy `version` names; exit 2 when it is no longer governed."""
    name = policy_name(version)
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


def _same_files(version: VersionInfo, files: FilesCheck) -> None:
    expected = version.tags.get(tags.MODEL_SHA256, "")
    if files.problems or files.sha256 != expected:
        why = "; ".join(files.problems) or f"tree hash {files.sha256[:12]}, registered {expected[:12] or 'nothing'}"
        raise Refused(f"{version.name} version {version.version}: its model files are not the registered ones ({why})")


def record_validation(
    store: GovernanceStore, found: VersionInfo, prepared: Prepared, evaluation: Evaluation, governed: GoverningPolicy
) -> None:
    """The verdicts as tags (the author's kept as author.* the first time), the `validate` record, the page."""
    validator, time = store.acting_user(), now_iso()
    values = {f"{tags.VALIDATION_PREFIX}{gate}": verdict for gate, verdict in evaluation.gates().items()}
    values.update({tags.POLICY: governed.label, tags.POLICY_DIGEST: governed.digest})
    values.update({tags.VALIDATOR: validator, tags.VALIDATION_TIME: time})
    model, version = found.name, found.version
    with store.lock(model):
        trail = store.settled_trail(model)
        if not trail.trusted:
            raise trail.refusal()
        current = store.tracker.model_version(model, version)
        store.tracker.set_version_tags(model, version, {**author_values(current), **values})
        validated = store.tracker.model_version(model, version)
        verdicts = verdict_rows(evaluation.gates(), author_verdicts(validated))
        store.append(
            AuditRecord(
                "validate",
                model,
                version,
                validator,
                time,
                "done",
                reason=_summary(evaluation, governed, disagreements(verdicts)),
                evidence=evidence_digest(validated),
            )
        )
        page = write_review_page(store, validated, prepared, evaluation, verdicts)
    click.echo(f"{model} version {version}: validated by {validator} under policy {governed.label}")
    for gate, verdict in evaluation.gates().items():
        click.echo(f"  {tags.VALIDATION_PREFIX}{gate}={verdict}")
    click.echo(f"review page: {page}")


def author_values(version: VersionInfo) -> dict[str, str]:
    """The author's reported verdicts and policy as author.* tags: only before the first validation."""
    if tags.VALIDATOR in version.tags:
        return {}
    kept = {}
    for key, value in version.tags.items():
        if key.startswith(tags.VALIDATION_PREFIX) and key not in (tags.VALIDATOR, tags.VALIDATION_TIME):
            kept[tags.author_tag(tags.gate_name(key))] = value
    return kept


def author_verdicts(version: VersionInfo) -> dict[str, str]:
    return {k.removeprefix(tags.AUTHOR_PREFIX): v for k, v in version.tags.items() if k.startswith(tags.AUTHOR_PREFIX)}


def write_review_page(
    store: GovernanceStore, version: VersionInfo, prepared: Prepared, evaluation: Evaluation, verdicts: list[list[str]]
) -> str:
    """The validator's review page and card, with the comparison first, on a run of its own in experiment
    `<MODEL>-validation` (the author's run keeps the author's page; once approved a team server freezes it); the
    version's description links to it. Returns where the page is."""
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
    validator, time = version.tags[tags.VALIDATOR], version.tags[tags.VALIDATION_TIME]
    comparison = ("Validator and author", comparison_items(validator, time, verdicts, metrics))
    sections = [comparison, *card_sections(identity, prepared, evaluation)]
    title = f"Review page: {version.name} version {version.version} (validated by {validator})"
    tracker = store.tracker
    with tracker.run(f"{version.name}-validation", run_name=f"validate-{version.version}") as run:
        run.text(to_markdown(title, sections), CARD_PATH)
        run.text(review_page(title, sections), PAGE_PATH)
    link = f"#/experiments/{tracker.experiment_of(run.run_id)}/runs/{run.run_id}/artifactPath/{PAGE_PATH}"
    tracker.describe_version_part(
        version.name,
        version.version,
        "**Validated**",
        f"**Validated** by {validator} at {time}: [review page]({link}) on run {run.run_id}, the validator's evidence "
        "beside the author's.",
    )
    return tracker.artifact_location(run.run_id, PAGE_PATH)


def _summary(evaluation: Evaluation, governed: GoverningPolicy, flagged: list[str]) -> str:
    verdicts = ", ".join(f"{gate} {verdict}" for gate, verdict in evaluation.gates().items())
    disagreeing = f"; the author's run disagrees on {', '.join(flagged)}" if flagged else ""
    return f"policy {governed.label}: {verdicts}{disagreeing}"
