"""The data contract: what the data must satisfy before any model is trained on it.

`check_contract` returns typed, aligned pieces (features, target, sensitive attributes, time, ids)
or raises one DataError that names every problem found, so a user fixes them in one pass. Whether the
data leaks the outcome is a verdict, not a contract: see pipelines/gates/leakage.py.
"""

from __future__ import annotations

import warnings
from collections.abc import Collection
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from features.errors import DataError
from features.spec import SensitiveAttribute, Spec
from features.target import DROPPED, describe_dropped, outcome_codes, target_problems
from features.transform import LARGEST_NUMBER, as_text, coerce_numeric

TOO_LARGE = f"infinite or too large value(s) (XGBoost takes at most ±{LARGEST_NUMBER:.1e})"


@dataclass(frozen=True)
class CheckedData:
    features: pd.DataFrame  # numeric columns float64, categorical columns str with NaN
    target: np.ndarray  # 1 = the spec's positive (default) label
    sensitive: pd.DataFrame  # one str column per sensitive attribute
    time: pd.Series | None
    ids: pd.Series | None
    warnings: list[str] = field(default_factory=list)  # the data is usable, but the user should know


def check_contract(frame: pd.DataFrame, spec: Spec, unread: Collection[str] = ()) -> CheckedData:
    """Validate and coerce `frame` against the spec; never mutates the caller's frame. `unread` names the PII
    columns the source holds but were deliberately not read (features/data.py `load_data`)."""
    if frame.empty:
        raise DataError("data has no rows")
    _require_columns(frame, spec, unread)
    # positions as the index, without reset_index's copy of every column (a second or more at a million rows);
    # nothing here writes to the frame, so sharing the caller's columns leaves the caller's frame as it was
    frame = frame.set_axis(pd.RangeIndex(len(frame)), axis=0, copy=False)
    problems: list[str] = []
    features = _coerce_features(frame, spec, problems)
    target = _binary_target(frame[spec.data.target], spec, problems)
    time = _coerce_time(frame, spec.data.time, problems)
    ids = _unique_ids(frame, spec.data.id, problems)
    if problems:
        raise DataError("; ".join(problems))
    sensitive = pd.DataFrame({s.name: derive_attribute(frame[s.source], s) for s in spec.data.sensitive})
    return CheckedData(features, target, sensitive, time, ids, _empty_features(features))


def _require_columns(frame: pd.DataFrame, spec: Spec, unread: Collection[str]) -> None:
    declared = [
        spec.data.target,
        spec.data.id,
        spec.data.time,
        *spec.features.all(),
        *spec.data.pii,
        *spec.data.sensitive_sources(),
    ]
    missing = [c for c in dict.fromkeys(declared) if c and c not in frame.columns and c not in unread]
    if missing:
        raise DataError(f"missing declared column(s): {', '.join(missing)}")


def _coerce_features(frame: pd.DataFrame, spec: Spec, problems: list[str]) -> pd.DataFrame:
    out = {}
    for name in spec.features.numeric:
        raw = frame[name]
        numbers = coerce_numeric(raw)
        _count_bad(problems, name, raw, numbers.not_numbers, "is declared numeric but has {n} non-numeric value(s)")
        _count_bad(problems, name, raw, numbers.out_of_range, "has {n} " + TOO_LARGE)
        out[name] = numbers.values
    for name in spec.features.categorical:
        out[name] = as_text(frame[name])
    return pd.DataFrame(out, index=frame.index)


def _count_bad(problems: list[str], name: str, raw: pd.Series, bad: pd.Series, what: str) -> None:
    if bad.any():
        where = f"e.g. '{raw[bad].iloc[0]}' in row {int(bad.idxmax()) + 1}"
        problems.append(f"column '{name}' {what.format(n=int(bad.sum()))}, {where}")


def _empty_features(features: pd.DataFrame) -> list[str]:
    """A warning per feature missing in every row: the model can be trained, but learns nothing from it."""
    empty = features.columns[features.isna().all().to_numpy()]
    return [f"feature '{name}' is missing in every row: it carries no information" for name in empty]


def _binary_target(raw: pd.Series, spec: Spec, problems: list[str]) -> np.ndarray:
    data = spec.data
    problems.extend(target_problems(raw, data.target, data.positive, data.negative))
    return outcome_codes(raw, data.positive, data.negative)


def drop_unlabelled(frame: pd.DataFrame, spec: Spec) -> tuple[pd.DataFrame, dict[str, int]]:
    """The rows whose outcome is a default or a good payer, and the count of the others per value.

    Only a spec with `target.negative` drops rows (an outcome still open, a loan sold); the frame comes back
    unchanged, the same object, otherwise."""
    data = spec.data
    if data.negative is None or data.target not in frame.columns:
        return frame, {}
    codes = outcome_codes(frame[data.target], data.positive, data.negative)
    if (codes != DROPPED).all():
        return frame, {}
    if (codes == DROPPED).all():
        raise DataError(
            f"no row of target '{data.target}' holds a value of target.positive or target.negative "
            f"(values: {', '.join(map(str, frame[data.target].unique()[:6]))})"
        )
    return frame[codes != DROPPED].reset_index(drop=True), describe_dropped(frame[data.target], codes)


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
