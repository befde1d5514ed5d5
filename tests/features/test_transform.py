import numpy as np
import pandas as pd
import pytest

from features.transform import FeatureTransform, InputError


def fitted() -> FeatureTransform:
    train = pd.DataFrame({"income": [1.0, 2.0, np.nan], "region": ["south", "north", None]})
    return FeatureTransform(["income"], ["region"]).fit(train)


def test_categories_learnt_sorted_and_round_trip():
    transform = fitted()
    assert transform.categories == {"region": ["north", "south"]}
    again = FeatureTransform.from_json(transform.to_json())
    assert again == transform


def test_unseen_category_becomes_missing_and_is_counted():
    raw = pd.DataFrame({"region": ["north", "mars", None], "income": [1, 2, 3], "extra": 1})
    out = fitted().transform(raw)
    assert list(out.columns) == ["income", "region"]
    assert out["income"].dtype == np.float64
    assert list(out["region"].cat.categories) == ["north", "south"]
    assert out["region"].isna().tolist() == [False, True, True]
    assert fitted().unseen_counts(raw) == {"region": 1}


def test_bad_input_names_the_column():
    transform = fitted()
    with pytest.raises(InputError, match="missing column\\(s\\): income"):
        transform.transform(pd.DataFrame({"region": ["north"]}))
    with pytest.raises(InputError, match="column 'income' must be numeric, got 'lots'"):
        transform.transform(pd.DataFrame({"region": ["north"], "income": ["lots"]}))
    assert transform.transform(pd.DataFrame({"region": ["north"], "income": ["12.5"]}))["income"][0] == 12.5


def test_text_categoricals_encode_like_text():
    """Parquet dictionaries arrive as categoricals: same encoding, unseen and missing become missing."""
    transform = FeatureTransform(["x"], ["c"], {"c": ["a", "b"]})
    as_text = pd.DataFrame({"x": [1, 2, 3, 4], "c": ["b", "z", None, "a"]})
    as_dictionary = as_text.assign(c=as_text["c"].astype("category"))
    expected, got = transform.transform(as_text), transform.transform(as_dictionary)
    pd.testing.assert_frame_equal(got, expected)
    assert got["c"].isna().tolist() == [False, True, True, False]
    assert transform.unseen_counts(as_dictionary) == {"c": 1}


@pytest.mark.parametrize("value", [np.inf, -np.inf, 1e300, -4e38])
def test_infinite_or_too_large_numbers_are_refused_by_name(value):
    """XGBoost holds values as float32: ±inf, or a magnitude beyond float32 (it becomes infinite), makes its
    DMatrix fail with a native stack trace; the transform refuses them first, for scoring and serving alike."""
    raw = pd.DataFrame({"region": ["north", "south"], "income": [1.0, value]})
    with pytest.raises(InputError, match="column 'income' must be a finite number .*got -?inf|e\\+"):
        fitted().transform(raw)
    assert fitted().transform(raw.assign(income=[1.0, 3.0e38]))["income"][1] == 3.0e38  # within float32


def test_a_boolean_among_numbers_is_refused_not_read_as_one():
    """A CSV column of booleans with a gap, or a JSON request mixing true and numbers, arrives as object
    dtype; pandas' to_numeric would read True as 1."""
    for values in ([True, None, False], [1.0, True, 3.5]):
        raw = pd.DataFrame({"region": ["north"] * 3, "income": pd.Series(values, dtype=object)})
        with pytest.raises(InputError, match="column 'income' must be numeric, got 'True'"):
            fitted().transform(raw)


def test_a_categorical_column_missing_in_every_training_row_is_encoded_as_missing():
    """XGBoost cannot build a matrix from a categorical column with no categories: such a column is all
    missing, and is handed over as a missing number instead (the same at training and at scoring)."""
    transform = FeatureTransform(["income"], ["region"]).fit(pd.DataFrame({"income": [1.0, 2.0], "region": None}))
    assert transform.categories == {"region": []}
    out = transform.transform(pd.DataFrame({"income": [1.0, 2.0], "region": ["north", None]}))
    assert out["region"].isna().all() and out["region"].dtype == np.float64
    assert transform.unseen_counts(pd.DataFrame({"region": ["north", None]})) == {"region": 1}
