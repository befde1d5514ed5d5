"""The registered credit model as a Spark UDF: MLflow's `spark_udf` over the same pyfunc model that `score`
applies in-process, run by Spark's Python workers partition by partition.

With `env_manager="local"` the driver downloads the model once and ships its files to the executors, which
load it in their own Python (creditflow and its pinned libraries must be installed there). The struct result
type (`result_type=None`) carries every output column of the model's signature; a plain type would keep only
the leftmost one. Each task runs XGBoost on one OpenMP thread: Spark already runs one task per core.
"""

from __future__ import annotations

from typing import Any

import mlflow

from pipelines.tracking.common import Connection

WORKER_ENV = {"OMP_NUM_THREADS": "1", "OMP_WAIT_POLICY": "PASSIVE"}
# without reason codes the model returns two columns; the signature's struct would ask for the reasons too
WITHOUT_REASONS = "probability_of_default double, decision string"


def model_udf(
    connection: Connection, spark: Any, model_source: str, *, reason_method: str, all_reasons: bool = False
) -> Any:
    """A pandas UDF returning a struct of the model's outputs (PD, decision, reason_1..4) for a struct of its
    input columns. Never `mlflow.spark.autolog` (it downloads a jar)."""
    return connection._guard(
        lambda: mlflow.pyfunc.spark_udf(
            spark,
            model_source,
            result_type=WITHOUT_REASONS if reason_method == "none" else None,
            env_manager="local",
            params={"reason_method": reason_method, "all_reasons": all_reasons},
            extra_env=WORKER_ENV,
        )
    )
