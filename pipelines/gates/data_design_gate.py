"""The data-design gate (`validation.data_design`, policy section `data_design`): duplicated rows, row identifiers
among the features and a random split of dated rows (pipelines/gates/data_design.py). Judged on the data and the
split alone, so it reads the same whatever model was trained; an identifier the spec reviews is a note."""

from __future__ import annotations

from pipelines.gates.gate import GateContext, GateResult, status_of

__all__ = ["DataDesignGate"]


class DataDesignGate:
    name = "data_design"
    policy_section = "data_design"
    title = "Data design (duplicates, row identifiers, time order)"

    def evaluate(self, context: GateContext) -> GateResult:
        from pipelines.gates.data_design import design_checks

        spec = context.spec
        found = design_checks(
            context.checked.features,
            context.split.samples(),
            time=context.checked.time,
            numeric=spec.features.numeric,
            random_split=spec.split.method == "random",
            policy=spec.policy.data_design,
            reviewed=spec.features.reviewed,
        )
        findings = found.reasons()
        return GateResult(
            self.name,
            status_of(not findings),
            findings=findings,
            notes=found.acknowledged() + found.notes,
            metrics=dict(found.metrics),
            tables={"data_design/columns.csv": found.columns},
            detail=found,
        )
