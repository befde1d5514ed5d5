"""Proxy screen: how well each model feature alone predicts a sensitive attribute (a feature that does may
carry the attribute into the model even though the attribute itself is never a feature)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from pipelines.gates.fairness_groups import _auc_by_code, _factorize, _frame


def proxy_candidates(
    features: pd.DataFrame,
    *,
    sensitive: pd.DataFrame,
    numeric: list[str],
    categorical: list[str],
    threshold: float = 0.65,
    max_rows: int = 50_000,
    seed: int = 0,
) -> pd.DataFrame:
    """How well each feature alone predicts each sensitive attribute: feature, attribute, auc, proxy; auc desc.

    auc: per attribute level, max(a, 1 - a) of the one-vs-rest AUC, averaged over levels (for a binary
    attribute: its AUC). Folding per level lets a numeric feature that is low for one level and high for
    another count. Numeric features score by value (missing lowest). Categorical ones score by the
    level's share in their category learnt on the OTHER half of a seeded two-fold split (one pseudo-count
    at the overall share), so an ID-like category cannot look predictive by memorising.
    """
    if len(features) != len(sensitive):
        raise ValueError(f"features has {len(features)} rows, sensitive has {len(sensitive)}")
    rng = np.random.default_rng(seed)
    rows = np.sort(rng.choice(len(features), max_rows, replace=False)) if len(features) > max_rows else slice(None)
    feats, sens = features.iloc[rows], _frame(sensitive).iloc[rows]
    fold, records = rng.permutation(len(feats)) % 2, []
    for attribute in sens.columns:
        codes, _ = _factorize(sens[attribute])
        targets = [(codes == k).astype(np.int64) for k in np.unique(codes)]  # one vs rest, per level
        for feature in [*numeric, *categorical]:
            aucs = [_auc(t, _scores(feats[feature], feature in numeric, t, fold)) for t in targets]
            auc = float(np.mean([max(a, 1 - a) for a in aucs])) if len(targets) > 1 else math.nan  # one level: NaN
            records.append({"feature": feature, "attribute": attribute, "auc": auc})
    table = pd.DataFrame(records, columns=["feature", "attribute", "auc"])
    table["proxy"] = table["auc"] >= threshold
    return table.sort_values("auc", ascending=False, kind="stable").reset_index(drop=True)


def _scores(values: pd.Series, numeric: bool, target: np.ndarray, fold: np.ndarray) -> np.ndarray:
    """Numeric: the value (missing lowest). Categorical: the target's share in the category, out of fold."""
    if numeric:
        try:
            x = values.to_numpy(dtype=np.float64, na_value=np.nan)
        except (TypeError, ValueError):
            raise ValueError(f"feature '{values.name}' must be numeric") from None
        return np.where(np.isnan(x), -np.inf, x)
    codes, levels = _factorize(values)
    out = np.empty(target.size)
    for k in (0, 1):
        learn, apply = fold != k, fold == k
        hits = np.bincount(codes[learn], target[learn], len(levels))
        seen = np.bincount(codes[learn], minlength=len(levels))
        out[apply] = ((hits + target[learn].mean()) / (seen + 1))[codes[apply]]  # unseen category: overall share
    return out


def _auc(target: np.ndarray, score: np.ndarray) -> float:
    return float(_auc_by_code(np.zeros(target.size, np.int64), target, score, 1, np.argsort(score, kind="stable"))[0])
