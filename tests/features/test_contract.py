import warnings

import numpy as np
import pandas as pd
import pytest

from features.contract import check_contract, derive_attribute, leakage_suspects, parse_dates
from features.errors import DataError
from features.spec import SensitiveAttribute, Spec


def make_spec(**data) -> Spec:
    return Spec.model_validate(
        {
            "name": "tiny",
            "data": {
                "source": "x.csv",
                "target": "bad",
                "positive": 1,
                "id": "id",
                "pii": ["name"],
                "sensitive": ["group", {"name": "age_band", "column": "age", "bins": [18, 40, 99]}],
                **data,
            },
            "features": {"numeric": ["income", "dti"], "categorical": ["region"]},
        }
    )


def make_frame(rows: int = 200, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    dti = rng.uniform(0, 1, rows)
    return pd.DataFrame(
        {
            "id": [f"A{i:04d}" for i in range(rows)],
            "name": ["Jane Doe"] * rows,
            "income": rng.normal(30_000, 5_000, rows).round(),
            "dti": dti,
            "region": rng.choice(["north", "south"], rows),
            "group": rng.choice(["a", "b"], rows),
            "age": rng.integers(18, 80, rows),
            "bad": (rng.uniform(0, 1, rows) < 0.1 + 0.3 * dti).astype(int),
        }
    )


def test_valid_data_is_typed_and_aligned():
    frame = make_frame()
    frame.loc[3, "income"] = np.nan
    original = frame.copy()
    checked = check_contract(frame, make_spec())
    pd.testing.assert_frame_equal(frame, original)  # the caller's frame is untouched
    assert list(checked.features.columns) == ["income", "dti", "region"]
    assert checked.features["income"].dtype == np.float64 and np.isnan(checked.features["income"][3])
    assert checked.target.tolist() == frame["bad"].tolist()
    assert set(checked.sensitive.columns) == {"group", "age_band"}
    assert set(checked.sensitive["age_band"]) <= {"18-40", "40-99"}
    assert "name" not in checked.features.columns


def test_string_labels_and_string_numbers_are_coerced():
    frame = make_frame()
    frame["bad"] = np.where(frame["bad"] == 1, "bad", "good")
    frame["income"] = frame["income"].astype(str)
    checked = check_contract(frame, make_spec(positive="bad"))
    assert checked.target.sum() == (frame["bad"] == "bad").sum()
    assert checked.features["income"].dtype == np.float64


@pytest.mark.parametrize(
    "mutate, spec_changes, message",
    [
        (lambda f: f.drop(columns=["dti"]), {}, "missing declared column(s): dti"),
        (lambda f: f.drop(columns=["name"]), {}, "missing declared column(s): name"),
        (
            lambda f: f.assign(income=f["income"].astype(object).where(f.index != 5, "12k")),
            {},
            "column 'income' is declared numeric but has 1 non-numeric value(s), e.g. '12k' in row 6",
        ),
        (lambda f: f.assign(bad=0), {}, "positive label '1' not found"),
        (lambda f: f.assign(bad=1), {}, "single class"),
        (lambda f: f, {"positive": 7}, "positive label '7' not found"),
        (lambda f: f.assign(id="same"), {}, "id column 'id' has 1 duplicated id(s)"),
        (lambda f: f.assign(bad=f["bad"].astype(float).where(f.index != 0)), {}, "target 'bad' has 1 missing"),
        (lambda f: f.assign(bad=f.index % 3), {}, "3 distinct values"),
        (lambda f: f.iloc[0:0], {}, "data has no rows"),
    ],
)
def test_contract_failures_are_one_line(mutate, spec_changes, message):
    with pytest.raises(DataError) as error:
        check_contract(mutate(make_frame()), make_spec(**spec_changes))
    assert message in str(error.value)
    assert "\n" not in str(error.value)


def test_all_problems_are_reported_together():
    frame = make_frame().assign(id="same", dti="n/a")
    with pytest.raises(DataError) as error:
        check_contract(frame, make_spec())
    assert "dti" in str(error.value) and "duplicated" in str(error.value)


def test_leaky_feature_is_refused():
    frame = make_frame()
    frame["dti"] = frame["bad"] + np.random.default_rng(1).uniform(0, 0.1, len(frame))
    with pytest.raises(DataError, match="likely leakage: 'dti'"):
        check_contract(frame, make_spec())


def test_leakage_check_ignores_ordinary_features():
    frame = make_frame(rows=2000)
    checked = check_contract(frame, make_spec())
    assert leakage_suspects(checked.features, checked.target) == []


def test_bad_time_column_is_refused():
    frame = make_frame().assign(month="2024-01-01")
    frame.loc[4, "month"] = "not a date"
    with pytest.raises(DataError, match="time column 'month' has 1 missing or unparseable"):
        check_contract(frame, make_spec(time="month"))


def test_derived_attributes():
    mapped = derive_attribute(
        pd.Series(["m : single", "f : married", None]),
        SensitiveAttribute(name="sex", column="s", map={"m : single": "male", "f : married": "female"}),
    )
    assert mapped.tolist() == ["male", "female", "unknown"]
    banded = derive_attribute(
        pd.Series([18, 24, 25, 70, np.nan]), SensitiveAttribute(name="age_band", column="a", bins=[18, 25, 65])
    )
    assert banded.tolist() == ["18-25", "18-25", "25-65", "unknown", "unknown"]


@pytest.mark.parametrize("months", [["2024/01", "2024/02"], ["01/2024", "02/2024"], ["Jan 2024", "Feb 2024"]])
def test_month_columns_parse_without_pandas_format_warning(months):
    """pandas warns "Could not infer format" for these and parses each value with dateutil: what month columns need."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        parsed = parse_dates(pd.Series([*months, "not a date", None]))
    assert parsed.dt.month.tolist()[:2] == [1, 2] and parsed.isna().tolist() == [False, False, True, True]
