"""Recording a trained candidate in MLflow: evidence on the run, the model, and a new registered version."""

from __future__ import annotations

import json
import logging
import subprocess
import tempfile
from collections import Counter
from pathlib import Path

import matplotlib.pyplot as plt  # optuna's plots draw with pyplot; they are closed once logged
import optuna
from optuna.visualization.matplotlib import plot_optimization_history, plot_param_importances
from sqlalchemy.engine import make_url

import features
import pipelines
from features.spec import Spec
from monitoring.reference import EXPECTED_PATH, REFERENCE_PATH, expected_performance, reference_sample
from pipelines.audit import current_user, now_iso, record
from pipelines.fairness import metric_name
from pipelines.fairness_report import fairness_figure, fairness_html
from pipelines.governance import AUTHOR_TAG, AuditRecord, evidence_digest
from pipelines.model_card import CardIdentity, card_sections, to_html, to_markdown
from pipelines.pyfunc_model import BOOSTER, DEFAULT_PARAMS, SETTINGS, TRANSFORM, CreditModel
from pipelines.tracking import RunLogger, Tracker
from pipelines.train import booster_bytes
from pipelines.tune import StudyRef
from pipelines.tuning_session import Budget
from pipelines.workflow import Candidate, Evaluation, Prepared

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


def record_study(run: RunLogger, study: optuna.Study, spec: Spec, ref: StudyRef, budget: Budget) -> None:
    """The study on its parent run: settings, counts, best trial, history and importance plots."""
    states = Counter(t.state.name.lower() for t in study.get_trials(deepcopy=False))
    storage = make_url(ref.storage_url).render_as_string(hide_password=True)
    run.params({"tuning.study": ref.name, "tuning.storage": storage, "tuning.metric": spec.tuning.metric,
                "tuning.trials": budget.trials, "tuning.timeout": budget.timeout, "tuning.workers": budget.workers,
                "tuning.sampler": json.dumps(study.user_attrs.get("sampler"), sort_keys=True),
                "tuning.pruning": json.dumps(spec.tuning.pruning.model_dump(), sort_keys=True),
                "tuning.space": json.dumps({k: v.model_dump() for k, v in spec.tuning.space.items()}, sort_keys=True)})
    run.metrics({f"trials_{state}": float(states.get(state, 0)) for state in ("complete", "pruned", "fail")})
    if not study.best_trials:
        return
    best = study.best_trial
    run.metrics({f"best_valid_{spec.tuning.metric}": best.value, "best_trial": float(best.number)})
    run.text(json.dumps({"trial": best.number, "value": best.value, "params": best.params}, indent=2),
             "tuning/best_params.json")
    for name, plot in (("optimization_history.png", plot_optimization_history),
                       ("param_importances.png", plot_param_importances)):
        # Optuna's plots switch pyplot's global style; keep that change inside this block.
        with plt.style.context("default"):
            try:
                axes = plot(study)
            except (ValueError, RuntimeError) as exc:  # e.g. importances need two completed trials
                log.info("skipped %s: %s", name, exc)
                continue
            run.figure(axes.figure, f"tuning/{name}")
            plt.close(axes.figure)


def register_candidate(tracker: Tracker, prepared: Prepared, run_id: str, model_uri: str,
                       evaluation: Evaluation) -> str:
    """A new version of the spec's registered model, pending approval, with gate and lineage tags.

    The registration is also the first entry of the model's audit trail, with the digest of the
    evidence a later approval vouches for (see pipelines/governance.py).
    """
    tags = {
        "validation.performance": "passed" if evaluation.passed else "failed",
        "validation.stability": "passed" if evaluation.stability.passed else "failed",
        "validation.fairness": "passed" if evaluation.fairness_passed else "failed",
        "approval.status": "pending",
        **lineage(prepared, run_id),
    }
    name = prepared.spec.name
    version = tracker.register(name, model_uri, tags)
    registered = tracker.model_version(name, version)
    record(tracker, AuditRecord("register", name, version, tags[AUTHOR_TAG], now_iso(), "done",
                                evidence=evidence_digest(registered)))
    return version


def record_model_card(tracker: Tracker, run: RunLogger, prepared: Prepared, evaluation: Evaluation,
                      version: str) -> None:
    """The version's model card, as Markdown and HTML on its run, and the version description pointing to it."""
    tags = lineage(prepared, run.run_id)
    identity = CardIdentity(prepared.spec.name, version, run.run_id, tags["lineage.git_commit"], tags["lineage.data_digest"])
    sections = card_sections(identity, prepared, evaluation)
    title = f"Model card: {prepared.spec.name} version {version}"
    run.text(to_markdown(title, sections), "model_card/model_card.md")
    run.text(to_html(title, sections), "model_card/model_card.html")
    gates = ", ".join(f"{k} {'passed' if v else 'failed'}" for k, v in evaluation.gates().items())
    tracker.describe_version(prepared.spec.name, version,
                             f"Gates: {gates}. Evidence and model card: run {run.run_id}, artifacts "
                             "model_card/model_card.html, fairness/report.html, plots/, stability/.")


def lineage(prepared: Prepared, run_id: str) -> dict[str, str]:
    return {
        "lineage.data_digest": prepared.data.digest,
        "lineage.spec_digest": prepared.spec_digest,
        "lineage.git_commit": git_commit(),
        "lineage.run_id": run_id,
        AUTHOR_TAG: current_user(),  # who ran the pipeline: $CREDITFLOW_USER, else the OS user
    }


def git_commit() -> str:
    """The code's commit, with '-dirty' when tracked files differ from it; 'unknown' outside git."""
    root = Path(pipelines.__file__).resolve().parents[1]
    try:
        commit = subprocess.run(["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True,
                                text=True, check=True, timeout=10).stdout.strip()
        clean = subprocess.run(["git", "-C", str(root), "diff", "--quiet", "HEAD"], timeout=10).returncode == 0
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return commit if clean else f"{commit}-dirty"


def _params(prepared: Prepared, candidate: Candidate) -> dict[str, object]:
    spec, split = prepared.spec, prepared.split
    values: dict[str, object] = {f"xgb.{k}": v for k, v in candidate.params.model_dump().items()}
    values.update({
        "seed": spec.tuning.seed, "split.method": spec.split.method, "split.seed": spec.split.seed,
        "data.source": prepared.data.source, "data.rows": len(prepared.checked.target),
        "features.numeric": len(spec.features.numeric), "features.categorical": len(spec.features.categorical),
        "features.monotone": json.dumps(spec.features.monotone, sort_keys=True),
        "policy.cutoff": spec.policy.cutoff,
    })
    values.update({f"rows.{name}": len(rows) for name, rows in split.samples().items()})
    if split.oot_start:
        values["split.oot_start"] = split.oot_start
    return values


def _record_fairness(run: RunLogger, evaluation: Evaluation) -> None:
    fairness = evaluation.fairness
    run.text(fairness_html(fairness, evaluation.proxies, evaluation.main, evaluation.challenger), "fairness/report.html")
    if evaluation.challenger is not None:
        run.text(json.dumps(evaluation.challenger.to_dict(), indent=2), "fairness/challenger.json")
        run.table(evaluation.challenger.comparison, "fairness/challenger_comparison.csv")
    run.text(json.dumps({**fairness.to_dict(), "proxies": evaluation.proxies.to_dict(orient="records")}, indent=2),
             "fairness/fairness.json")
    for grouping in fairness.groupings.values():
        run.table(grouping.table, f"fairness/groups_{metric_name(grouping.name)}.csv")
    run.table(evaluation.proxies, "fairness/proxy_candidates.csv")
    figure = fairness_figure(fairness)
    run.figure(figure, "fairness/approval_rates.png")


def _summary(evaluation: Evaluation) -> dict[str, object]:
    stability = evaluation.stability
    return {"performance": "passed" if evaluation.passed else "failed", "reasons": evaluation.reasons,
            "warnings": evaluation.warnings,
            "stability": "passed" if stability.passed else "failed", "stability_reasons": stability.reasons,
            "stability_warnings": stability.warnings, "fairness": "passed" if evaluation.fairness_passed else "failed",
            "fairness_reasons": _fairness_reasons(evaluation), "metrics": evaluation.metrics}


def _fairness_reasons(evaluation: Evaluation) -> list[str]:
    if evaluation.fairness is None:
        return ["no sensitive attribute declared in data.sensitive: fairness cannot be shown"]
    return evaluation.fairness.verdict.reasons


def _log_model(run: RunLogger, prepared: Prepared, candidate: Candidate) -> str:
    # Raw training rows with their original dtypes, feature columns only (never PII or sensitive):
    # the signature then accepts the data as users have it (MLflow refuses int64 -> double).
    rows = prepared.split.train[:INPUT_EXAMPLE_ROWS]
    example = prepared.data.frame.iloc[rows][prepared.spec.features.all()]
    scorer = candidate.scorer(prepared.spec)
    output = scorer.score(example)
    code = [str(Path(features.__file__).parent), str(Path(pipelines.__file__).parent)]
    with tempfile.TemporaryDirectory() as folder:
        files = {BOOSTER: Path(folder) / "booster.ubj", TRANSFORM: Path(folder) / "transform.json",
                 SETTINGS: Path(folder) / "settings.json"}
        files[BOOSTER].write_bytes(booster_bytes(candidate.booster))
        files[TRANSFORM].write_text(candidate.transform.to_json())
        files[SETTINGS].write_text(json.dumps({**scorer.settings(), "model_name": prepared.spec.name,
                                               "id_column": prepared.spec.data.id}, indent=2))
        return run.model(CreditModel(), {k: str(v) for k, v in files.items()}, code,
                         example.reset_index(drop=True), output.reset_index(drop=True), DEFAULT_PARAMS)
