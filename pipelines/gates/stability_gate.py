"""The stability gate (`validation.stability`, policy section `stability`): does the population the model will meet
still look like its training data? Score PSI and each characteristic's CSI of the holdouts against the training
sample (pipelines/gates/stability.py, the same code monitoring uses); any value at the alert level fails, values at
the warn level are notes for the reviewer."""

from __future__ import annotations

from pipelines.gates.gate import GateContext, GateResult, status_of
from pipelines.gates.performance_gate import HOLDOUTS

__all__ = ["StabilityGate"]


class StabilityGate:
    name = "stability"
    policy_section = "stability"
    title = "Stability (PSI against the training sample)"

    def evaluate(self, context: GateContext) -> GateResult:
        from pipelines.gates.stability import stability_gate

        spec, split = context.spec, context.split
        holdouts = {
            name: (context.features(name), context.scores[name]) for name in split.samples() if name in HOLDOUTS
        }
        found = stability_gate(
            context.features("train"),
            context.train_scores,
            holdouts,
            numeric=spec.features.numeric,
            categorical=spec.features.categorical,
            policy=spec.policy.stability,
        )
        return GateResult(
            self.name,
            status_of(found.passed),
            findings=list(found.reasons),
            notes=list(found.warnings),
            metrics=dict(found.metrics),
            tables={f"stability/{name}.csv": table for name, table in found.tables.items()},
            detail=found,
        )
