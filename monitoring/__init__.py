"""Monitoring of a registered model on recent data: drift, score drift, data quality and, with labels, outcomes.

Nothing is re-exported here: the modules import pandas, Evidently, MLflow or Spark, each loaded by the step
that needs it. Import from the module:

- `monitoring.command`: `monitor` (one window or a backfill); `monitoring.target`: `load_target`;
- `monitoring.cli`: `monitor_command`, the `creditflow monitor` verb;
- `monitoring.assess`: `assess`, `assess_counts` (the verdict); `monitoring.drift`, `monitoring.outcomes`;
- `monitoring.spark`: `monitor_window` on Spark.
"""

__all__: list[str] = []
