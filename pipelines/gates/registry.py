"""The registered gates, in the order a reviewer reads them. Adding a gate is one module (a class with `name`,
`policy_section`, `title` and `evaluate`, see pipelines/gates/gate.py) plus one line here.

Read through these functions, never copied at import, so everything that lists gates (the run, the review page,
the model card, `status`, the exception rules, the team server's rules) sees the same list. The gate modules
import their measuring code when they evaluate, so reading the registry costs no start-up time.
"""

from __future__ import annotations

from pipelines.core.tags import VALIDATION_PREFIX
from pipelines.gates.data_design_gate import DataDesignGate
from pipelines.gates.fairness_gate import FairnessGate
from pipelines.gates.gate import Gate
from pipelines.gates.performance_gate import PerformanceGate
from pipelines.gates.stability_gate import StabilityGate

__all__ = ["REGISTERED", "find", "gate_names", "gate_tags", "gates"]

REGISTERED: list[Gate] = [
    DataDesignGate(),
    PerformanceGate(),
    StabilityGate(),
    FairnessGate(),
]


def gates() -> tuple[Gate, ...]:
    return tuple(REGISTERED)


def gate_names() -> tuple[str, ...]:
    """Short names (`fairness`), as `--exception` takes them."""
    return tuple(gate.name for gate in REGISTERED)


def gate_tags() -> tuple[str, ...]:
    """`validation.<name>` of every registered gate: the tags a registered version must carry."""
    return tuple(f"{VALIDATION_PREFIX}{name}" for name in gate_names())


def find(name: str) -> Gate | None:
    return next((gate for gate in REGISTERED if gate.name == name), None)
