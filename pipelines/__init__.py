"""creditflow's pipeline: build, tune, check, register, govern, score and serve credit-default models.

Nothing is re-exported here: this package is imported by everything below it (the gates, the scorer inside a
logged model), which must not pay for the CLI's imports. Import from the module or subpackage:

- `pipelines.cli`: `main`, the `creditflow` command, and `pipelines.commands` (one module per verb);
- `pipelines.core`: records, tags, the audit trail and the clock (no dependencies);
- `pipelines.gates`, `pipelines.training`, `pipelines.evidence`, `pipelines.reports`: the run of a spec;
- `pipelines.governance`: review, exceptions, promotion and the audit trail; `pipelines.server`: the team server;
- `pipelines.tracking`: the MLflow adapter; `pipelines.scoring`: batch and Spark scoring;
- `pipelines.progress` (`Progress`), `pipelines.owner`, `pipelines.runtime`: process-level helpers.
"""

__all__: list[str] = []
