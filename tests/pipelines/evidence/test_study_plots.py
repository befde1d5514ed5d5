"""The study's plots: a one-trial study (`run --trials 1`) gets its history and no importance plot, without the
warning Optuna gives when asked for importances of one trial."""

from __future__ import annotations

import warnings

import optuna

from pipelines.evidence.study import record_study_plots


class Images:
    def __init__(self) -> None:
        self.paths: list[str] = []

    def image(self, data: bytes, path: str) -> None:
        self.paths.append(path)


def study_of(trials: int) -> optuna.Study:
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=1))
    study.optimize(lambda t: (t.suggest_float("x", 0, 1) - 0.3) ** 2 + t.suggest_float("y", 0, 1), n_trials=trials)
    return study


def test_one_trial_draws_the_history_only_and_warns_nothing():
    run = Images()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        warnings.filterwarnings("ignore", category=optuna.exceptions.ExperimentalWarning)  # as the CLI does
        record_study_plots(run, study_of(1))  # type: ignore[arg-type]
    assert run.paths == ["tuning/optimization_history.png"]


def test_two_trials_draw_the_importances_too():
    run = Images()
    record_study_plots(run, study_of(3))  # type: ignore[arg-type]
    assert run.paths == ["tuning/optimization_history.png", "tuning/param_importances.png"]
