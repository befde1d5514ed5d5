"""The evaluation step: every registered gate (pipelines/gates/registry.py) judges the trained candidate, and the
mitigated challenger is trained when the fairness verdict asks for one.

Apart from `pipelines/training/workflow.py` because preparing and training are shared with tuning, while evaluation
is the run's alone. Pure, like the other steps: nothing here touches the tracking store or draws to a file.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from pipelines.core.tags import PASSED
from pipelines.gates.fairness_gate import fairness_evidence
from pipelines.gates.gate import Gate, GateContext, GateResult
from pipelines.gates.registry import gates
from pipelines.progress import Progress
from pipelines.training.challenger import challenger_skipped, judged_challenger
from pipelines.training.challenger_process import ChallengerWorker
from pipelines.training.checks import gate_context, reasons_agreement
from pipelines.training.logistic_benchmark import fitted_rows
from pipelines.training.mitigation import ChallengerReport
from pipelines.training.workflow import Candidate, Prepared

FAIRNESS = "fairness"  # the gate whose verdict decides whether a mitigated challenger is trained


@dataclass
class Evaluation:
    """What the run records and the reviewer reads: each registered gate's result, in the registry's order, what was
    measured of the candidate beside them, and the mitigated challenger."""

    results: list[GateResult]
    main: str  # the holdout reports lead with (Split.main)
    measured: dict[str, float]  # of the candidate, beside the gates: trees, baseline rows, the reasons' agreement
    notes: list[str] = field(default_factory=list)  # what the data and its contract warned about
    scores: dict[str, np.ndarray] = field(default_factory=dict)  # PD of every holdout row, per sample
    challenger: ChallengerReport | None = None  # the mitigated alternative, when the policy asks for one
    challenger_skipped: str | None = None  # why no challenger was trained (said in the run's output)
    challenger_pending: bool = False  # the challenger is still training while the caller's block runs
    charts: dict[str, Any] = field(default_factory=dict)  # the review page's charts, drawn once (card_evidence.py)

    def result(self, name: str) -> GateResult:
        found = next((r for r in self.results if r.name == name), None)
        if found is None:
            raise KeyError(f"no gate {name!r} in this evaluation ({', '.join(r.name for r in self.results)})")
        return found

    def gates(self) -> dict[str, str]:
        """Each gate's status as its `validation.<name>` tag says it."""
        return {r.name: r.status for r in self.results}

    @property
    def all_passed(self) -> bool:
        return all(r.status == PASSED for r in self.results)

    @property
    def metrics(self) -> dict[str, float]:
        """Every number measured: of the candidate, by each gate, and of the challenger once it is judged."""
        found = dict(self.measured)
        for result in self.results:
            found.update(result.metrics)
        return {**found, **(self.challenger.metrics() if self.challenger is not None else {})}

    @property
    def tables(self) -> dict[str, pd.DataFrame]:
        """Every gate's tables, by the run artifact that holds them."""
        return {path: table for r in self.results for path, table in r.tables.items()}

    @property
    def figures(self) -> dict[str, Any]:
        """Every gate's figures, by the run artifact that holds them."""
        return {path: figure for r in self.results for path, figure in r.figures.items()}

    @property
    def all_notes(self) -> list[str]:
        """The data's warnings, then each gate's notes: what the verdicts did not judge."""
        return self.notes + [note for r in self.results for note in r.notes]


def evaluate_candidate(
    prepared: Prepared, candidate: Candidate, *, worker: ChallengerWorker | None = None
) -> Evaluation:
    """Every gate's verdict, then the challenger (see `evaluating`)."""
    with evaluating(prepared, candidate, worker=worker) as evaluation:
        pass
    return evaluation


@contextlib.contextmanager
def evaluating(
    prepared: Prepared, candidate: Candidate, *, worker: ChallengerWorker | None = None
) -> Iterator[Evaluation]:
    """The evaluation, yielded while the mitigated challenger may still be training; complete when the block ends.

    The challenger (dozens of XGBoost fits) trains in `worker`'s process when the run started one (the run sends it
    the job as soon as the candidate is trained; pipelines/training/challenger_process.py), else on a thread once
    the fairness verdict asks for it; a verdict that does not ask stops the worker. Meanwhile this thread runs the
    other gates, then the caller's block (work that needs no challenger, such as logging the model and rendering
    figures: `challenger_pending` says whether there is time to overlap); leaving the block waits for the challenger.
    """
    if worker is not None:
        _use_threads(candidate, candidate.threads - 1)  # the challenger's process takes a core (see _use_threads)
    try:
        with _evaluating(prepared, candidate, worker) as evaluation:
            yield evaluation
    finally:
        _use_threads(candidate, candidate.threads)


def _use_threads(candidate: Candidate, threads: int) -> None:
    """The candidate's XGBoost threads for its predictions. Beside the challenger's process, two threads on two cores
    made three busy threads: an OpenMP region waits for its descheduled thread, and the run took 23.6 s instead of
    22.3 s (median of 4, 1M rows). The booster's files do not hold its thread count."""
    candidate.booster.set_param({"nthread": max(1, threads)})


@contextlib.contextmanager
def _evaluating(prepared: Prepared, candidate: Candidate, worker: ChallengerWorker | None) -> Iterator[Evaluation]:
    context = gate_context(prepared, candidate)
    registered = gates()
    # the fairness verdict is judged first: it decides whether the challenger trains while the other gates measure
    results = {g.name: g.evaluate(context) for g in registered if g.name == FAIRNESS}
    fairness = fairness_evidence(results[FAIRNESS]).result if FAIRNESS in results else None
    skipped = challenger_skipped(prepared.spec, fairness)
    # the original's verdict, when a challenger is wanted (`skipped` says why not)
    beside = fairness if fairness is not None and not skipped else None
    if worker is not None and beside is None:
        worker.close()  # a job sent ahead of the verdict is not wanted: free the core now
        _use_threads(candidate, candidate.threads)
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="challenger") as pool:
        pending: Future[ChallengerReport] | None = None
        if beside is not None:
            pending = pool.submit(judged_challenger, prepared, candidate, context.scores, beside, worker)
        try:
            results.update(_judge(context, [g for g in registered if g.name not in results]))
            evaluation = Evaluation(
                [results[g.name] for g in registered],
                prepared.split.main,
                _measured(prepared, candidate),
                notes=prepared.data.warnings + prepared.checked.warnings,
                scores=context.scores,
                challenger_skipped=skipped,
                challenger_pending=pending is not None,
            )
            yield evaluation
            evaluation.challenger = pending.result() if pending else None
            evaluation.challenger_pending = False
        except BaseException:
            if worker is not None:  # the pool's thread waits for the worker: stop it rather than wait minutes
                worker.close()
            raise


def _judge(context: GateContext, pending: list[Gate]) -> dict[str, GateResult]:
    """The remaining gates in the registry's order, each on a progress line (on a large book each takes seconds)."""
    results: dict[str, GateResult] = {}
    with Progress("evaluating", len(pending), "gates") as progress:
        for gate in pending:
            results[gate.name] = gate.evaluate(context)
            progress.update(1, f"{gate.name} {results[gate.name].status}")
    return results


def _measured(prepared: Prepared, candidate: Candidate) -> dict[str, float]:
    return {
        "best_iteration": float(candidate.booster.num_boosted_rounds()),
        "baseline_training_rows": float(fitted_rows(len(prepared.split.train))),
        **reasons_agreement(prepared, candidate),
    }
