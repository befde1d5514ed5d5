"""What the registered model itself says in the MLflow UI: a description and tags naming what it predicts,
its target and positive label, and the spec and policy it is built and judged under.

Versions carry their own evidence (validation.*, approval.*, lineage.* tags); these are the model's,
refreshed at each registration so they follow the latest spec.
"""

from __future__ import annotations

from pathlib import Path

from features.spec import Spec
from pipelines.core import tags

PREDICTS = "probability_of_default"


def policy_name(spec: Spec, spec_path: Path) -> str:
    """The governed policy the gates judge under (`validation.policy` on each version says the same), as tightened
    by the spec; the built-in default for a spec read without one."""
    found = spec.governing
    label = found.label if found is not None else "creditflow-default v1"
    return f"governed policy {label} (as tightened by {spec_path.name})"


def model_tags(spec: Spec, spec_path: Path) -> dict[str, str]:
    return {
        tags.MODEL_PREDICTS: PREDICTS,
        tags.MODEL_TARGET: spec.data.target,
        tags.MODEL_POSITIVE: str(spec.data.positive),
        tags.MODEL_SPEC: spec_path.name,
        tags.MODEL_POLICY: policy_name(spec, spec_path),
        tags.MODEL_BUILT_BY: "creditflow",
    }


def model_description(spec: Spec, spec_path: Path) -> str:
    data = spec.data
    return "\n\n".join(
        [
            f"Predicts the probability that an applicant defaults ({PREDICTS}): target column `{data.target}`, "
            f"positive (default) label `{data.positive}`. Each prediction also gives a decision at the policy "
            f"cutoff {spec.policy.cutoff:g} (decline when the probability is at or above it) and up to four "
            "reason codes.",
            f"Built by creditflow from spec `{spec_path.name}` (experiment `{spec.name}`) and judged under "
            f"{policy_name(spec, spec_path)}. Inputs: {len(spec.features.numeric)} numeric and "
            f"{len(spec.features.categorical)} categorical application columns; PII and sensitive attributes are "
            "never inputs.",
            "Each version carries its gates (validation.*), review (approval.*) and lineage (lineage.*) tags. "
            "Alias `champion` is what scoring and serving use: move it with `creditflow promote` / "
            "`creditflow rollback` only (a champion set by hand in this UI is reported as unverified and "
            "refused by `creditflow score`). MLflow's own *Promote model* button copies a version into another "
            "registered model: it is not creditflow's promotion.",
        ]
    )
