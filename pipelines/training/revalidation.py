"""The validator's measurement: every registered gate judges a registered model (its booster and transform as
stored, not as the author's process held them) on the data and under the policy the validator resolved.

Pure, like the other steps: the caller (`pipelines/evidence/validation.py`) loads the files, checks their hashes and
the data's digest, and records what this returns.
"""

from __future__ import annotations

from pipelines.gates.registry import gates
from pipelines.scoring.scorer import Scorer
from pipelines.training.checks import gate_context
from pipelines.training.evaluation import Evaluation
from pipelines.training.workflow import Candidate, Prepared

__all__ = ["registered_candidate", "revalidate"]


def registered_candidate(prepared: Prepared, scorer: Scorer) -> Candidate:
    """The registered model as a candidate: its stored transform applied to every row, its stored booster, one
    XGBoost thread (a validator shares the machine)."""
    scorer.booster.set_param({"nthread": 1})
    model_input = scorer.transform.transform(prepared.checked.features)
    return Candidate(scorer.transform, prepared.spec.tuning.params, scorer.booster, model_input, scorer.baseline, 1)


def revalidate(prepared: Prepared, candidate: Candidate) -> Evaluation:
    """Every registered gate's verdict on the registered model, in the registry's order. No challenger is
    trained: the less-discriminatory alternative is the author's evidence, read from their run."""
    context = gate_context(prepared, candidate)
    results = [gate.evaluate(context) for gate in gates()]
    return Evaluation(
        results,
        prepared.split.main,
        {"best_iteration": float(candidate.booster.num_boosted_rounds())},
        notes=prepared.data.warnings + prepared.checked.warnings,
        scores=context.scores,
    )
