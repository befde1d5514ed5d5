"""Tests for features.synthetic: determinism, schema, risk directions, bias, drift."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from features.synthetic import BookOptions, generate_book
from features.synthetic_pii import _id_width, _zero_padded_ids

EXPECTED_DTYPES = {
    "applicant_id": "str",
    "name": "str",
    "phone": "str",
    "national_id": "str",
    "age": "int64",
    "gender": "str",
    "region": "str",
    "channel": "str",
    "income": "float64",
    "employment_years": "float64",
    "home_ownership": "str",
    "loan_amount": "float64",
    "term_months": "int64",
    "purpose": "str",
    "debt_to_income": "float64",
    "revolving_utilisation": "float64",
    "open_accounts": "int64",
    "delinquencies_2y": "int64",
    "inquiries_6m": "int64",
    "credit_history_months": "int64",
    "application_month": "datetime64[ns]",
    "default_12m": "int64",
}


@pytest.fixture(scope="module")
def book() -> pd.DataFrame:
    return generate_book(BookOptions(rows=20_000, seed=11))


@pytest.fixture(scope="module")
def bias_books() -> dict[float, pd.DataFrame]:
    return {b: generate_book(BookOptions(rows=50_000, seed=5, bias=b)) for b in (0.0, 1.0)}


def _drift_book(**kw: float) -> pd.DataFrame:
    return generate_book(BookOptions(rows=24_000, seed=3, months=4, **kw))


def _first_last(df: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    m = df["application_month"]
    return df[m == m.min()], df[m == m.max()]


def _bad_rate(df: pd.DataFrame, mask: pd.Series) -> float:
    return float(df.loc[mask, "default_12m"].mean())


def _auc(score: pd.Series, y: pd.Series) -> float:
    """Mann-Whitney AUC, no sklearn needed."""
    ranks = score.rank()
    pos = int(y.sum())
    neg = len(y) - pos
    return float((ranks[y == 1].sum() - pos * (pos + 1) / 2) / (pos * neg))


# --- determinism -----------------------------------------------------------


def test_same_seed_gives_identical_frame() -> None:
    opts = BookOptions(rows=3_000, seed=42, bias=0.5, drift_income=-0.1, drift_mix=0.3)
    pd.testing.assert_frame_equal(generate_book(opts), generate_book(opts))


def test_different_seed_gives_different_frame() -> None:
    a = generate_book(BookOptions(rows=3_000, seed=1))
    b = generate_book(BookOptions(rows=3_000, seed=2))
    assert (a["income"].to_numpy() != b["income"].to_numpy()).mean() > 0.99
    assert (a["name"] != b["name"]).mean() > 0.9
    assert (a["default_12m"] != b["default_12m"]).any()


# --- schema and plausibility -----------------------------------------------


def test_columns_and_dtypes(book: pd.DataFrame) -> None:
    assert list(book.columns) == list(EXPECTED_DTYPES)
    for col, want in EXPECTED_DTYPES.items():
        if want == "str":
            assert pd.api.types.is_string_dtype(book[col]), col
            assert not isinstance(book[col].dtype, pd.CategoricalDtype), col
            assert book[col].map(type).eq(str).all(), col
        else:
            assert str(book[col].dtype) == want, col
    assert isinstance(book.index, pd.RangeIndex) and len(book) == 20_000


def test_ids_unique_and_pii_patterns(book: pd.DataFrame) -> None:
    assert book["applicant_id"].is_unique
    assert book["applicant_id"].iloc[0] == "A0000001"
    assert book["applicant_id"].str.fullmatch(r"A\d{7}").all()
    assert book["name"].str.fullmatch(r"[A-Z][a-z]+ [A-Z][a-z]+").all()
    assert book["name"].nunique() > 1_000
    assert book["phone"].str.fullmatch(r"\+44 7\d{3} \d{6}").all()
    assert book["phone"].nunique() > 19_000
    assert book["national_id"].str.fullmatch(r"[A-Z]{2}\d{6}[A-D]").all()
    assert book["national_id"].nunique() > 19_000


def test_ids_widen_for_huge_books() -> None:
    assert _id_width(9_999_999) == 7
    assert _id_width(10_000_000) == 8
    ids = _zero_padded_ids(np.array([1, 9_999_999, 10_000_000]), _id_width(10_000_000))
    assert list(ids) == ["A00000001", "A09999999", "A10000000"]


def test_missing_only_in_employment_years(book: pd.DataFrame) -> None:
    assert book.drop(columns="employment_years").notna().all().all()
    assert 0.01 < book["employment_years"].isna().mean() < 0.03


def test_value_ranges(book: pd.DataFrame) -> None:
    assert book["age"].between(18, 85).all() and 30 < book["age"].median() < 45
    assert set(book["gender"]) == {"F", "M"}
    assert abs((book["gender"] == "F").mean() - 0.5) < 0.02
    assert set(book["region"]) == {"north", "south", "east", "west", "central", "coastal"}
    assert set(book["channel"]) == {"branch", "online", "broker"}
    assert set(book["home_ownership"]) == {"rent", "mortgage", "own"}
    assert set(book["purpose"]) == {"debt_consolidation", "car", "home_improvement", "credit_card", "medical", "other"}
    assert set(book["term_months"]) == {12, 24, 36, 48, 60}
    assert (book["income"] > 0).all() and 28_000 < book["income"].median() < 43_000
    emp = book["employment_years"].dropna()
    assert (emp >= 0).all() and np.allclose(emp, emp.round(1))
    assert (book["loan_amount"] >= 1_000).all() and (book["loan_amount"] % 100 == 0).all()
    assert book["debt_to_income"].between(0, 1.5).all()
    assert book["revolving_utilisation"].between(0, 1.5).all()
    assert (book["credit_history_months"] >= 0).all()
    assert (book["credit_history_months"] <= (book["age"] - 18) * 12).all()
    assert (book["open_accounts"] >= 0).all()
    assert (book["delinquencies_2y"] == 0).mean() > 0.75
    assert book["inquiries_6m"].between(0, 3).mean() > 0.95
    assert set(book["default_12m"]) == {0, 1}


def test_application_months_span_exactly() -> None:
    df = generate_book(BookOptions(rows=1_000, seed=0, start_month="2023-11", months=5))
    want = pd.date_range("2023-11-01", periods=5, freq="MS")
    assert list(np.sort(df["application_month"].unique())) == list(want)
    assert df["application_month"].value_counts().eq(200).all()
    assert df["application_month"].is_monotonic_increasing


# --- default model -----------------------------------------------------------


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_default_rate_in_range_per_seed(seed: int) -> None:
    rate = generate_book(BookOptions(rows=20_000, seed=seed))["default_12m"].mean()
    assert 0.07 < rate < 0.13  # calibrated to ~10%


@pytest.mark.parametrize(
    "drift",
    [
        {"drift_income": -0.3},
        {"drift_income": 0.3},
        {"drift_utilisation": 0.3},
        {"drift_utilisation": -0.3},
        {"drift_mix": 1.0},
        {"drift_income": -0.2, "drift_utilisation": 0.15, "drift_mix": 1.0},
    ],
)
def test_default_rate_in_range_with_drift(drift: dict[str, float]) -> None:
    rate = generate_book(BookOptions(rows=20_000, seed=9, **drift))["default_12m"].mean()
    assert 0.05 <= rate <= 0.20


def _top_vs_bottom_quintile(df: pd.DataFrame, col: str) -> tuple[float, float]:
    q = df[col].rank(method="first", pct=True)
    return _bad_rate(df, q > 0.8), _bad_rate(df, q <= 0.2)


@pytest.mark.parametrize("col", ["debt_to_income", "revolving_utilisation"])
def test_risk_rises_with(book: pd.DataFrame, col: str) -> None:
    top, bottom = _top_vs_bottom_quintile(book, col)
    assert top > bottom + 0.03, (top, bottom)


@pytest.mark.parametrize("col", ["income", "employment_years", "credit_history_months"])
def test_risk_falls_with(book: pd.DataFrame, col: str) -> None:
    top, bottom = _top_vs_bottom_quintile(book.dropna(subset=[col]), col)
    assert bottom > top + 0.03, (top, bottom)


@pytest.mark.parametrize("col", ["delinquencies_2y", "inquiries_6m"])
def test_risk_rises_with_counts(book: pd.DataFrame, col: str) -> None:
    some, none = _bad_rate(book, book[col] > 0), _bad_rate(book, book[col] == 0)
    assert some > none + 0.03, (some, none)


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


# --- validation --------------------------------------------------------------


@pytest.mark.parametrize(
    "field, value",
    [
        ("rows", 0),
        ("rows", -3),
        ("rows", 2.5),
        ("rows", True),
        ("seed", -1),
        ("months", 0),
        ("start_month", "2024-13"),
        ("start_month", "2024-1"),
        ("start_month", "Jan 2024"),
        ("bias", -0.1),
        ("bias", math.nan),
        ("drift_mix", 1.01),
        ("drift_mix", -0.01),
        ("drift_income", -1.0),
        ("drift_utilisation", math.inf),
    ],
)
def test_invalid_options_raise(field: str, value: object) -> None:
    kwargs = {"rows": 10, field: value}
    with pytest.raises(ValueError, match=field) as err:
        generate_book(BookOptions(**kwargs))  # type: ignore[arg-type]
    assert "\n" not in str(err.value)


def test_named_scenarios_turn_existing_drift_knobs():
    from features.synthetic import SCENARIOS, scenario_options

    assert set(SCENARIOS) == {"income_shock", "utilisation_rise", "mix_shift"}
    assert scenario_options("income_shock") == {"drift_income": -0.3}
    with pytest.raises(ValueError, match="unknown scenario 'flood'"):
        scenario_options("flood")
