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
