"""The `creditflow` verbs, one module each (`pipelines.cli` loads a verb only when it runs, so `--help` stays
fast): `run` (`run_command`, `tune_command`, `train_command`, `run_pipeline`), `score`, `status`, `review`,
`promote`, `audit`, `generate`, `server`; `options` holds the options they share.

Nothing is re-exported here: a verb imports no other verb, and importing one must not load them all.
"""

__all__: list[str] = []
