"""Preparing, training, tuning and evaluating a candidate (pure steps: nothing here touches the tracking store).
Import the step modules directly (workflow, tune, tuning_session, evaluation, challenger): they import XGBoost and
Optuna, which this package's `__init__` does not."""

__all__: list[str] = []
