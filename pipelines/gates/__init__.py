"""The gates: every check of a candidate is a `Gate` (gate.py) listed in the registry (registry.py); each gate's
module (performance_gate, stability_gate, fairness_gate) judges with the measuring code beside it (performance,
calibration, intervals, leakage, stability, fairness, proxies) and produces its figures (figures.py). Pure: no
mlflow, click or optuna, no file I/O. The measuring modules import scikit-learn, SciPy and Fairlearn: import them
directly, this package's `__init__` stays light."""

from pipelines.gates.gate import Gate, GateContext, GateResult
from pipelines.gates.registry import find, gate_names, gate_tags, gates

__all__ = ["Gate", "GateContext", "GateResult", "find", "gate_names", "gate_tags", "gates"]
