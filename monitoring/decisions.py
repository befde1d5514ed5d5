"""The final decisions file of `creditflow monitor --decisions PATH`: what underwriters did with the model's
decisions. Read and checked here, judged in monitoring/overrides.py.

Columns: the spec's id column (or `id`), `final_decision` (approve/decline), `underwriter` (an id; refused when the
policy forbids the column), `reason`, optional `decided_at`, `requested_review`, `contested`. Every problem is one
DataError line before any monitoring run is opened.
"""

from __future__ import annotations

import pandas as pd

from features.data import read_table
from features.errors import DataError
from features.hitl_policy import OverrideLimits
from pipelines.core.free_text import shown

FINAL = ("approve", "decline")
REQUIRED = ("final_decision", "reason")
FLAGS = ("requested_review", "contested")
TRUE = {"true", "1", "yes", "y", "t"}
FALSE = {"false", "0", "no", "n", "f", "", "nan", "none"}


def read_decisions(path: str, *, id_column: str, known: pd.Series, limits: OverrideLimits) -> pd.DataFrame:
    """The decisions, one row per known applicant id, flags as booleans; a DataError naming the first problem."""
    frame = read_table(path)
    if "id" in frame.columns and id_column not in frame.columns:
        frame = frame.rename(columns={"id": id_column})
    if "underwriter" in frame.columns and not limits.underwriter_column:
        raise DataError(f"{path}: the policy forbids an underwriter column in a decisions file: drop it")
    needed = [id_column, *REQUIRED, *(["underwriter"] if limits.underwriter_column else [])]
    missing = [c for c in needed if c not in frame.columns]
    if missing:
        raise DataError(f"{path}: missing column(s) {', '.join(missing)}")
    ids = frame[id_column].astype(str)
    twice = ids[ids.duplicated()]
    if len(twice):
        raise DataError(f"{path}: duplicate {id_column} {shown(twice.iloc[0], limit=60)} ({len(twice)} repeated)")
    unknown = ids[~ids.isin(known.astype(str))]
    if len(unknown):
        raise DataError(
            f"{path}: {len(unknown)} {id_column}(s) not in the monitored data, first {shown(unknown.iloc[0], limit=60)}"
        )
    final = frame["final_decision"].astype(str).str.strip().str.lower()
    odd = sorted(set(final) - set(FINAL))
    if odd:
        raise DataError(f"{path}: unknown final_decision(s) {', '.join(shown(o, limit=30) for o in odd[:3])}")
    out = frame.assign(**{id_column: ids, "final_decision": final})
    for flag in FLAGS:
        out[flag] = _flag(out[flag], flag, path) if flag in out.columns else False
    return out.set_index(id_column)


def _flag(values: pd.Series, name: str, path: str) -> pd.Series:
    if values.dtype == bool:  # read as booleans already: nothing to parse
        return values
    text = values.astype(str).str.strip().str.lower()
    odd = sorted(set(text) - TRUE - FALSE)
    if odd:
        raise DataError(f"{path}: {name}: expected true/false, got {shown(odd[0], limit=30)}")
    return text.isin(TRUE)
