"""The Evidently drift report, with the credit decile PSI registered as an Evidently stat test.

`credit_psi` is registered through `evidently.legacy.calculations.stattests.registry.register_stattest`;
the new-API `ValueDrift(column, method="credit_psi", threshold=...)` resolves a method name through
that registry (`DataDriftOptions.all_features_stattest` -> `get_stattest`), so the same PSI as the
stability gate draws in Evidently's widgets. Evidently drops missing values before a stat test, so a
column's PSI in the report leaves out the missing bin that creditflow's own verdict counts.

The report draws seeded samples of at most `monitoring.report_rows` per side: its histograms
look the same, and rendering all rows of a large book costs minutes. Verdicts come from
`monitoring/drift.py` on all rows and are what is logged and alerted on.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from features.monitoring_spec import CREDIT_PSI, MonitoringSpec
from monitoring.drift import SCORE, Columns
from pipelines.gates.stability import fit_bins, psi

if TYPE_CHECKING:  # Evidently loads with the first report, not at import
    from evidently.core.report import Snapshot

_registered = False


def credit_psi_test(
    reference: pd.Series, current: pd.Series, feature_type: object, threshold: float
) -> tuple[float, bool]:
    """Evidently stat test signature: (reference, current, column type, threshold) -> (PSI, drifted)."""
    from evidently.legacy.core import ColumnType

    kind = "numeric" if feature_type == ColumnType.Numerical else "categorical"
    value = psi(fit_bins(reference, kind), current)
    return value, value >= threshold


def register_credit_psi() -> None:
    """Make `credit_psi` a method name Evidently knows (idempotent; done on first use, not at import)."""
    global _registered
    if _registered:
        return
    from evidently.legacy.calculations.stattests.registry import StatTest, register_stattest
    from evidently.legacy.core import ColumnType

    register_stattest(
        StatTest(
            name=CREDIT_PSI,
            display_name="PSI (credit, reference deciles)",
            allowed_feature_types=[ColumnType.Numerical, ColumnType.Categorical],
            default_threshold=0.25,
        ),
        default_impl=credit_psi_test,
    )
    _registered = True


def drift_report(
    reference: pd.DataFrame,
    current: pd.DataFrame,
    reference_scores: np.ndarray,
    scores: np.ndarray,
    columns: Columns,
    settings: MonitoringSpec,
) -> Snapshot:
    """An Evidently snapshot: one ValueDrift per input column (spec method and level) and one for the score."""
    from evidently import DataDefinition, Dataset, Report
    from evidently.metrics import ValueDrift

    register_credit_psi()
    columns = _with_values(columns, (current, reference))
    metrics = []
    for column, kind in columns.kinds().items():
        method = settings.drift.method_for(column, kind)
        threshold = settings.psi.alert if method == CREDIT_PSI else settings.drift.thresholds.get(method)
        metrics.append(ValueDrift(column=column, method=method, threshold=threshold))
    metrics.append(ValueDrift(column=SCORE, method=CREDIT_PSI, threshold=settings.score.alert))
    definition = DataDefinition(numerical_columns=[*columns.numeric, SCORE], categorical_columns=columns.categorical)
    samples = [
        Dataset.from_pandas(_sample(frame, values, columns, settings), data_definition=definition)
        for frame, values in ((current, scores), (reference, reference_scores))
    ]
    return Report(metrics).run(*samples)  # Evidently 0.7: current first


def _with_values(columns: Columns, frames: tuple[pd.DataFrame, ...]) -> Columns:
    """The columns with a value on both sides: Evidently raises on a column missing in every row. Such a
    column is judged by creditflow's own drift and quality tables, and left out of the report."""

    def present(name: str) -> bool:
        return all(frame[name].notna().any() for frame in frames)

    return Columns([c for c in columns.numeric if present(c)], [c for c in columns.categorical if present(c)])


def _sample(frame: pd.DataFrame, scores: np.ndarray, columns: Columns, settings: MonitoringSpec) -> pd.DataFrame:
    """The input columns and the score of at most `report_rows` seeded rows (never a copy of a whole large frame)."""
    rows = np.arange(len(frame))
    if len(frame) > settings.report_rows:
        rows = np.sort(np.random.default_rng(settings.seed).choice(len(frame), settings.report_rows, replace=False))
    sample = frame.iloc[rows][[*columns.numeric, *columns.categorical]].reset_index(drop=True)
    sample[SCORE] = np.asarray(scores)[rows]
    return sample
