"""The data-design checks: how the rows were collected and split, read from the data before a model is trusted.

Three ways a sound model looks better than the book it will meet, none of which a model-based check sees:

* duplicated rows: a training row repeated, or a holdout applicant whose exact application is among the training
  rows (a file concatenated with itself scored 0.915 AUC against 0.853 honestly), so the holdout grades memory; and
  near duplicates, equal once numbers are rounded or in all features but one (pipelines/gates/near_duplicates.py);
* row identifiers among the features: a whole-number or text column that is (nearly) unique, or a number that
  rises with row order or with `data.time` (a file number assigned as outcomes came in) ranks its own rows; the
  logistic baseline uses it too, so the uplift check sees nothing. Refused unless `features.reviewed` explains it;
* a random split of dated rows: when the lender judges out of time (`require_out_of_time`), a spec that declares
  `data.time` and splits at random is judged on months it was trained on.

Pure: frames and positions in, findings out.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from features.validation_spec import DataDesignPolicy

ORDER_ROWS = 50_000  # rows (in file order) the rank correlations are measured on: enough to see a sequence
MIN_ROWS = 50  # fewer non-missing values than this say nothing about uniqueness


@dataclass(frozen=True)
class DesignFinding:
    check: str  # duplicates | holdout_in_train | near_duplicates | holdout_near_train | identifier | time_split
    text: str
    column: str | None = None
    reviewed: str | None = None  # the spec's reason when `features.reviewed` acknowledges an identifier


@dataclass
class DesignResult:
    findings: list[DesignFinding] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    metrics: dict[str, float] = field(default_factory=dict)
    columns: pd.DataFrame = field(default_factory=pd.DataFrame)  # per feature: distinct share, order correlations

    def reasons(self) -> list[str]:
        """Unacknowledged findings: each fails `validation.data_design`."""
        return [f"data design: {f.text}" for f in self.findings if f.reviewed is None]

    def acknowledged(self) -> list[str]:
        return [f"data design (reviewed): {f.text}; reviewed: {f.reviewed}" for f in self.findings if f.reviewed]


def design_checks(
    features: pd.DataFrame,
    samples: dict[str, np.ndarray],
    *,
    time: pd.Series | None,
    numeric: list[str],
    random_split: bool,
    policy: DataDesignPolicy,
    reviewed: dict[str, str],
) -> DesignResult:
    """Every data-design check on the checked features (rows in file order) and the split's row positions."""
    result = DesignResult()
    hashes = pd.util.hash_pandas_object(features, index=False).to_numpy()
    _duplicates(hashes, samples, policy, result)
    _near_duplicates(features, samples, policy, result)
    first = _first_copies(hashes)  # a copied row makes no identifier less of one
    if first is not None:
        features, time = features.iloc[first], None if time is None else time.iloc[first]
    result.columns = column_profile(features, numeric, time)
    for row in result.columns.itertuples(index=False):
        why = identifier_reason(row, policy)
        if why:
            text = f"'{row.feature}' looks like a row identifier ({why}); it ranks its own rows, not applicants"
            result.findings.append(DesignFinding("identifier", text, str(row.feature), reviewed.get(str(row.feature))))
    result.metrics["data_design.identifiers"] = float(sum(f.check == "identifier" for f in result.findings))
    if time is not None and random_split:
        text = (
            "data.time is declared but the split is random: holdout rows come from the months the model was "
            "trained on, so the verdicts do not say how it does on later applicants (split.method: out_of_time)"
        )
        if policy.require_out_of_time:
            result.findings.append(DesignFinding("time_split", text + "; the policy judges out of time"))
        else:
            result.notes.append(f"data design: {text}")
    return result


def _duplicates(
    hashes: np.ndarray, samples: dict[str, np.ndarray], policy: DataDesignPolicy, result: DesignResult
) -> None:
    """Exact repeats of a row's features (`hashes`: one per row; the outcome aside: a copy relabelled is still a
    copy)."""
    train = np.sort(hashes[samples["train"]])
    within = float(np.mean(train[1:] == train[:-1])) if len(train) > 1 else 0.0
    holdout = hashes[np.concatenate([rows for name, rows in samples.items() if name != "train"])]
    across = float(np.mean(_member(holdout, train))) if len(holdout) and len(train) else 0.0
    result.metrics["data_design.train_duplicate_share"] = within
    result.metrics["data_design.holdout_in_train_share"] = across
    limit = policy.max_duplicate_share
    if within > limit:
        result.findings.append(
            DesignFinding(
                "duplicates", f"{within:.1%} of training rows repeat another training row (limit {limit:.1%})"
            )
        )
    if across > limit:
        result.findings.append(
            DesignFinding(
                "holdout_in_train",
                f"{across:.1%} of holdout rows also appear among the training rows (limit {limit:.1%}): the holdout "
                "grades memory, not prediction",
            )
        )


def _near_duplicates(
    features: pd.DataFrame, samples: dict[str, np.ndarray], policy: DataDesignPolicy, result: DesignResult
) -> None:
    """Rows equal after rounding numbers, or in every feature but one (pipelines/gates/near_duplicates.py)."""
    from pipelines.gates.near_duplicates import DIGITS, near_duplicate_shares

    holdout = np.concatenate([rows for name, rows in samples.items() if name != "train"])
    within, across = near_duplicate_shares(features, samples["train"], holdout)
    result.metrics["data_design.train_near_duplicate_share"] = within
    result.metrics["data_design.holdout_near_train_share"] = across
    limit, how = (
        policy.max_near_duplicate_share,
        f"numbers rounded to {DIGITS} significant digits, or all but one feature",
    )
    exact = {f.check for f in result.findings}  # an exact copy is near too: said once, by the exact check
    if within > limit and "duplicates" not in exact:
        text = f"{within:.1%} of training rows nearly repeat another training row ({how}; limit {limit:.1%})"
        result.findings.append(DesignFinding("near_duplicates", text))
    if across > limit and "holdout_in_train" not in exact:
        text = (
            f"{across:.1%} of holdout rows nearly repeat a training row ({how}; limit {limit:.1%}): the holdout "
            "grades memory, not prediction"
        )
        result.findings.append(DesignFinding("holdout_near_train", text))


def _member(values: np.ndarray, sorted_pool: np.ndarray) -> np.ndarray:
    """Whether each value is in `sorted_pool` (a binary search: cheaper than a hash set at a million rows)."""
    at = np.minimum(np.searchsorted(sorted_pool, values), len(sorted_pool) - 1)
    found: np.ndarray = sorted_pool[at] == values
    return found


def _first_copies(hashes: np.ndarray) -> np.ndarray | None:
    """Positions (in file order) of each row's first copy; None when no row repeats another."""
    order = np.argsort(hashes, kind="stable")
    ranked = hashes[order]
    repeat = np.concatenate([[False], ranked[1:] == ranked[:-1]])
    if not repeat.any():
        return None
    return np.sort(order[~repeat])


def column_profile(features: pd.DataFrame, numeric: list[str], time: pd.Series | None) -> pd.DataFrame:
    """Per feature: its share of distinct values, whether its values are whole numbers or text, and (numeric) its
    rank correlation with row order (`features` keeps the file's order) and with time, on up to ORDER_ROWS evenly
    spaced rows."""
    step = max(1, len(features) // ORDER_ROWS)
    order = np.arange(0, len(features), step)
    when = None if time is None else _ranks(time.iloc[order].to_numpy(dtype="datetime64[ns]").astype(np.int64))
    rows = []
    for name in features.columns:
        values = features[name]
        whole = name not in numeric or _whole(values.iloc[order]) and _whole(values)
        distinct = _distinct_share(values, order) if whole else 0.0
        by_row = by_time = 0.0
        if name in numeric:
            ranks = _ranks(values.iloc[order].to_numpy(dtype=float))
            by_row = _correlation(ranks, _ranks(order.astype(float)))
            by_time = _correlation(ranks, when) if when is not None else 0.0
        rows.append((name, float(distinct), whole, by_row, by_time))
    columns = ["feature", "distinct_share", "whole_or_text", "row_order_correlation", "time_correlation"]
    return pd.DataFrame(rows, columns=columns)


def _whole(values: pd.Series) -> bool:
    present = values.to_numpy(dtype=float)
    present = present[~np.isnan(present)]
    return bool(np.all(present == np.floor(present)))


def _distinct_share(values: pd.Series, sample: np.ndarray) -> float:
    """Share of distinct values among the present ones. A sample's share is at least the whole column's (fewer rows
    repeat fewer values), so a sample under half the share needs no count over every row."""
    present = values.iloc[sample].dropna()
    if len(present) < MIN_ROWS or present.nunique() / len(present) < 0.5:
        return float(present.nunique() / len(present)) if len(present) else 0.0
    present = values.dropna()
    return float(present.nunique() / len(present))


def identifier_reason(row: object, policy: DataDesignPolicy) -> str:
    """Why a column profile row is a row identifier (empty: it is not)."""
    distinct, whole = float(getattr(row, "distinct_share")), bool(getattr(row, "whole_or_text"))
    by_row, by_time = float(getattr(row, "row_order_correlation")), float(getattr(row, "time_correlation"))
    if whole and distinct >= policy.max_distinct_share:
        return f"{distinct:.1%} of its values are distinct"
    limit = policy.max_order_correlation
    if abs(by_row) >= limit:
        return f"rank correlation {by_row:+.2f} with row order (limit {limit:.2f})"
    if abs(by_time) >= limit:
        return f"rank correlation {by_time:+.2f} with data.time (limit {limit:.2f})"
    return ""


def _ranks(values: np.ndarray) -> np.ndarray:
    """Average ranks, missing values left out (NaN)."""
    ranks: np.ndarray = pd.Series(values).rank(method="average").to_numpy(dtype=float)
    return ranks


def _correlation(a: np.ndarray, b: np.ndarray) -> float:
    keep = ~(np.isnan(a) | np.isnan(b))
    if keep.sum() < MIN_ROWS or np.std(a[keep]) == 0 or np.std(b[keep]) == 0:
        return 0.0
    return float(np.corrcoef(a[keep], b[keep])[0, 1])
