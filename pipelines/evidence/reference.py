"""What a model version keeps for monitoring: a sample of its training rows and its expected performance.

Stored with the version's run at registration (`monitoring/reference.parquet`, `monitoring/expected.json`),
so `creditflow monitor` needs nothing but the registry. The sample holds the model's input columns,
the target, the time column and the raw columns sensitive attributes come from (to measure outcome
fairness later), never PII and never the id column (an applicant key links back to a person).

The expected performance is measured on the holdout the version was judged on, never on training rows
(in-sample bad rates flatter the model: zero in most score bands of a small book): its headline metrics,
and per score band (the reference sample's score deciles, as in the score PSI) the holdout's applicants,
defaults and mean PD, from which monitoring derives the expected bad rate and its interval.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from features.spec import Spec
from pipelines.gates.stability import fit_bins

REFERENCE_PATH = "monitoring/reference.parquet"
EXPECTED_PATH = "monitoring/expected.json"
EXPECTED_METRICS = ("auc", "ks", "bad_rate", "mean_pd")


def reference_columns(spec: Spec) -> list[str]:
    """Columns stored in the reference sample, in a stable order, PII and id excluded."""
    data = spec.data
    wanted = [*spec.features.all(), data.target, data.time, *data.sensitive_sources()]
    banned = set(data.pii) | {data.id}
    return [c for c in dict.fromkeys(wanted) if c and c not in banned]


def reference_rows(train_rows: np.ndarray, spec: Spec) -> np.ndarray:
    """The seeded sample of at most `monitoring.reference_rows` training rows, in data order."""
    settings = spec.monitoring
    return np.sort(np.random.default_rng(settings.seed).permutation(np.asarray(train_rows))[: settings.reference_rows])


def reference_sample(frame: pd.DataFrame, train_rows: np.ndarray, spec: Spec) -> pd.DataFrame:
    """The reference sample's rows of `frame` (see `reference_rows`), reference columns only, raw dtypes kept."""
    return frame.iloc[reference_rows(train_rows, spec)][reference_columns(spec)].reset_index(drop=True)


def expected_performance(
    metrics: dict[str, float], holdout: str, *, bands: dict[str, list[float]] | None = None
) -> dict[str, object]:
    """The holdout performance a version was approved on: what outcome monitoring compares against."""
    return {
        "holdout": holdout,
        **{k: metrics[f"{holdout}_{k}"] for k in EXPECTED_METRICS if f"{holdout}_{k}" in metrics},
        **({"bands": bands} if bands is not None else {}),
    }


def band_codes(edges: list[float], scores: np.ndarray) -> np.ndarray:
    """Each score's band: 0 for (-inf, e0], k for (e_k-1, e_k], len(edges) for (e_last, inf) (right-closed,
    as the PSI bins)."""
    return np.searchsorted(np.asarray(edges, dtype=np.float64), np.asarray(scores, dtype=np.float64), side="left")


def band_labels(edges: list[float]) -> list[str]:
    bounds = ["0", *(f"{e:.4f}" for e in edges), "1"]
    return [f"({low}, {high}]" for low, high in zip(bounds, bounds[1:])]


def band_counts(edges: list[float], scores: np.ndarray, y: np.ndarray) -> dict[str, list[float]]:
    """Per band: applicants (`n`), defaults (`bads`) and mean predicted PD (`mean_pd`, NaN-free: 0 when empty)."""
    codes, size = band_codes(edges, scores), len(edges) + 1
    n = np.bincount(codes, minlength=size)
    bads = np.bincount(codes, weights=np.asarray(y, dtype=np.float64), minlength=size)
    pd_sum = np.bincount(codes, weights=np.asarray(scores, dtype=np.float64), minlength=size)
    mean_pd = np.divide(pd_sum, n, out=np.zeros(size), where=n > 0)
    return {"n": n.tolist(), "bads": bads.tolist(), "mean_pd": mean_pd.tolist()}


def expected_bands(
    reference_scores: np.ndarray, holdout_scores: np.ndarray, holdout_y: np.ndarray, *, bins: int
) -> dict[str, list[float]]:
    """The holdout's counts per band of the reference sample's score deciles, with the band edges."""
    edges = fit_bins(pd.Series(reference_scores, name="score"), "numeric", n_bins=bins).edges or []
    return {"edges": list(edges), **band_counts(edges, holdout_scores, holdout_y)}
