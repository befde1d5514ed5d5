"""Recording a trained candidate in MLflow: evidence on the run, the model, and a new registered version."""

from __future__ import annotations

import json
import logging
import subprocess
from pathlib import Path

import features
import pipelines
from pipelines import runtime, tags
from pipelines.evidence.reference import EXPECTED_PATH, REFERENCE_PATH, expected_performance, reference_sample
from pipelines.gates.fairness import metric_name
from pipelines.gates.promotion import AuditRecord, evidence_digest
from pipelines.governance.audit import current_user, now_iso, record
from pipelines.reports.fairness_report import fairness_figure, fairness_html
from pipelines.reports.model_card import CardIdentity, card_sections, to_html, to_markdown
from pipelines.tracking import RunLogger, Tracker
from pipelines.tracking.pyfunc_model import log_credit_model
from pipelines.training.evaluation import Evaluation
from pipelines.training.train import booster_bytes
from pipelines.training.workflow import Candidate, Prepared

log = logging.getLogger("creditflow")

INPUT_EXAMPLE_ROWS = 5


def record_training(run: RunLogger, prepared: Prepared, candidate: Candidate, evaluation: Evaluation) -> str:
    """Log params, metrics, lineage, spec, tables, plots and the pyfunc model; return the model URI."""
    run.params(_params(prepared, candidate))
    run.metrics(evaluation.metrics)
    run.tags(lineage(prepared, run.run_id))
    run.text(prepared.spec_path.read_text(), f"spec/{prepared.spec_path.name}")
    run.text(json.dumps(_summary(evaluation), indent=2), "evaluation/summary.json")
    for name, table in evaluation.tables.items():
        run.table(table, f"evaluation/{name}.csv")
    for name, table in evaluation.stability.tables.items():
        run.table(table, f"stability/{name}.csv")
    if evaluation.fairness is not None:
        _record_fairness(run, evaluation)
    for name, figure in evaluation.figures.items():
        run.figure(figure, f"plots/{name}")
    _record_reference(run, prepared, evaluation)
    return _log_model(run, prepared, candidate)


def _record_reference(run: RunLogger, prepared: Prepared, evaluation: Evaluation) -> None:
    """What `creditflow monitor` compares later windows with (no PII, no ids; see monitoring/reference.py)."""
    run.frame(reference_sample(prepared.data.frame, prepared.split.train, prepared.spec), REFERENCE_PATH)
    run.text(json.dumps(expected_performance(evaluation.metrics, evaluation.main), indent=2), EXPECTED_PATH)


def register_candidate(
    tracker: Tracker, prepared: Prepared, run_id: str, model_uri: str, evaluation: Evaluation
) -> str:
    """A new version of the spec's registered model, pending approval, with gate and lineage tags.

    The registration is also the first entry of the model's audit trail, with the digest of the
    evidence a later approval vouches for (see pipelines/governance.py).
    """
    values = {
        tags.PERFORMANCE: "passed" if evaluation.passed else "failed",
        tags.STABILITY: "passed" if evaluation.stability.passed else "failed",
        tags.FAIRNESS: "passed" if evaluation.fairness_passed else "failed",
        tags.APPROVAL_STATUS: "pending",
        **lineage(prepared, run_id),
    }
    name = prepared.spec.name
    version = tracker.register(name, model_uri, values)
    registered = tracker.model_version(name, version)
    record(
        tracker,
        AuditRecord(
            "register", name, version, values[tags.AUTHOR], now_iso(), "done", evidence=evidence_digest(registered)
        ),
    )
    return version


def record_model_card(
    tracker: Tracker, run: RunLogger, prepared: Prepared, evaluation: Evaluation, version: str
) -> None:
    """The version's model card, as Markdown and HTML on its run, and the version description pointing to it."""
    made_by = lineage(prepared, run.run_id)
    identity = CardIdentity(
        prepared.spec.name, version, run.run_id, made_by[tags.GIT_COMMIT], made_by[tags.DATA_DIGEST]
    )
    sections = card_sections(identity, prepared, evaluation)
    title = f"Model card: {prepared.spec.name} version {version}"
    run.text(to_markdown(title, sections), "model_card/model_card.md")
    run.text(to_html(title, sections), "model_card/model_card.html")
    gates = ", ".join(f"{k} {'passed' if v else 'failed'}" for k, v in evaluation.gates().items())
    tracker.describe_version(
        prepared.spec.name,
        version,
        f"Gates: {gates}. Evidence and model card: run {run.run_id}, artifacts "
        "model_card/model_card.html, fairness/report.html, plots/, stability/.",
    )


def lineage(prepared: Prepared, run_id: str) -> dict[str, str]:
    return {
        tags.DATA_DIGEST: prepared.data.digest,
        tags.SPEC_DIGEST: prepared.spec_digest,
        tags.GIT_COMMIT: git_commit(),
        tags.RUN_ID: run_id,
        tags.AUTHOR: current_user(),  # who ran the pipeline: $CREDITFLOW_USER, else the OS user
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


def _record_fairness(run: RunLogger, evaluation: Evaluation) -> None:
    fairness = evaluation.fairness
    run.text(
        fairness_html(fairness, evaluation.proxies, evaluation.main, evaluation.challenger), "fairness/report.html"
    )
    if evaluation.challenger is not None:
        run.text(json.dumps(evaluation.challenger.to_dict(), indent=2), "fairness/challenger.json")
        run.table(evaluation.challenger.comparison, "fairness/challenger_comparison.csv")
    run.text(
        json.dumps({**fairness.to_dict(), "proxies": evaluation.proxies.to_dict(orient="records")}, indent=2),
        "fairness/fairness.json",
    )
    for grouping in fairness.groupings.values():
        run.table(grouping.table, f"fairness/groups_{metric_name(grouping.name)}.csv")
    run.table(evaluation.proxies, "fairness/proxy_candidates.csv")
    figure = fairness_figure(fairness)
    run.figure(figure, "fairness/approval_rates.png")


def _summary(evaluation: Evaluation) -> dict[str, object]:
    stability = evaluation.stability
    return {
        "performance": "passed" if evaluation.passed else "failed",
        "reasons": evaluation.reasons,
        "warnings": evaluation.warnings,
        "stability": "passed" if stability.passed else "failed",
        "stability_reasons": stability.reasons,
        "stability_warnings": stability.warnings,
        "fairness": "passed" if evaluation.fairness_passed else "failed",
        "fairness_reasons": _fairness_reasons(evaluation),
        "challenger_skipped": evaluation.challenger_skipped,
        "metrics": evaluation.metrics,
    }


def _fairness_reasons(evaluation: Evaluation) -> list[str]:
    if evaluation.fairness is None:
        return ["no sensitive attribute declared in data.sensitive: fairness cannot be shown"]
    return evaluation.fairness.verdict.reasons


def _log_model(run: RunLogger, prepared: Prepared, candidate: Candidate) -> str:
    # Raw training rows with their original dtypes, feature columns only (never PII or sensitive):
    # the signature then accepts the data as users have it (MLflow refuses int64 -> double).
    rows = prepared.split.train[:INPUT_EXAMPLE_ROWS]
    example = prepared.data.frame.iloc[rows][prepared.spec.features.all()].reset_index(drop=True)
    scorer = candidate.scorer(prepared.spec)
    settings = {**scorer.settings(), "model_name": prepared.spec.name, "id_column": prepared.spec.data.id}
    code = [str(Path(features.__file__).parent), str(Path(pipelines.__file__).parent)]
    return log_credit_model(
        run,
        booster_bytes(candidate.booster),
        candidate.transform.to_json(),
        settings,
        example,
        scorer.score(example),
        code,
    )
