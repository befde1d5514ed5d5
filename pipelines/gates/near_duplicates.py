"""Near-duplicate rows: applications equal once numbers are rounded to `DIGITS` significant digits, or equal in every
feature but one. A file concatenated with itself after a currency conversion or a re-keyed field escapes the exact
check (pipelines/gates/data_design.py) but grades the holdout on memory all the same.

Each column is hashed once (numbers rounded first); a row's key is a weighted sum of its column hashes (mod 2**64),
so the key without column c is the sum less that column's term: `1 + columns` keys per row for the cost of one
hashing pass and `1 + columns` sorts. Every training row is read (a sample would see a pair only when it drew
both); at most `MAX_ROWS` holdout rows are, each looked up among all training rows (an unbiased estimate).
Pure: frames and positions in, shares out.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

DIGITS = 2  # significant digits numbers are rounded to: 1,249 and 1,200 are near, 1,249 and 1,300 are not
MAX_ROWS = 100_000
MIN_COLUMNS = 3  # with fewer features "all but one" is hardly a row


def rounded(values: pd.Series, digits: int = DIGITS) -> np.ndarray:
    """Numbers rounded to `digits` significant digits (missing stays missing); anything else as codes (equal values,
    equal codes, within one frame)."""
    if isinstance(values.dtype, pd.CategoricalDtype):
        codes: np.ndarray = values.cat.codes.to_numpy()  # one frame's codes: equal values, equal codes
        return codes
    if not pd.api.types.is_numeric_dtype(values) or pd.api.types.is_bool_dtype(values):
        factorized: np.ndarray = pd.factorize(values, use_na_sentinel=True)[0]
        return factorized
    v = values.to_numpy(dtype=float)
    safe = np.where(np.isfinite(v) & (v != 0), np.abs(v), 1.0)
    scale = 10.0 ** (digits - 1 - np.floor(np.log10(safe)))
    out: np.ndarray = np.round(v * scale) / scale
    return out


def near_keys(features: pd.DataFrame, *, seed: int = 0) -> np.ndarray:
    """(1 + columns, rows) uint64 keys: the rounded row, then the rounded row without each column in turn (only
    the first with fewer than MIN_COLUMNS columns)."""
    hashes = np.vstack([pd.util.hash_array(rounded(features[c])) for c in features.columns])
    weights = np.random.default_rng(seed).integers(1, 2**63, len(features.columns), dtype=np.uint64) | np.uint64(1)
    terms = hashes * weights[:, None]
    total = terms.sum(axis=0, dtype=np.uint64)
    keys: np.ndarray = total[None, :] if len(features.columns) < MIN_COLUMNS else np.vstack([total, total - terms])
    return keys


def near_duplicate_shares(
    features: pd.DataFrame, train: np.ndarray, holdout: np.ndarray, *, seed: int = 0
) -> tuple[float, float]:
    """(share of training rows near another training row, share of holdout rows near a training row)."""
    rng = np.random.default_rng(seed)  # every training row (a pair is seen only whole); holdout rows sampled
    if len(holdout) > MAX_ROWS:
        holdout = np.sort(rng.choice(holdout, MAX_ROWS, replace=False))
    if len(train) < 2:
        return 0.0, 0.0
    keys = near_keys(features.iloc[np.r_[train, holdout]], seed=seed)
    inside, outside = keys[:, : len(train)], keys[:, len(train) :]
    within = np.zeros(len(train), dtype=bool)
    across = np.zeros(len(holdout), dtype=bool)
    for row_keys, out_keys in zip(inside, outside):
        order = np.argsort(row_keys)
        ordered = row_keys[order]
        same = np.r_[False, ordered[1:] == ordered[:-1]]
        within[order] |= same | np.r_[same[1:], False]  # both members of a pair
        if len(out_keys):
            at = np.minimum(np.searchsorted(ordered, out_keys), len(ordered) - 1)
            across |= ordered[at] == out_keys
    return float(within.mean()), float(across.mean()) if len(holdout) else 0.0
