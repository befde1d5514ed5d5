"""`monitor --decisions`, wired: read the final decisions once before any run is opened, then judge each window's
applicants against the model's own decisions (monitoring/overrides.py) and fold the verdict into the window's."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from features.contract import derive_attribute
from features.data import read_table
from features.errors import DataError
from features.hitl_policy import OverrideLimits
from features.spec import Spec
from features.target import outcome_codes
from monitoring.assess import LEVELS, Assessment
from monitoring.decisions import read_decisions
from monitoring.overrides import assess_overrides
from pipelines.scoring.scorer import Scorer


@dataclass(frozen=True)
class FinalDecisions:
    frame: pd.DataFrame  # indexed by applicant id
    limits: OverrideLimits
    id_column: str


def load_decisions(path: str, current: str, spec: Spec) -> FinalDecisions:
    """The decisions file checked against the ids of the monitored data; a DataError naming the first problem."""
    id_column = spec.data.id
    if not id_column:
        raise DataError("--decisions needs the applicant id column (data.id) in the model's spec")
    known = read_table(current, columns=[id_column])
    if id_column not in known.columns:
        raise DataError(f"--decisions: the monitored data has no id column '{id_column}'")
    limits = spec.governing.policy.overrides if spec.governing else OverrideLimits()
    frame = read_decisions(path, id_column=id_column, known=known[id_column], limits=limits)
    return FinalDecisions(frame, limits, id_column)


def judge_overrides(
    result: Assessment, found: FinalDecisions, spec: Spec, scorer: Scorer, frame: pd.DataFrame, scores: np.ndarray
) -> None:
    """Fold the window's override verdict into `result` (worst status wins; metrics and lines added)."""
    codes = scorer.codes(scorer.transform.transform(frame), scores)
    groups = pd.DataFrame(
        {s.name: derive_attribute(frame[s.source], s) for s in spec.data.sensitive if s.source in frame.columns},
        index=frame.index,
    )
    outcome = None
    if spec.data.target in frame.columns:
        y = outcome_codes(frame[spec.data.target], spec.data.positive, spec.data.negative).astype(np.float64)
        y[(y < 0) | frame[spec.data.target].isna().to_numpy()] = np.nan  # not yet known, or neither label
        outcome = pd.Series(y, index=frame.index)
    verdict = assess_overrides(codes, scores, frame[found.id_column], groups, found.frame, found.limits, outcome)
    findings = [line for line in verdict.lines if not line.startswith("note: ")]
    result.reasons.extend(findings)
    result.notes.extend(line.removeprefix("note: ") for line in verdict.lines if line.startswith("note: "))
    result.metrics.update(verdict.metrics)
    if LEVELS[verdict.status] > LEVELS[result.status]:
        result.status = verdict.status
    result.reasons.sort(key=lambda line: not line.startswith("alert"))
    result.metrics["status_level"] = float(LEVELS[result.status])
