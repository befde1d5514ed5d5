"""What a model version keeps for monitoring: a sample of its training rows and its expected performance.

Stored with the version's run at registration (`monitoring/reference.parquet`, `monitoring/expected.json`),
so `creditflow monitor` needs nothing but the registry. The sample holds the model's input columns,
the target, the time column and the raw columns sensitive attributes come from (to measure outcome
fairness later), never PII and never the id column (an applicant key links back to a person).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from features.spec import Spec

REFERENCE_PATH = "monitoring/reference.parquet"
EXPECTED_PATH = "monitoring/expected.json"
EXPECTED_METRICS = ("auc", "ks", "bad_rate", "mean_pd")


def reference_columns(spec: Spec) -> list[str]:
    """Columns stored in the reference sample, in a stable order, PII and id excluded."""
    data = spec.data
    wanted = [*spec.features.all(), data.target, data.time, *data.sensitive_sources()]
    banned = set(data.pii) | {data.id}
    return [c for c in dict.fromkeys(wanted) if c and c not in banned]


def reference_sample(frame: pd.DataFrame, train_rows: np.ndarray, spec: Spec) -> pd.DataFrame:
    """A seeded sample of at most `monitoring.reference_rows` training rows, raw dtypes kept, rows in data order."""
    settings = spec.monitoring
    rows = np.random.default_rng(settings.seed).permutation(np.asarray(train_rows))[: settings.reference_rows]
    return frame.iloc[np.sort(rows)][reference_columns(spec)].reset_index(drop=True)


def expected_performance(metrics: dict[str, float], holdout: str) -> dict[str, object]:
    """The holdout performance a version was approved on: what outcome monitoring compares against."""
    return {
        "holdout": holdout,
        **{k: metrics[f"{holdout}_{k}"] for k in EXPECTED_METRICS if f"{holdout}_{k}" in metrics},
    }
