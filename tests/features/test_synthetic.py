"""Tests for features.synthetic: determinism, schema, default rates and risk directions, options.

The risk model given the other features, bias and drift: test_synthetic_bias_drift.py."""

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


def _bad_rate(df: pd.DataFrame, mask: pd.Series) -> float:
    return float(df.loc[mask, "default_12m"].mean())


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
