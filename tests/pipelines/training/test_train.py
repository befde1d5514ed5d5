import numpy as np
import pandas as pd
import xgboost as xgb

from features.transform import FeatureTransform
from features.tuning_spec import XGBoostParams
from pipelines.training.train import best_score, booster_bytes, booster_params, fit_booster, predict_pd, to_dmatrix

PARAMS = XGBoostParams(max_depth=3, learning_rate=0.1, max_rounds=300, early_stopping_rounds=20, nthread=1)


def book(rows=3000, seed=0):
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(
        {
            "dti": rng.uniform(0, 1, rows),
            "noise": rng.normal(size=rows),
            "region": rng.choice(["a", "b", "c"], rows),
        }
    )
    logit = -2.5 + 3 * frame["dti"] + (frame["region"] == "c") * 0.8 + rng.normal(0, 1, rows)
    target = (rng.uniform(size=rows) < 1 / (1 + np.exp(-logit))).to_numpy().astype(int)
    transform = FeatureTransform(["dti", "noise"], ["region"]).fit(frame)
    return transform.transform(frame), target


def fit(features, target, monotone=(1, 0, 0), seed=1):
    train, valid = slice(0, 2000), slice(2000, None)
    return fit_booster(
        to_dmatrix(features[train], target[train], nthread=1),
        to_dmatrix(features[valid], target[valid], nthread=1),
        PARAMS,
        monotone=list(monotone),
        seed=seed,
    )


def test_same_inputs_give_a_byte_identical_booster():
    features, target = book()
    assert booster_bytes(fit(features, target)) == booster_bytes(fit(features, target))
    assert booster_bytes(fit(features, target, seed=2)) != booster_bytes(fit(features, target))


def test_early_stopping_keeps_only_the_best_trees():
    features, target = book()
    booster = fit(features, target)
    assert 1 <= booster.num_boosted_rounds() < PARAMS.max_rounds
    # The same training without the cut: it stops `early_stopping_rounds` after its best round ...
    train, valid = slice(0, 2000), slice(2000, None)
    full = xgb.train(
        booster_params(PARAMS, monotone=[1, 0, 0], seed=1),
        to_dmatrix(features[train], target[train], nthread=1),
        num_boost_round=PARAMS.max_rounds,
        evals=[(to_dmatrix(features[valid], target[valid], nthread=1), "valid")],
        early_stopping_rounds=PARAMS.early_stopping_rounds,
        verbose_eval=False,
    )
    assert full.num_boosted_rounds() == full.best_iteration + 1 + PARAMS.early_stopping_rounds
    # ... and the fitted booster holds exactly the trees up to that best round, with its score.
    assert booster.num_boosted_rounds() == full.best_iteration + 1
    assert best_score(booster) == full.best_score
    np.testing.assert_array_equal(
        predict_pd(booster, features),
        full.inplace_predict(features, iteration_range=(0, full.best_iteration + 1)).astype(np.float64),
    )


def test_monotone_constraint_holds_everywhere():
    features, target = book()
    booster = fit(features, target, monotone=(1, 0, 0))
    grid = features.iloc[np.repeat(np.arange(50), 21)].reset_index(drop=True)
    grid["dti"] = np.tile(np.linspace(0, 1, 21), 50)
    p = predict_pd(booster, grid).reshape(50, 21)
    assert (np.diff(p, axis=1) >= -1e-7).all()
    assert p[:, -1].mean() > p[:, 0].mean()
