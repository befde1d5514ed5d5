"""Synthetic final decisions of underwriters for a generated book (`creditflow generate --overrides PATH`), so that
monitoring of human overrides (`creditflow monitor --decisions`) can be seen and tested on both kinds of book.

The underwriters judge risk from what an application shows (the observable part of the book's known default
model, features/synthetic.py) at the consumer-loan cutoff; `bias` is the share of applicants of one group (gender
"F") they would approve whom they decline all the same: the bias a model kept out, brought back by people.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from features.synthetic import (
    _COEF,
    _HOME_LOGIT,
    _HOMES,
    _INTERCEPT,
    _LINEAR,
    _MEDIAN_INCOME,
    _PURPOSE_LOGIT,
    _PURPOSES,
)

UNDERWRITERS = [f"UW-{i:03d}" for i in range(1, 9)]
APPROVE_REASONS = ["verified income", "stable employment confirmed", "guarantor offered"]
DECLINE_REASONS = ["affordability", "recent arrears", "insufficient documentation"]


def underwriter_decisions(book: pd.DataFrame, *, bias: float, seed: int, cutoff: float = 0.25) -> pd.DataFrame:
    """One final decision per applicant of `book`: id, final_decision, underwriter, reason, decided_at, and whether
    the applicant requested human review or contested."""
    rng = np.random.default_rng([seed, 25])
    n = len(book)
    risk = _observable_pd(book)
    declined = risk >= cutoff
    female = book["gender"].to_numpy() == "F"
    biased = female & ~declined & (rng.random(n) < bias)
    final = np.where(declined | biased, "decline", "approve")
    reasons = np.where(final == "decline", rng.choice(DECLINE_REASONS, n), rng.choice(APPROVE_REASONS, n)).astype(
        object
    )
    requested = rng.random(n) < np.where(final == "decline", 0.05, 0.0)
    contested = requested & (rng.random(n) < 0.3)
    month = pd.to_datetime(book["application_month"]).to_numpy()
    decided = month + pd.to_timedelta(rng.integers(1, 20, n), unit="D").to_numpy()
    return pd.DataFrame(
        {
            "applicant_id": book["applicant_id"].to_numpy(),
            "final_decision": final,
            "underwriter": rng.choice(UNDERWRITERS, n),
            "reason": reasons,
            "decided_at": pd.Series(decided).dt.strftime("%Y-%m-%d").to_numpy(),
            "requested_review": requested,
            "contested": contested,
        }
    )


def _observable_pd(book: pd.DataFrame) -> np.ndarray:
    """The book's default model without its unobserved factor: what an application shows an underwriter."""
    c = _COEF
    linear = sum(c[k] * book[k].to_numpy(dtype=np.float64) for k in _LINEAR)
    employment = np.nan_to_num(book["employment_years"].to_numpy(dtype=np.float64), nan=0.0)
    purpose = pd.Categorical(book["purpose"], categories=list(_PURPOSES)).codes
    home = pd.Categorical(book["home_ownership"], categories=list(_HOMES)).codes
    logit = (
        _INTERCEPT
        + linear
        + c["log_income"] * np.log(book["income"].to_numpy(dtype=np.float64) / _MEDIAN_INCOME)
        + c["log1p_employment_years"] * np.log1p(employment)
        + _PURPOSE_LOGIT[np.maximum(purpose, 0)]
        + _HOME_LOGIT[np.maximum(home, 0)]
        + 0.5 * c["unobserved"] ** 2  # the unobserved factor's average effect on the odds
    )
    return 1.0 / (1.0 + np.exp(-logit))
