"""The model's inputs, independent of MLflow and of the rest of creditflow: the spec, the data and its contract.

Nothing is re-exported here: every module below imports pandas or pydantic, and `features` is imported by the
lightest code (the scorer inside a logged model, `creditflow --help`). Import from the module:

- `features.spec`: `load_spec`, `Spec` (and `features.policy`, the governed policy it merges);
- `features.data`: `load_data`, `read_table`, `write_table`; `features.contract`: `check_contract`;
- `features.split`: `split_rows`; `features.transform`: `FeatureTransform` (what the scorer applies);
- `features.synthetic`: the consumer-loans generator;
- `features.errors`: `CreditflowError` and its kinds (no dependencies).
"""

__all__: list[str] = []
