"""Adverse-action reason codes: the characteristics that pushed an applicant's score toward default.

A declined applicant has a right to know the main reasons. For each applicant we rank the raw
application fields by how much they moved the model's log-odds toward default compared with a
baseline applicant, and report at most `MAX_REASONS` of them, as texts an applicant can read.

Contributions come from XGBoost itself (`pred_contribs`): exact TreeSHAP, or the much faster
Saabas approximation (see `agreement` for how well the two agree). Pure functions on numpy and
pandas, no side effects at import, nothing imported from the repository: this module runs inside
the logged model.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd
import xgboost as xgb

MAX_REASONS = 4
# Shown when a field has no reason text of its own; formatted with the field name.
DEFAULT_REASON_TEXT = "{field}: value increased the estimated risk"
METHODS = ("average", "cutoff")
# A "cutoff" baseline averages at least this many reference applicants, else it is too noisy.
MIN_CUTOFF_APPLICANTS = 30


def _raw_contributions(booster: xgb.Booster, model_input: pd.DataFrame, exact: bool) -> np.ndarray:
    """Contributions with XGBoost's bias column last; rows sum to the margin (log-odds)."""
    matrix = xgb.DMatrix(model_input, enable_categorical=True)
    return booster.predict(matrix, pred_contribs=True, approx_contribs=not exact).astype(np.float64)


def contributions(booster: xgb.Booster, model_input: pd.DataFrame, *, exact: bool = True) -> np.ndarray:
    """Per-feature contributions to the log-odds of default, shape (rows, features), bias dropped.

    `exact=True` is TreeSHAP (consistent, what the reasons are defined by); `exact=False` is the
    Saabas path attribution, ~30x cheaper (measured ~0.5 ms vs ~16 us per row, 200 depth-4 trees,
    15 features, one thread) with mostly the same first reason (see `agreement`). `model_input` is
    the output of `FeatureTransform.transform`; XGBoost checks its columns against the booster's.
    """
    return _raw_contributions(booster, model_input, exact)[:, :-1]


@dataclass(frozen=True)
class ReasonBaseline:
    """The applicant each applicant is compared with: mean contribution per feature of a group.

    "average": the whole reference sample, i.e. the mean applicant. Reasons then say what makes
    this applicant riskier than a typical one. (XGBoost's bias is a hessian-weighted average, so
    raw contributions do not average to zero over a sample: on a book with few defaults they
    average below zero, which is why reasons are measured from a baseline and not from zero.)
    "cutoff": reference applicants whose PD lies within +-`band` of the decision cutoff, i.e.
    the marginal applicant who is just approved or declined. Reasons then say what separates this
    applicant from one the lender would still approve, the usual reading of adverse-action rules.
    `cutoff`, `band` and `n_reference` record how the baseline was made (audit trail).
    """

    method: str
    values: list[float]
    features: list[str]
    cutoff: float | None = None
    band: float | None = None
    n_reference: int | None = None

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> "ReasonBaseline":
        return cls(
            method=d["method"],
            values=[float(v) for v in d["values"]],
            features=list(d["features"]),
            cutoff=d.get("cutoff"),
            band=d.get("band"),
            n_reference=d.get("n_reference"),
        )


def fit_baseline(
    booster: xgb.Booster,
    reference_input: pd.DataFrame,
    *,
    method: str = "average",
    cutoff: float | None = None,
    band: float = 0.05,
    exact: bool = True,
) -> ReasonBaseline:
    """Baseline from a reference sample (e.g. the training applicants) in model-input form.

    For "cutoff", `cutoff` is the PD cutoff of the decision rule and `band` an absolute PD
    distance. The band is never widened silently: if fewer than `MIN_CUTOFF_APPLICANTS`
    reference applicants fall inside it, a ValueError says so, and the caller chooses a wider
    band or a larger sample. `cutoff` and `band` are ignored by "average". Use the same `exact`
    as for the applicants' contributions, so baseline and contributions are comparable.
    """
    if method not in METHODS:
        raise ValueError(f"baseline method must be one of {', '.join(METHODS)}, got {method!r}")
    if len(reference_input) == 0:
        raise ValueError("reference sample for the reason baseline is empty")
    raw = _raw_contributions(booster, reference_input, exact)
    features = list(reference_input.columns)
    if method == "average":
        return ReasonBaseline("average", raw[:, :-1].mean(axis=0).tolist(), features, n_reference=len(raw))
    if cutoff is None or not 0 < cutoff < 1:
        raise ValueError(f"baseline method 'cutoff' needs a PD cutoff strictly between 0 and 1, got {cutoff!r}")
    if not band > 0:
        raise ValueError(f"band must be > 0, got {band!r}")
    # The PD the decision uses (as in scoring), not one rebuilt from float32 contributions.
    pd_values = booster.inplace_predict(reference_input, validate_features=True).astype(np.float64)
    inside = np.abs(pd_values - cutoff) <= band
    count = int(inside.sum())
    if count < MIN_CUTOFF_APPLICANTS:
        raise ValueError(
            f"only {count} reference applicants have PD within {band} of cutoff {cutoff} "
            f"(need {MIN_CUTOFF_APPLICANTS}): widen the band or use a larger reference sample"
        )
    return ReasonBaseline(
        "cutoff",
        raw[inside, :-1].mean(axis=0).tolist(),
        features,
        cutoff=float(cutoff),
        band=float(band),
        n_reference=count,
    )


def _field_matrix(features: list[str], fields: dict[str, str] | None) -> tuple[list[str], np.ndarray | None]:
    """Fields in order of first appearance, and the (features x fields) 0/1 summing matrix
    (None when every feature is its own field)."""
    fields = fields or {}
    unknown = sorted(set(fields) - set(features))
    if unknown:
        raise ValueError(f"fields maps unknown feature(s): {', '.join(unknown)}")
    per_feature = [fields.get(name, name) for name in features]
    names = list(dict.fromkeys(per_feature))
    if names == features:
        return names, None
    summing = np.zeros((len(features), len(names)))
    summing[np.arange(len(features)), [names.index(f) for f in per_feature]] = 1.0
    return names, summing


def _top_k(scores: np.ndarray, k: int) -> np.ndarray:
    """Column indices of each row's k largest scores, descending, equal scores in column order.

    A partial partition, then a sort of the k candidates: ~3x faster than a full stable sort.
    """
    rows, width = scores.shape
    if width <= k:
        return np.argsort(-scores, axis=1, kind="stable")
    kth = np.partition(scores, width - k, axis=1)[:, width - k, None]  # k-th largest per row
    above, tied = scores > kth, scores == kth  # fewer than k above, enough tied to make k
    need = k - above.sum(axis=1)
    chosen = above | tied
    crowded = np.flatnonzero(tied.sum(axis=1) > need)  # ties at the k-th place: keep the first
    if crowded.size:
        first = tied[crowded] & (np.cumsum(tied[crowded], axis=1) <= need[crowded, None])
        chosen[crowded] = above[crowded] | first
    index = np.nonzero(chosen)[1].reshape(rows, k)  # exactly k per row, in column order
    ranks = np.argsort(-np.take_along_axis(scores, index, axis=1), axis=1, kind="stable")
    return np.take_along_axis(index, ranks, axis=1)


def top_reasons(
    contribs: np.ndarray,
    baseline: ReasonBaseline,
    *,
    fields: dict[str, str] | None = None,
    texts: dict[str, str] | None = None,
    k: int = MAX_REASONS,
) -> pd.DataFrame:
    """Reason texts `reason_1..reason_k` per row, strongest first, None where there are fewer.

    Score of a feature = contribution - baseline value: how far this applicant's value moves the
    log-odds toward default compared with the baseline applicant. Features feeding the same raw
    field (`fields`: feature -> field; unmapped features are their own field) are summed, since
    the applicant knows the field, not the engineered feature. Only fields with a strictly
    positive score are reasons; ties keep field order (first appearance in the features), so the
    result is deterministic. `texts` maps field -> text, else `DEFAULT_REASON_TEXT`. Rows of the
    result are positional (RangeIndex): set the applicants' index if needed. Fully vectorised.
    """
    contribs = np.asarray(contribs, dtype=np.float64)
    if contribs.ndim != 2 or contribs.shape[1] != len(baseline.features):
        raise ValueError(f"contributions must have shape (rows, {len(baseline.features)}), got {contribs.shape}")
    if k < 1:
        raise ValueError(f"k must be >= 1, got {k}")
    if not np.isfinite(contribs).all():
        raise ValueError("contributions contain NaN or infinite values")
    names, summing = _field_matrix(baseline.features, fields)
    scores = contribs - np.asarray(baseline.values, dtype=np.float64)
    if summing is not None:
        scores = scores @ summing
    order = _top_k(scores, k)
    positive = np.take_along_axis(scores, order, axis=1) > 0
    texts = texts or {}
    labels = np.array([texts.get(f, DEFAULT_REASON_TEXT.format(field=f)) for f in names] + [None], dtype=object)
    chosen = labels[np.where(positive, order, len(names))]
    if chosen.shape[1] < k:  # fewer fields than k: the remaining columns are all None
        chosen = np.hstack([chosen, np.full((len(chosen), k - chosen.shape[1]), None, dtype=object)])
    return pd.DataFrame(chosen, columns=[f"reason_{i + 1}" for i in range(k)])


def measured_agreement(
    booster: xgb.Booster, model_input: pd.DataFrame, baseline: ReasonBaseline, texts: dict[str, str]
) -> dict[str, float]:
    """How often Saabas reasons match exact TreeSHAP reasons on `model_input` (see `agreement`); {} on no rows."""
    if model_input.empty:
        return {}
    exact = top_reasons(contributions(booster, model_input, exact=True), baseline, texts=texts)
    fast = top_reasons(contributions(booster, model_input, exact=False), baseline, texts=texts)
    return agreement(exact, fast)


def agreement(exact_reasons: pd.DataFrame, fast_reasons: pd.DataFrame) -> dict[str, float]:
    """How often the fast (approx) reasons match the exact ones, row by row.

    "top_k_set": share of rows with the same set of reasons (order ignored, so a swap of ranks
    still agrees); "reason_1": share with the same first reason. Rows with no reason in both
    agree. Needs frames with the same columns and row count, as returned by `top_reasons`.
    """
    if list(exact_reasons.columns) != list(fast_reasons.columns) or len(exact_reasons) != len(fast_reasons):
        raise ValueError("reason frames to compare must have the same columns and number of rows")
    if len(exact_reasons) == 0:
        raise ValueError("reason frames to compare are empty")
    both = np.concatenate([exact_reasons.to_numpy(dtype=object), fast_reasons.to_numpy(dtype=object)])
    codes, _ = pd.factorize(both.ravel())  # None -> -1, same text -> same code in both frames
    codes = codes.reshape(both.shape)
    exact, fast = codes[: len(exact_reasons)], codes[len(exact_reasons) :]
    same_set = (np.sort(exact, axis=1) == np.sort(fast, axis=1)).all(axis=1)
    return {"top_k_set": float(same_set.mean()), "reason_1": float((exact[:, 0] == fast[:, 0]).mean())}
