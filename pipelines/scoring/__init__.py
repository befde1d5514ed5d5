"""Scoring: the scorer that runs inside the logged model, and the batch and Spark engines around it.

Nothing is re-exported here: the scorer imports XGBoost, and this package is also imported by the batch and Spark
engines and the checks that need only one of its modules. Import from the module: `scorer` (`Scorer`, `load_scorer`),
`reasons` (`contributions`, `fit_baseline`, `top_reasons`), `decision` (`declined`, `decision_labels`),
`batch` (`score_chunk`, `read_chunks`) and `spark`.
"""

__all__: list[str] = []
