"""Batch scoring on Spark, for books beyond one machine: Parquet in, partitioned Parquet out.

The same registered model as the in-process engine (`pipelines/scoring/batch.py`), applied through MLflow's
`spark_udf` (pipelines/tracking/spark_udf.py): every partition is scored by the pyfunc model in a Python worker.
pyspark is imported only here and in monitoring/spark.py, and only when `--engine spark` is asked for.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

from features.errors import DataError
from pipelines.scoring.scorer import OUTPUT_COLUMNS

SCORED = "_creditflow_scored"
INSTALL_HINT = "the Spark engine needs pyspark: pip install -e '.[spark]' (and Java 17)"


def spark_session(app: str = "creditflow") -> Any:
    """The active Spark session (spark-submit, a managed cluster), else a local one on every core.

    Python workers get one OpenMP thread each and a passive wait policy: Spark runs one task per core already.
    """
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        raise DataError(INSTALL_HINT) from None
    # a local session's Python workers run this interpreter (its venv holds the model's libraries)
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    session = SparkSession.getActiveSession() or (
        SparkSession.builder.appName(app)
        .config("spark.executorEnv.OMP_NUM_THREADS", "1")
        .config("spark.executorEnv.OMP_WAIT_POLICY", "PASSIVE")
        .config("spark.ui.showConsoleProgress", "false")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    # pandas writes nanosecond timestamps, which Spark refuses to read unless they come as longs (ns since 1970)
    session.conf.set("spark.sql.legacy.parquet.nanosAsLong", "true")
    session.conf.set("spark.sql.execution.arrow.pyspark.enabled", "true")
    return session


def read_input(spark: Any, path: str, columns: list[str]) -> Any:
    """A Parquet file or folder as a Spark DataFrame; DataError when unreadable or without the `columns` wanted."""
    from py4j.protocol import Py4JJavaError
    from pyspark.errors import PySparkException

    if not Path(path).exists() and "://" not in path:
        raise DataError(f"input not found: {path}")
    try:
        frame = spark.read.parquet(path)
    except (PySparkException, Py4JJavaError) as exc:
        reason = str(exc).strip().splitlines()[0][:300]
        raise DataError(f"cannot read {path} as Parquet with Spark: {reason}") from None
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise DataError(f"input does not match the model: missing column(s) {', '.join(missing)}")
    return frame


def score_frame(frame: Any, udf: Any, features: list[str], id_column: str | None) -> Any:
    """The id column (when present), then PD, decision and reason columns: the in-process engine's output."""
    from pyspark.sql import functions as F

    keep = [id_column] if id_column and id_column in frame.columns else []
    scored = frame.select(*keep, udf(F.struct(*features)).alias(SCORED))
    fields = [f.name for f in scored.schema[SCORED].dataType.fields]
    return scored.select(*keep, *[_output(F, name) for name in OUTPUT_COLUMNS if name in fields])


def _output(F: Any, name: str) -> Any:
    """One output field; spark_udf turns a missing reason (fewer than four raised the risk) into the text "None"."""
    column = F.col(f"{SCORED}.{name}")
    if name.startswith("reason_"):
        column = F.when(column == "None", F.lit(None)).otherwise(column)
    return column.alias(name)


def check_output(path: str) -> None:
    if Path(path).exists():
        raise DataError(f"output already exists: {path} (the Spark engine writes a new folder)")


def write_output(frame: Any, path: str) -> tuple[int, int, int]:
    """Write Parquet part files under `path` (a new folder); return (rows, declined, referred) read back."""
    from pyspark.sql import functions as F

    check_output(path)
    frame.write.parquet(path)
    written = frame.sparkSession.read.parquet(path)
    counts = written.agg(
        F.count(F.lit(1)),
        F.sum((F.col("decision") == "decline").cast("long")),
        F.sum((F.col("decision") == "refer").cast("long")),
    ).first()
    return int(counts[0]), int(counts[1] or 0), int(counts[2] or 0)
