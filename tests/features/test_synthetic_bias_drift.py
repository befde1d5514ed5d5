"""Tests for features.synthetic: the risk model given the other features, bias, drift."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from features.synthetic import BookOptions, generate_book
from tests.features.test_synthetic import _bad_rate


@pytest.fixture(scope="module")
def bias_books() -> dict[float, pd.DataFrame]:
    return {b: generate_book(BookOptions(rows=50_000, seed=5, bias=b)) for b in (0.0, 1.0)}


def _drift_book(**kw: float) -> pd.DataFrame:
    return generate_book(BookOptions(rows=24_000, seed=3, months=4, **kw))


def _first_last(df: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    m = df["application_month"]
    return df[m == m.min()], df[m == m.max()]


def _auc(score: pd.Series, y: pd.Series) -> float:
    """Mann-Whitney AUC, no sklearn needed."""
    ranks = score.rank()
    pos = int(y.sum())
    neg = len(y) - pos
    return float((ranks[y == 1].sum() - pos * (pos + 1) / 2) / (pos * neg))


# --- risk model given the other features ----------------------------------


# Slopes the generator's default logit is built with (the spec of its risk model).
TRUE_SLOPES = {
    "debt_to_income": 3.0,
    "revolving_utilisation": 2.2,
    "delinquencies_2y": 0.7,
    "inquiries_6m": 0.3,
    "log_income": -0.8,
    "log1p_employment_years": -0.4,
    "credit_history_months": -0.004,
}


def _fit_logit(df: pd.DataFrame) -> tuple[pd.Series, float]:
    """Logistic regression by Newton/IRLS in numpy; returns (coefficients, in-sample AUC)."""
    d = df.dropna(subset=["employment_years"])
    cols: dict[str, object] = {
        "const": 1.0,
        **{
            c: d[c]
            for c in (
                "debt_to_income",
                "revolving_utilisation",
                "delinquencies_2y",
                "inquiries_6m",
                "credit_history_months",
            )
        },
        "log_income": np.log(d["income"] / 35_000),
        "log1p_employment_years": np.log1p(d["employment_years"]),
        "female": d["gender"].eq("F"),
    }
    for col, ref in [("channel", "branch"), ("home_ownership", "mortgage"), ("purpose", "other")]:
        for level in sorted(set(d[col]) - {ref}):
            cols[f"{col}={level}"] = d[col].eq(level)
    X = pd.DataFrame(cols, index=d.index).astype(float)
    x, y = X.to_numpy(), d["default_12m"].to_numpy(dtype=float)
    beta = np.zeros(x.shape[1])
    for _ in range(15):
        p = 1.0 / (1.0 + np.exp(-x @ beta))
        step = np.linalg.solve(x.T @ (x * (p * (1 - p))[:, None]), x.T @ (y - p))
        beta += step
    assert np.abs(step).max() < 1e-8  # converged
    return pd.Series(beta, index=X.columns), _auc(pd.Series(x @ beta, index=d.index), d["default_12m"])


def test_risk_model_slopes_hold_given_other_features(bias_books: dict[float, pd.DataFrame]) -> None:
    """Each slope has the right sign and size conditional on the others (a marginal
    quintile check alone can pass through correlated features)."""
    coef, auc = _fit_logit(bias_books[0.0])
    for name, true in TRUE_SLOPES.items():
        assert 0.6 < coef[name] / true < 1.2, (name, coef[name], true)
    assert abs(coef["female"]) < 0.12, coef["female"]  # gender not in logit without bias
    # Moderate categorical effects (true gaps: +0.35, +0.35, -0.40).
    assert coef["channel=broker"] > 0.15, coef["channel=broker"]
    assert coef["home_ownership=rent"] - coef["home_ownership=own"] > 0.2
    assert coef["purpose=car"] - coef["purpose=debt_consolidation"] < -0.2
    assert 0.75 < auc < 0.85, auc  # useful signal, but noisy like a real book


def test_bias_is_recoverable_given_features(bias_books: dict[float, pd.DataFrame]) -> None:
    coef, _ = _fit_logit(bias_books[1.0])
    assert 0.75 < coef["female"] < 1.15, coef["female"]


# --- bias --------------------------------------------------------------------


def test_bias_raises_female_bad_rate(bias_books: dict[float, pd.DataFrame]) -> None:
    df = bias_books[1.0]
    gap = _bad_rate(df, df["gender"] == "F") - _bad_rate(df, df["gender"] == "M")
    assert gap > 0.05, gap


def test_no_bias_gives_equal_rates(bias_books: dict[float, pd.DataFrame]) -> None:
    df = bias_books[0.0]
    gap = _bad_rate(df, df["gender"] == "F") - _bad_rate(df, df["gender"] == "M")
    assert abs(gap) < 0.015, gap


def test_bias_acts_only_on_female_outcomes(bias_books: dict[float, pd.DataFrame]) -> None:
    """Features are unchanged; M outcomes identical; F outcomes only get worse."""
    a, b = bias_books[0.0], bias_books[1.0]
    pd.testing.assert_frame_equal(a.drop(columns="default_12m"), b.drop(columns="default_12m"))
    male = a["gender"] == "M"
    assert (a.loc[male, "default_12m"] == b.loc[male, "default_12m"]).all()
    assert (b.loc[~male, "default_12m"] >= a.loc[~male, "default_12m"]).all()


def test_channel_is_a_mild_gender_proxy(bias_books: dict[float, pd.DataFrame]) -> None:
    df = bias_books[0.0]
    branch = df["channel"] == "branch"
    gap = branch[df["gender"] == "F"].mean() - branch[df["gender"] == "M"].mean()
    assert 0.05 < gap < 0.30, gap


# --- drift -------------------------------------------------------------------


def test_income_drift() -> None:
    first, last = _first_last(_drift_book(drift_income=-0.3))
    ratio = last["income"].mean() / first["income"].mean()
    assert abs(ratio - 0.7) < 0.04, ratio
    first, last = _first_last(_drift_book())
    assert abs(last["income"].mean() / first["income"].mean() - 1) < 0.04


def test_utilisation_drift() -> None:
    first, last = _first_last(_drift_book(drift_utilisation=0.15))
    diff = last["revolving_utilisation"].mean() - first["revolving_utilisation"].mean()
    assert 0.11 < diff < 0.18, diff
    first, last = _first_last(_drift_book())
    assert abs(last["revolving_utilisation"].mean() - first["revolving_utilisation"].mean()) < 0.02


def test_mix_drift_moves_toward_risky_channels_and_younger() -> None:
    def risky(df: pd.DataFrame) -> float:
        return float(df["channel"].isin(["online", "broker"]).mean())

    first, last = _first_last(_drift_book(drift_mix=0.5))
    assert risky(last) > risky(first) + 0.12, (risky(first), risky(last))
    assert last["age"].mean() < first["age"].mean() - 2
    first, last = _first_last(_drift_book())
    assert abs(risky(last) - risky(first)) < 0.04
    assert abs(last["age"].mean() - first["age"].mean()) < 1.0


def test_drift_raises_defaults_through_the_same_model() -> None:
    """Same seed => same random draws, so worse income/utilisation can only add defaults,
    and the first month (no drift yet) is untouched."""
    base = _drift_book()
    drifted = _drift_book(drift_income=-0.3, drift_utilisation=0.15)
    assert (drifted["default_12m"] >= base["default_12m"]).all()
    b_first, b_last = _first_last(base)
    d_last = _first_last(drifted)[1]
    assert d_last["default_12m"].mean() > b_last["default_12m"].mean() + 0.03
    for drift in ({"drift_income": -0.3}, {"drift_utilisation": 0.15}, {"drift_mix": 0.8}):
        d_first, d_last = _first_last(_drift_book(**drift))
        pd.testing.assert_frame_equal(b_first, d_first)  # drift ramps from 0
        assert not d_last.reset_index(drop=True).equals(b_last.reset_index(drop=True))
