"""What a run and a registration record in MLflow (record), the governed policy as evidence (policy), the
monitoring reference (reference), the registry's descriptions (registry_text) and the study (study). Import the
modules directly: they reach MLflow through pipelines/tracking."""

__all__: list[str] = []
