"""Recording a trained candidate in MLflow: evidence on the run, the model, and a new registered version."""

from __future__ import annotations

import json
import logging
import subprocess
from pathlib import Path

import pipelines
from features.policy import InputLimits
from features.spec import Spec
from pipelines import runtime
from pipelines.core import tags
from pipelines.core.actor import current_user
from pipelines.core.clock import now_iso
from pipelines.core.records import AuditRecord
from pipelines.evidence.policy import policy_tags, record_policy
from pipelines.evidence.reference import (
    EXPECTED_PATH,
    REFERENCE_PATH,
    expected_bands,
    expected_performance,
    reference_rows,
    reference_sample,
)
from pipelines.evidence.registry_text import model_description, model_tags
from pipelines.gates.fairness_gate import FairnessEvidence, fairness_evidence
from pipelines.governance.rules.promotion import evidence_digest
from pipelines.governance.store import store_of
from pipelines.reports.card_context import earlier_candidates
from pipelines.reports.fairness_report import fairness_html
from pipelines.reports.model_card import CardIdentity, card_sections, to_markdown
from pipelines.reports.render import png_bytes
from pipelines.reports.review_page import CARD_PATH, PAGE_PATH, review_page
from pipelines.scoring.request_check import required_features
from pipelines.tracking import RunLogger, Tracker
from pipelines.tracking.model_files import model_files_check
from pipelines.tracking.pyfunc_model import log_credit_model
from pipelines.training.evaluation import Evaluation
from pipelines.training.train import booster_bytes, predict_pd
from pipelines.training.workflow import Candidate, Prepared

log = logging.getLogger("creditflow")

INPUT_EXAMPLE_ROWS = 5


def record_training(
    run: RunLogger, prepared: Prepared, candidate: Candidate, evaluation: Evaluation, *, author: str | None = None
) -> None:
    """Log params, metrics, lineage, spec, tables, plots and the monitoring reference beside the model: all the
    evidence but the challenger's, so the run logs it while the challenger trains (`record_verdicts` follows).
    `author`: the store's acting user (a team server's authenticated login), else $CREDITFLOW_USER or the OS user."""
    run.params(_params(prepared, candidate))
    run.metrics(evaluation.metrics)
    run.tags(lineage(prepared, run.run_id, author=author))
    run.text(prepared.spec_path.read_text(), f"spec/{prepared.spec_path.name}")
    record_policy(run, prepared.spec)
    for path, table in evaluation.tables.items():  # each gate's, by the artifact that holds it
        run.table(table, path)
    for path, figure in evaluation.figures.items():
        run.image(png_bytes(figure), path)
    _record_reference(run, prepared, candidate, evaluation)


def record_verdicts(run: RunLogger, evaluation: Evaluation) -> None:
    """Once the evaluation is complete: the challenger's metrics, the fairness report (which compares the model
    with its challenger) and the summary of every verdict."""
    if evaluation.challenger is not None:
        run.metrics(evaluation.challenger.metrics())
    evidence = fairness_evidence(evaluation.result("fairness")) if "fairness" in evaluation.gates() else None
    if evidence is not None and evidence.result is not None:
        _record_fairness(run, evaluation, evidence)
    run.text(json.dumps(_summary(evaluation), indent=2), "evaluation/summary.json")


def _record_reference(run: RunLogger, prepared: Prepared, candidate: Candidate, evaluation: Evaluation) -> None:
    """What `creditflow monitor` compares later windows with (no PII, no ids; see evidence/reference.py): the
    reference sample, and the holdout's performance overall and per band of the reference's score deciles."""
    spec, split = prepared.spec, prepared.split
    rows, holdout = reference_rows(split.train, spec), split.samples()[evaluation.main]
    bands = expected_bands(
        predict_pd(candidate.booster, candidate.model_input.iloc[rows]),
        evaluation.scores[evaluation.main],
        prepared.checked.target[holdout],
        bins=spec.monitoring.score.bins,
    )
    run.frame(reference_sample(prepared.data.frame, split.train, spec), REFERENCE_PATH)
    expected = expected_performance(evaluation.metrics, evaluation.main, bands=bands)
    run.text(json.dumps(expected, indent=2), EXPECTED_PATH)


def register_candidate(
    tracker: Tracker, prepared: Prepared, run_id: str, model_uri: str, evaluation: Evaluation
) -> str:
    """A new version of the spec's registered model, pending approval, with gate and lineage tags, among
    them `lineage.model_sha256`, the tree hash of the logged model's files as stored.

    Registration and its audit record happen under the model's lock, so no other command ever sees the
    version without its record; a process killed in between leaves a version that the next `run` or
    `status` marks abandoned (pipelines/governance/local/recovery.py). The record carries the digest of the
    evidence a later approval vouches for (see pipelines/governance/rules/promotion.py).
    """
    values = {
        **{f"{tags.VALIDATION_PREFIX}{gate}": verdict for gate, verdict in evaluation.gates().items()},
        **policy_tags(prepared.spec),
        tags.APPROVAL_STATUS: "pending",
        **lineage(prepared, run_id),
        tags.MODEL_SHA256: model_files_check(tracker, model_uri).sha256,
    }
    name, store = prepared.spec.name, store_of(tracker)
    if store.validated_by_server:
        values = authors_report(values)
    with store.lock(name):
        trail = store.settled_trail(name)
        if trail.experiment == "deleted":
            raise trail.refusal()  # before registering: a version must never lack its record
        for problem in trail.problems:
            log.warning("warning: the audit trail of %s is untrusted: %s", name, problem)
        version = tracker.register(name, model_uri, values)
        spec, spec_path = prepared.spec, prepared.spec_path
        tracker.describe_model(name, model_description(spec, spec_path), model_tags(spec, spec_path))
        registered = tracker.model_version(name, version)
        store.append(
            AuditRecord(
                "register", name, version, values[tags.AUTHOR], now_iso(), "done", evidence=evidence_digest(registered)
            ),
        )
    return version


def authors_report(values: dict[str, str]) -> dict[str, str]:
    """Registration tags for a team server: the run's verdicts and policy as `author.*` (reported, never trusted),
    no `validation.*` and no `lineage.model_sha256`: the server's validator computes the evidence."""
    kept = {}
    for key, value in values.items():
        if key == tags.MODEL_SHA256:
            continue
        if key.startswith(tags.VALIDATION_PREFIX):
            key = tags.author_tag(tags.gate_name(key))  # validation.policy -> author.policy too
        kept[key] = value
    return kept


def record_model_card(
    tracker: Tracker, run: RunLogger, prepared: Prepared, candidate: Candidate, evaluation: Evaluation, version: str
) -> str:
    """The version's review page (HTML) and card (Markdown) on its run, and the version description linking to
    the page; returns where the page is."""
    made_by = lineage(prepared, run.run_id)
    identity = CardIdentity(
        prepared.spec.name,
        version,
        run.run_id,
        made_by[tags.GIT_COMMIT],
        made_by[tags.DATA_DIGEST],
        candidate.params.model_dump(),
        earlier_candidates(tracker.model_versions(prepared.spec.name), version, made_by[tags.DATA_DIGEST]),
    )
    sections = card_sections(identity, prepared, evaluation)
    title = f"Review page: {prepared.spec.name} version {version}"
    run.text(to_markdown(title, sections), CARD_PATH)
    run.text(review_page(title, sections), PAGE_PATH)
    gates = ", ".join(f"{k} {v}" for k, v in evaluation.gates().items())
    link = tracker.ui_link(run.run_id, PAGE_PATH)
    policy = prepared.spec.governing.label if prepared.spec.governing else "none"
    tracker.describe_version(
        prepared.spec.name,
        version,
        f"**Review page**: [{PAGE_PATH}]({link}) on run {run.run_id}: verdicts and limits, every measurement, "
        f"approvals and exceptions.\n\nGates: {gates} (policy {policy}). More evidence on the run: "
        "fairness/report.html, plots/, stability/, policy/, model_card/model_card.md.",
    )
    return tracker.artifact_location(run.run_id, PAGE_PATH)


def lineage(prepared: Prepared, run_id: str, *, author: str | None = None) -> dict[str, str]:
    return {
        tags.DATA_DIGEST: prepared.data.digest,
        tags.SPEC_DIGEST: prepared.spec_digest,
        tags.GIT_COMMIT: git_commit(),
        tags.RUN_ID: run_id,
        tags.AUTHOR: author or current_user(),  # who ran the pipeline: the store's acting user
    }


def git_commit() -> str:
    """The code's commit, with '-dirty' when tracked files differ from it; 'unknown' outside git."""
    root = Path(pipelines.__file__).resolve().parents[1]
    try:
        commit = subprocess.run(
            ["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True, text=True, check=True, timeout=10
        ).stdout.strip()
        clean = subprocess.run(["git", "-C", str(root), "diff", "--quiet", "HEAD"], timeout=10).returncode == 0
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return commit if clean else f"{commit}-dirty"


def _params(prepared: Prepared, candidate: Candidate) -> dict[str, object]:
    spec, split = prepared.spec, prepared.split
    values: dict[str, object] = {f"xgb.{k}": v for k, v in candidate.params.model_dump().items()}
    values.update(
        {
            "seed": spec.tuning.seed,
            "split.method": spec.split.method,
            "split.seed": spec.split.seed,
            "data.source": prepared.data.source,
            "data.rows": len(prepared.checked.target),
            "features.numeric": len(spec.features.numeric),
            "features.categorical": len(spec.features.categorical),
            "features.monotone": json.dumps(spec.features.monotone, sort_keys=True),
            "policy.cutoff": spec.policy.cutoff,
        }
    )
    values.update({f"rows.{name}": len(rows) for name, rows in split.samples().items()})
    values.update({"runtime.nthread": candidate.threads, **runtime.describe()})
    if split.oot_start:
        values["split.oot_start"] = split.oot_start
    return values


def _record_fairness(run: RunLogger, evaluation: Evaluation, evidence: FairnessEvidence) -> None:
    """The fairness report, which compares the model with its challenger (the gate's tables and figure are logged
    with the rest of the evidence)."""
    fairness, proxies = evidence.result, evidence.proxies
    assert fairness is not None and proxies is not None
    page = fairness_html(fairness, proxies, evaluation.main, challenger=evaluation.challenger)
    run.text(page, "fairness/report.html")
    if evaluation.challenger is not None:
        run.text(json.dumps(evaluation.challenger.to_dict(), indent=2), "fairness/challenger.json")
        run.table(evaluation.challenger.comparison, "fairness/challenger_comparison.csv")
    run.text(
        json.dumps({**fairness.to_dict(), "proxies": proxies.to_dict(orient="records")}, indent=2),
        "fairness/fairness.json",
    )


def _summary(evaluation: Evaluation) -> dict[str, object]:
    """Every gate's verdict (`<gate>`: status, as `creditflow audit verify` compares it with the version's tags), its
    findings and notes, what the data warned about, and every metric."""
    return {
        **evaluation.gates(),
        "findings": {r.name: r.findings for r in evaluation.results},
        "gate_notes": {r.name: r.notes for r in evaluation.results},
        "notes": evaluation.all_notes,
        "challenger_skipped": evaluation.challenger_skipped,
        "metrics": evaluation.metrics,
    }


def refused_columns(spec: Spec) -> dict[str, str]:
    """Columns a scoring request must not carry, each with its role: the target, PII, and the sensitive
    attributes with the columns they come from. Serving refuses a request that has any of them."""
    data = spec.data
    roles = {name: "sensitive attribute" for name in data.sensitive_names() + data.sensitive_sources()}
    return {data.target: "target", **{name: "PII" for name in data.pii}, **roles}


def record_model(run: RunLogger, prepared: Prepared, candidate: Candidate) -> str:
    """Log the pyfunc model (it needs no evaluation, so it is logged while the challenger trains); its URI."""
    # Raw training rows with their original dtypes, feature columns only (never PII or sensitive):
    # the signature then accepts the data as users have it (MLflow refuses int64 -> double).
    rows = prepared.split.train[:INPUT_EXAMPLE_ROWS]
    example = prepared.data.frame.iloc[rows][prepared.spec.features.all()].reset_index(drop=True)
    train = prepared.data.frame.iloc[prepared.split.train]
    scorer = candidate.scorer(prepared.spec, train)
    governing = prepared.spec.governing
    missing_warn = governing.policy.input_check.missing_warn if governing else InputLimits().missing_warn
    settings = {
        **scorer.settings(),
        "model_name": prepared.spec.name,
        "id_column": prepared.spec.data.id,
        "refused_columns": refused_columns(prepared.spec),
        "required_features": required_features(train, prepared.spec.features.all(), missing_warn=missing_warn),
    }
    return log_credit_model(
        run, booster_bytes(candidate.booster), candidate.transform.to_json(), settings, example, scorer.score(example)
    )
