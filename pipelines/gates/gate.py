"""What a gate is: one check of a candidate model, judged under one section of the governed policy.

Every check creditflow writes as a `validation.<name>` tag is a `Gate` (Evidently's metric/test objects and
scikit-learn's scorer registry are the models): it reads the `GateContext` (the data, the split and what was
measured of the candidate) and returns a `GateResult` (its status, the findings a reviewer must read, its metrics,
tables and figures, each keyed by the run artifact that will hold it). The registry (pipelines/gates/registry.py)
lists the gates; `run`, the review page, the model card, `status`, the exception rules and the CLI all read it, so
adding a gate is one module plus one registry line.

This module stays light (no NumPy maths, no scikit-learn): the CLI reads the registry at start-up.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from pipelines.core.tags import FAILED, NOT_ASSESSED, PASSED, VALIDATION_PREFIX, WARN

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

    from features.contract import CheckedData
    from features.spec import Spec
    from features.split import Split
    from pipelines.gates.leakage import LeakageResult

__all__ = ["STATUSES", "Gate", "GateContext", "GateResult", "status_of"]

STATUSES = (PASSED, FAILED, NOT_ASSESSED, WARN)


@dataclass
class GateResult:
    """One gate's verdict on one candidate.

    `findings` say why the status is not `passed` (a reviewer reads them beside the verdict); `notes` are what the
    verdict did not judge or what a reviewer should know although it passed. `tables` and `figures` are keyed by
    the run artifact path that holds them (`stability/stability_test.csv`, `plots/roc.png`). `detail` is the
    gate's own result object, for the reports that know that gate."""

    name: str
    status: str
    findings: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    metrics: dict[str, float] = field(default_factory=dict)
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    figures: dict[str, Any] = field(default_factory=dict)
    detail: Any = None

    def __post_init__(self) -> None:
        if self.status not in STATUSES:
            raise ValueError(f"gate {self.name}: status {self.status!r} is not one of {', '.join(STATUSES)}")

    @property
    def passed(self) -> bool:
        return self.status == PASSED

    @property
    def tag(self) -> str:
        return f"{VALIDATION_PREFIX}{self.name}"


def status_of(passed: bool) -> str:
    return PASSED if passed else FAILED


class GateContext:
    """What every gate may read: the spec (with its governed policy), the checked data, the split, the candidate's
    PD on each sample and what was measured of it. Measurements that cost a fit or a pass over the data (the logistic
    baseline, global importance, the training sample's scores) are made on first use and kept, so a gate that does
    not need them does not pay for them and two gates that do pay once."""

    def __init__(
        self,
        *,
        spec: Spec,
        checked: CheckedData,
        split: Split,
        scores: dict[str, np.ndarray],
        screen: LeakageResult,
        train_scores: Callable[[], np.ndarray],
        baseline: Callable[[], dict[str, np.ndarray]],
        importance: Callable[[], pd.DataFrame],
    ):
        self.spec, self.checked, self.split, self.scores, self.screen = spec, checked, split, scores, screen
        self._train_scores, self._baseline, self._importance = train_scores, baseline, importance

    @property
    def main(self) -> str:
        """The holdout reports lead with: out-of-time when there is one, else test."""
        return self.split.main

    def rows(self, sample: str) -> np.ndarray:
        return self.split.samples()[sample]

    def labels(self, sample: str) -> np.ndarray:
        labels: np.ndarray = self.checked.target[self.rows(sample)]
        return labels

    def features(self, sample: str) -> pd.DataFrame:
        return self.checked.features.iloc[self.rows(sample)]

    @functools.cached_property
    def train_scores(self) -> np.ndarray:
        return self._train_scores()

    @functools.cached_property
    def baseline(self) -> dict[str, np.ndarray]:
        """The untuned logistic benchmark's PD per holdout sample."""
        return self._baseline()

    @functools.cached_property
    def importance(self) -> pd.DataFrame:
        """Global importance: mean |exact contribution| per feature on a holdout sample, largest first."""
        return self._importance()


class Gate(Protocol):
    """One check: `name` is its tag's suffix (`validation.<name>`), `policy_section` the section of the governed
    policy it judges under (`spec.policy.<section>`), `title` what a reviewer reads."""

    name: str
    policy_section: str
    title: str

    def evaluate(self, context: GateContext) -> GateResult: ...
