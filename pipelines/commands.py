"""What each CLI verb does: load, call the pure steps, log; report to the user."""

from __future__ import annotations

import logging
import time

import click

from features.data import write_table
from features.errors import CreditflowError
from pipelines.record import record_training, register_candidate
from pipelines.tracking import Tracker
from pipelines.workflow import evaluate_candidate, prepare, train_candidate

log = logging.getLogger("creditflow")


def run_pipeline(spec_path: str, tracking_uri: str | None, register: bool) -> bool:
    """Validate, train, evaluate and log SPEC; register a version if asked. Returns the verdict."""
    started = time.perf_counter()
    prepared = prepare(spec_path)  # bad input stops here, before anything is written
    sizes = ", ".join(f"{k} {len(v)}" for k, v in prepared.split.samples().items())
    log.info("data %s: %d rows (%s)", prepared.data.source, len(prepared.checked.target), sizes)
    candidate = train_candidate(prepared)
    log.info("trained %d trees", candidate.booster.num_boosted_rounds())
    evaluation = evaluate_candidate(prepared, candidate)
    tracker = Tracker(tracking_uri)
    name = prepared.spec.name
    with tracker.run(name, run_name=f"{name}-{'run' if register else 'train'}") as run:
        model_uri = record_training(run, prepared, candidate, evaluation)
        version = register_candidate(tracker, prepared, run.run_id, model_uri, evaluation) if register else None
    _report(prepared.spec.name, tracker.uri, run.run_id, version, evaluation, time.perf_counter() - started)
    return evaluation.passed


def _report(name, uri, run_id, version, evaluation, seconds) -> None:
    main = "oot" if "oot_auc" in evaluation.metrics else "test"
    m = evaluation.metrics
    click.echo(f"{main} AUC {m[f'{main}_auc']:.3f}  Gini {m[f'{main}_gini']:.3f}  KS {m[f'{main}_ks']:.3f}  "
               f"Brier {m[f'{main}_brier']:.4f}  (logistic baseline AUC {m[f'baseline_{main}_auc']:.3f})")
    verdict = "passed" if evaluation.passed else "failed: " + "; ".join(evaluation.reasons)
    click.echo(f"validation.performance: {verdict}")
    for warning in evaluation.warnings:
        click.echo(f"warning: {warning}")
    click.echo(f"run {run_id} in experiment '{name}' ({seconds:.1f} s)")
    if version:
        click.echo(f"registered model '{name}' version {version}: approval.status=pending")
        click.echo(f"review it: mlflow ui --backend-store-uri {uri}  then open Models > {name} > Version {version}")


def generate(out: str, options: dict) -> None:
    """Write a synthetic consumer-loan book."""
    from features.synthetic import BookOptions, generate_book

    try:
        book = generate_book(BookOptions(**options))
    except ValueError as exc:
        raise CreditflowError(str(exc)) from None
    write_table(book, out)
    click.echo(f"wrote {len(book)} applicants to {out} (default rate {book['default_12m'].mean():.1%})")
