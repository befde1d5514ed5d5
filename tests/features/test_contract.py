import warnings

import numpy as np
import pandas as pd
import pytest

from features.contract import check_contract, derive_attribute, drop_unlabelled, parse_dates
from features.errors import DataError
from features.spec import SensitiveAttribute, Spec


def make_spec(**data) -> Spec:
    label = {} if isinstance(data.get("target"), dict) else {"positive": 1}
    return Spec.model_validate(
        {
            "name": "tiny",
            "data": {
                "source": "x.csv",
                "target": "bad",
                **label,
                "id": "id",
                "pii": ["name"],
                "sensitive": ["group", {"name": "age_band", "column": "age", "bins": [18, 40, 99]}],
                **data,
            },
            "features": {"numeric": ["income", "dti"], "categorical": ["region"]},
            "reasons": {"income": "Income", "dti": "Debt relative to income", "region": "Region"},
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


def test_a_leaky_feature_is_no_contract_breach():
    # leakage is judged by the leakage screen (pipelines/gates/leakage.py) and fails the performance gate
    frame = make_frame()
    frame["dti"] = frame["bad"] + np.random.default_rng(1).uniform(0, 0.1, len(frame))
    assert check_contract(frame, make_spec()).target.sum() == frame["bad"].sum()


STATUS = ["Current", "Fully Paid", "Charged Off", "Default", "Late (31-120 days)", "In Grace Period"]


def status_frame(rows: int = 600) -> pd.DataFrame:
    frame = make_frame(rows)
    return frame.assign(bad=[STATUS[i % len(STATUS)] for i in range(rows)])


def test_an_outcome_column_maps_to_a_binary_target_and_the_rest_is_dropped_and_counted():
    spec = make_spec(target={"column": "bad", "positive": ["Charged Off", "Default"], "negative": ["Fully Paid"]})
    frame = status_frame()
    kept, dropped = drop_unlabelled(frame, spec)
    assert dropped == {"Current": 100, "Late (31-120 days)": 100, "In Grace Period": 100}
    checked = check_contract(kept, spec)
    assert len(checked.target) == 300 and checked.target.sum() == 200
    assert checked.ids.tolist() == kept["id"].tolist()  # every piece is aligned to the kept rows


def test_without_a_negative_list_every_other_outcome_is_a_good_payer():
    spec = make_spec(target={"column": "bad", "positive": ["Charged Off", "Default"]})
    frame = status_frame()
    assert drop_unlabelled(frame, spec) == (frame, {})
    assert check_contract(frame, spec).target.sum() == 200


def test_a_binary_spec_on_a_multi_valued_outcome_says_how_to_map_it():
    with pytest.raises(DataError, match="6 distinct values; a binary target is required, or map the outcome"):
        check_contract(status_frame(), make_spec(positive="Default"))


def test_an_outcome_mapping_that_matches_nothing_is_refused():
    spec = make_spec(target={"column": "bad", "positive": ["Defaulted"], "negative": ["Paid"]})
    with pytest.raises(DataError, match="no row of target 'bad' holds a value of target.positive or target.negative"):
        drop_unlabelled(status_frame(), spec)


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


@pytest.mark.parametrize("value", [np.inf, -np.inf, 1e300])
def test_an_infinite_or_too_large_training_value_is_refused_by_name(value):
    """Used to reach the leakage check as an sklearn traceback ("Input contains infinity")."""
    frame = make_frame().assign(income=lambda f: f["income"].where(f.index != 7, value))
    with pytest.raises(DataError) as error:
        check_contract(frame, make_spec())
    assert "column 'income' has 1 infinite or too large value(s) (XGBoost takes at most ±3.4e+38)" in str(error.value)
    assert f"e.g. '{value}' in row 8" in str(error.value)


@pytest.mark.parametrize("column", ["income", "region"])
def test_a_feature_missing_in_every_row_is_usable_with_a_warning(column):
    checked = check_contract(make_frame().assign(**{column: None}), make_spec())
    assert checked.warnings == [f"feature '{column}' is missing in every row: it carries no information"]
    assert check_contract(make_frame(), make_spec()).warnings == []


@pytest.mark.parametrize("months", [["2024/01", "2024/02"], ["01/2024", "02/2024"], ["Jan 2024", "Feb 2024"]])
def test_month_columns_parse_without_pandas_format_warning(months):
    """pandas warns "Could not infer format" for these and parses each value with dateutil: what month columns need."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        parsed = parse_dates(pd.Series([*months, "not a date", None]))
    assert parsed.dt.month.tolist()[:2] == [1, 2] and parsed.isna().tolist() == [False, False, True, True]
