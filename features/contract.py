"""The data contract: what the data must satisfy before any model is trained on it.

`check_contract` returns typed, aligned pieces (features, target, sensitive attributes, time, ids)
or raises one DataError that names every problem found, so a user fixes them in one pass.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score

from features.errors import DataError
from features.spec import SensitiveAttribute, Spec
from features.transform import as_text, coerce_numeric

LEAK_AUC = 0.99  # a single feature this predictive of default is almost always leakage
LEAK_SAMPLE_ROWS = 50_000


@dataclass(frozen=True)
class CheckedData:
    features: pd.DataFrame  # numeric columns float64, categorical columns str with NaN
    target: np.ndarray  # 1 = the spec's positive (default) label
    sensitive: pd.DataFrame  # one str column per sensitive attribute
    time: pd.Series | None
    ids: pd.Series | None


def check_contract(frame: pd.DataFrame, spec: Spec) -> CheckedData:
    """Validate and coerce `frame` against the spec; never mutates the caller's frame."""
    if frame.empty:
        raise DataError("data has no rows")
    _require_columns(frame, spec)
    frame = frame.reset_index(drop=True)
    problems: list[str] = []
    features = _coerce_features(frame, spec, problems)
    target = _binary_target(frame[spec.data.target], spec, problems)
    time = _coerce_time(frame, spec.data.time, problems)
    ids = _unique_ids(frame, spec.data.id, problems)
    if problems:
        raise DataError("; ".join(problems))
    leaks = leakage_suspects(features, target)
    if leaks:
        raise DataError(
            "likely leakage: " + ", ".join(f"'{c}' alone predicts the target (AUC {a:.3f})" for c, a in leaks)
        )
    sensitive = pd.DataFrame({s.name: derive_attribute(frame[s.source], s) for s in spec.data.sensitive})
    return CheckedData(features, target, sensitive, time, ids)


def _require_columns(frame: pd.DataFrame, spec: Spec) -> None:
    declared = [
        spec.data.target,
        spec.data.id,
        spec.data.time,
        *spec.features.all(),
        *spec.data.pii,
        *spec.data.sensitive_sources(),
    ]
    missing = [c for c in dict.fromkeys(declared) if c and c not in frame.columns]
    if missing:
        raise DataError(f"missing declared column(s): {', '.join(missing)}")


def _coerce_features(frame: pd.DataFrame, spec: Spec, problems: list[str]) -> pd.DataFrame:
    out = {}
    for name in spec.features.numeric:
        raw = frame[name]
        values, bad = coerce_numeric(raw)
        if bad.any():
            example = raw[bad].iloc[0]
            problems.append(
                f"column '{name}' is declared numeric but has {int(bad.sum())} non-numeric "
                f"value(s), e.g. '{example}' in row {int(bad.idxmax()) + 1}"
            )
        out[name] = values
    for name in spec.features.categorical:
        out[name] = as_text(frame[name])
    return pd.DataFrame(out, index=frame.index)


def _binary_target(raw: pd.Series, spec: Spec, problems: list[str]) -> np.ndarray:
    name, positive = spec.data.target, spec.data.positive
    if raw.isna().any():
        problems.append(f"target '{name}' has {int(raw.isna().sum())} missing value(s)")
    labels = raw.dropna()
    is_positive = positive_mask(labels, positive)
    if not is_positive.any():
        seen = ", ".join(map(str, labels.unique()[:5]))
        problems.append(f"positive label '{positive}' not found in target '{name}' (values: {seen})")
    elif labels.nunique() < 2:
        problems.append(f"target '{name}' has a single class ('{labels.iloc[0]}')")
    elif labels.nunique() > 2:
        problems.append(f"target '{name}' has {labels.nunique()} distinct values; a binary target is required")
    return positive_mask(raw, positive).to_numpy(dtype=np.int64)


def positive_mask(values: pd.Series, positive: int | str) -> pd.Series:
    """Where `values` is the spec's positive label: the one label matcher of training and monitoring.

    YAML `positive: 1` (or "1") matches a CSV column of 1/0, of 1.0/0.0, and one of "1"/"0"."""
    if pd.api.types.is_numeric_dtype(values):
        try:
            return values == float(positive)
        except ValueError:
            return pd.Series(False, index=values.index)
    return values.astype(str) == str(positive)


def parse_dates(values: pd.Series) -> pd.Series:
    """The dates of a time column, NaT where a value is missing or unparseable: the one parser of training and
    monitoring (callers report unparseable values, by count and example)."""
    with warnings.catch_warnings():
        # For text pandas cannot guess one format for ("2024/01", "Jan 2024") it parses each value on its own
        # with dateutil and says so in a UserWarning: that is what month columns need, not news for the user.
        warnings.filterwarnings("ignore", message="Could not infer format", category=UserWarning)
        return pd.to_datetime(values, errors="coerce")


def _coerce_time(frame: pd.DataFrame, name: str | None, problems: list[str]) -> pd.Series | None:
    if name is None:
        return None
    values = parse_dates(frame[name])
    bad = values.isna()
    if bad.any():
        problems.append(
            f"time column '{name}' has {int(bad.sum())} missing or unparseable date(s), "
            f"e.g. '{frame[name][bad].iloc[0]}' in row {int(bad.idxmax()) + 1}"
        )
    return values


def _unique_ids(frame: pd.DataFrame, name: str | None, problems: list[str]) -> pd.Series | None:
    if name is None:
        return None
    ids = frame[name]
    duplicated = ids.duplicated(keep=False)
    if duplicated.any():
        problems.append(
            f"id column '{name}' has {int(ids[duplicated].nunique())} duplicated id(s), "
            f"e.g. '{ids[duplicated].iloc[0]}'"
        )
    if ids.isna().any():
        problems.append(f"id column '{name}' has {int(ids.isna().sum())} missing id(s)")
    return ids


def leakage_suspects(features: pd.DataFrame, target: np.ndarray, seed: int = 0) -> list[tuple[str, float]]:
    """Features whose values alone separate the classes almost perfectly (on a sample)."""
    if len(target) > LEAK_SAMPLE_ROWS:
        rows = np.random.default_rng(seed).choice(len(target), LEAK_SAMPLE_ROWS, replace=False)
        features, target = features.iloc[rows], target[rows]
    if len(np.unique(target)) < 2:
        return []
    suspects = []
    for name in features.columns:
        column = features[name]
        if pd.api.types.is_numeric_dtype(column):
            score = column.fillna(column.median() if column.notna().any() else 0.0)
        else:  # the bad rate of each category, as a single-feature score
            keys = column.fillna("<missing>")
            score = pd.Series(target, index=column.index).groupby(keys).transform("mean")
        auc = roc_auc_score(target, score.to_numpy(dtype=float))
        auc = max(auc, 1.0 - auc)
        if auc >= LEAK_AUC:
            suspects.append((name, auc))
    return suspects


def derive_attribute(raw: pd.Series, attribute: SensitiveAttribute) -> pd.Series:
    """A sensitive attribute as strings: the raw column, a mapped column, or numeric bands."""
    if attribute.map is not None:
        mapped = raw.astype(str).map(attribute.map)
        return mapped.where(raw.notna() & mapped.notna(), "unknown")
    if attribute.bins is not None:
        edges = attribute.bins
        labels = [f"{_num(lo)}-{_num(hi)}" for lo, hi in zip(edges[:-1], edges[1:])]
        bands = pd.cut(pd.to_numeric(raw, errors="coerce"), edges, labels=labels, right=False)
        return bands.astype(object).where(bands.notna(), "unknown").astype(str)
    return raw.astype(object).where(raw.notna(), "unknown").astype(str)


def _num(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)
