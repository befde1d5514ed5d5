"""Tests for pipelines.training.logistic_benchmark on small synthetic books."""

from __future__ import annotations

import pickle

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

import pipelines.training.logistic_benchmark as baseline
from pipelines.training.logistic_benchmark import fit_logistic_baseline, predict_baseline

NUMERIC = ["income", "dti"]
CATEGORICAL = ["grade", "purpose"]


def _book(n: int = 2_000, seed: int = 0, category_dtype: bool = True) -> tuple[pd.DataFrame, np.ndarray]:
    """dti (numeric) and grade (categorical) drive default; income and purpose are noise."""
    rng = np.random.default_rng(seed)
    grade = rng.choice(["A", "B", "C"], n)
    dti = rng.normal(0, 1, n)
    logit = -1.5 + 1.5 * dti + np.select([grade == "A", grade == "C"], [-1.5, 1.5], 0.0)
    y = rng.binomial(1, 1 / (1 + np.exp(-logit)))
    X = pd.DataFrame(
        {
            "income": rng.normal(50, 10, n),
            "dti": dti,
            "grade": grade,
            "purpose": rng.choice(["car", "home", "debt"], n).astype(object),
            "id": np.arange(n),  # not a feature: must be ignored
        }
    )
    X.loc[rng.random(n) < 0.05, "dti"] = np.nan
    X.loc[rng.random(n) < 0.05, "grade"] = None
    if category_dtype:
        X["grade"] = X["grade"].astype("category")
    return X, y


@pytest.mark.parametrize("category_dtype", [True, False])
def test_baseline_learns_numeric_and_categorical_signal(category_dtype):
    X, y = _book(category_dtype=category_dtype)
    model = fit_logistic_baseline(X, y, numeric=NUMERIC, categorical=CATEGORICAL, seed=0)
    X_test, y_test = _book(seed=1, category_dtype=category_dtype)
    p = predict_baseline(model, X_test)
    assert p.shape == (len(X_test),) and np.all((p >= 0) & (p <= 1))
    assert roc_auc_score(y_test, p) > 0.75
    # Each driver matters on its own: dropping it loses discrimination.
    only_grade = fit_logistic_baseline(X, y, numeric=[], categorical=["grade"], seed=0)
    only_dti = fit_logistic_baseline(X, y, numeric=["dti"], categorical=[], seed=0)
    assert roc_auc_score(y_test, predict_baseline(only_grade, X_test)) > 0.6
    assert roc_auc_score(y_test, predict_baseline(only_dti, X_test)) > 0.6


def test_predictions_are_probability_of_default_not_of_good():
    X, y = _book()
    p = predict_baseline(fit_logistic_baseline(X, y, numeric=NUMERIC, categorical=CATEGORICAL, seed=0), X)
    assert p[y == 1].mean() > p[y == 0].mean()
    assert p.mean() == pytest.approx(y.mean(), abs=0.02)


def test_unseen_category_and_missing_values_at_predict_time():
    X, y = _book()
    model = fit_logistic_baseline(X, y, numeric=NUMERIC, categorical=CATEGORICAL, seed=0)
    new = X.head(4).copy()
    new["grade"] = pd.Categorical(["Z", None, "A", "B"])
    new["purpose"] = ["boat", None, "car", 7]
    new["income"] = np.nan
    p = predict_baseline(model, new)
    assert p.shape == (4,) and np.all(np.isfinite(p))


def test_mixed_type_categorical_levels_do_not_break_encoding():
    X, y = _book(category_dtype=False)
    X["purpose"] = X["purpose"].where(np.arange(len(X)) % 3 != 0, 1)  # ints among strings
    model = fit_logistic_baseline(X, y, numeric=NUMERIC, categorical=CATEGORICAL, seed=0)
    assert np.all(np.isfinite(predict_baseline(model, X)))


def test_caller_frame_is_not_mutated():
    X, y = _book()
    before = X.copy(deep=True)
    dtypes = X.dtypes.copy()
    model = fit_logistic_baseline(X, y, numeric=NUMERIC, categorical=CATEGORICAL, seed=0, max_rows=500)
    predict_baseline(model, X)
    pd.testing.assert_frame_equal(X, before)
    pd.testing.assert_series_equal(X.dtypes, dtypes)


def test_sampling_path_used_above_max_rows(monkeypatch):
    X, y = _book(n=3_000)
    seen: dict[str, int] = {}
    real_build = baseline._build_pipeline

    def spying_build(*args, **kwargs):
        pipeline = real_build(*args, **kwargs)
        real_fit = pipeline.fit

        def fit(features, labels):
            seen["rows"], seen["bads"] = len(features), int(np.sum(labels))
            return real_fit(features, labels)

        pipeline.fit = fit
        return pipeline

    monkeypatch.setattr(baseline, "_build_pipeline", spying_build)
    fit_logistic_baseline(X, y, numeric=NUMERIC, categorical=CATEGORICAL, seed=0, max_rows=600)
    assert seen["rows"] == 600
    assert seen["bads"] / 600 == pytest.approx(y.mean(), abs=1 / 600)  # stratified
    fit_logistic_baseline(X, y, numeric=NUMERIC, categorical=CATEGORICAL, seed=0)
    assert seen["rows"] == 3_000  # under the cap: all rows


def test_deterministic_with_seed_and_sample_depends_on_seed():
    X, y = _book(n=3_000)
    fit = lambda seed: predict_baseline(  # noqa: E731
        fit_logistic_baseline(X, y, numeric=NUMERIC, categorical=CATEGORICAL, seed=seed, max_rows=800), X
    )
    first, again, other = fit(7), fit(7), fit(8)
    np.testing.assert_array_equal(first, again)
    assert not np.allclose(first, other)


@pytest.mark.parametrize(
    ("numeric", "categorical", "fragment"),
    [
        ([], [], "no feature columns"),
        (["dti"], ["dti"], "both numeric and categorical"),
        (["nope"], [], "missing from X"),
    ],
)
def test_bad_column_specs_raise(numeric, categorical, fragment):
    X, y = _book(n=100)
    with pytest.raises(ValueError, match=fragment):
        fit_logistic_baseline(X, y, numeric=numeric, categorical=categorical, seed=0)


def test_single_class_target_raises():
    X, _ = _book(n=100)
    with pytest.raises(ValueError, match="both classes"):
        fit_logistic_baseline(X, np.zeros(100), numeric=NUMERIC, categorical=CATEGORICAL, seed=0)


def test_fitted_model_survives_pickling():
    # Model registries (mlflow's sklearn flavour) pickle the pipeline.
    X, y = _book(n=500)
    model = fit_logistic_baseline(X, y, numeric=NUMERIC, categorical=CATEGORICAL, seed=0)
    restored = pickle.loads(pickle.dumps(model))
    np.testing.assert_array_equal(predict_baseline(restored, X), predict_baseline(model, X))
