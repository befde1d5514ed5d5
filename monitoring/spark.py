"""`creditflow monitor --engine spark`: a window too large for one machine, reduced to counts by Spark.

Spark reads the window, scores it with the registered model (MLflow's `spark_udf`, as `score --engine spark`)
and counts, in one pass, every input column's rows per reference bin (deciles or levels, missing, unseen
categories), the values outside the reference range, and the score per reference score decile. The verdict is
then the in-process engine's own code on those counts (`monitoring.assess.assess_counts`, the PSI of
`pipelines/gates/stability.py`). A seeded sample of `monitoring.report_rows` rows comes back to the driver for
the Evidently report and for columns judged by an Evidently stat test. Outcomes (labels) are not assessed by
this engine. pyspark is imported only here and in pipelines/scoring/spark.py.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from features.errors import DataError
from features.monitoring_spec import MonitoringSpec
from monitoring.drift import SCORE, Columns, WindowCounts, reference_bins, reference_range
from monitoring.inputs import columns_of, validate
from monitoring.windows import is_month
from pipelines.gates.stability import Bins, fit_bins

if TYPE_CHECKING:
    from monitoring.assess import Assessment

log = logging.getLogger("creditflow")
OUTCOMES_NOTE = "outcomes (labels) are assessed by the in-process engine only: run without --engine spark"


def window_frame(spark: Any, path: str, numeric: list[str], columns: list[str], time: str | None, label: str) -> Any:
    """The window's rows as a Spark DataFrame: the Parquet input (model columns checked), filtered to month
    `label` on the time column when the data has one."""
    from pyspark.sql import functions as F
    from pyspark.sql.types import NumericType

    from pipelines.scoring.spark import read_input

    frame = read_input(spark, path, columns)
    wrong = [c for c in numeric if not isinstance(frame.schema[c].dataType, NumericType)]
    if wrong:
        raise DataError(f"window {label}: column(s) {', '.join(wrong)} must be numeric")
    if time and time in frame.columns and is_month(label):
        frame = frame.where(_month(F, frame.schema[time].dataType, F.col(time)) == label)
    return frame


def _month(F: Any, kind: Any, column: Any) -> Any:
    from pyspark.sql.types import DateType, LongType, TimestampNTZType, TimestampType

    if isinstance(kind, LongType):  # pandas' nanosecond timestamps, read as longs (see spark_session)
        column = F.timestamp_micros(F.floor(column / 1000).cast("long"))
    elif not isinstance(kind, (DateType, TimestampType, TimestampNTZType)):
        column = F.to_timestamp(column)
    return F.date_format(column, "yyyy-MM")


def count_window(
    frame: Any, reference: pd.DataFrame, reference_scores: np.ndarray, columns: Columns, settings: MonitoringSpec
) -> WindowCounts:
    """One Spark aggregation: rows, per-bin counts of every input column and the score, out-of-range values."""
    from pyspark.sql import functions as F

    bins = reference_bins(reference, columns, settings)
    score_bins = fit_bins(pd.Series(reference_scores, name=SCORE), "numeric", n_bins=settings.score.bins)
    ranges = {column: reference_range(reference[column]) for column in columns.numeric}
    expressions = [F.count(F.lit(1)).alias("rows")]
    for column, column_bins in [*bins.items(), (SCORE, score_bins)]:
        expressions += _bin_expressions(F, column, column_bins)
    for column, (low, high) in ranges.items():
        value = F.col(f"`{column}`").cast("double")  # NaN compares above every number in Spark: leave it out
        expressions.append(_count(F, ~F.isnan(value) & ((value < low) | (value > high)), f"{column}__out"))
    totals = frame.agg(*expressions).first().asDict()
    rows = int(totals["rows"])
    if rows == 0:
        raise DataError("the window has no rows")
    counts = {column: _counts(totals, column, len(b.expected)) for column, b in bins.items()}
    out = {column: int(totals[f"{column}__out"] or 0) for column in ranges}
    return WindowCounts(rows, bins, counts, out, score_bins, _counts(totals, SCORE, len(score_bins.expected)))


def _bin_expressions(F: Any, column: str, bins: Bins) -> list[Any]:
    """Counts per bin in `bin_counts` order: numeric (-inf, e0], ..., (e_last, inf), missing; categorical each
    reference level (as text), other, missing."""
    if bins.kind == "numeric":
        value = F.col(f"`{column}`").cast("double")
        missing = value.isNull() | F.isnan(value)
        edges = bins.edges or []
        above = [F.lit(True), *(value > edge for edge in edges)]  # NaN is missing, never in a value bin
        at_or_below = [*(value <= edge for edge in edges), F.lit(True)]
        conditions = [~missing & low & high for low, high in zip(above, at_or_below)]
    else:
        text = F.col(f"`{column}`").cast("string")
        missing = text.isNull()
        known = bins.categories or []
        conditions = [text == level for level in known] + [~missing & ~text.isin(known)]
    return [_count(F, condition, f"{column}__{i}") for i, condition in enumerate([*conditions, missing])]


def _count(F: Any, condition: Any, name: str) -> Any:
    return F.sum(F.when(condition, 1).otherwise(0)).alias(name)


def _counts(totals: dict, column: str, size: int) -> np.ndarray:
    return np.array([int(totals[f"{column}__{i}"] or 0) for i in range(size)], dtype=np.int64)


def with_score(frame: Any, udf: Any, features: list[str]) -> Any:
    """The window with the model's probability of default (no reason codes: monitoring needs the score only)."""
    from pyspark.sql import functions as F

    return frame.withColumn(SCORE, udf(F.struct(*features)).getField("probability_of_default"))


def sample_rows(frame: Any, rows: int, *, limit: int, seed: int) -> pd.DataFrame:
    """At most `limit` seeded rows of the window, on the driver (for the Evidently report and stat tests)."""
    share = min(1.0, 1.2 * limit / max(rows, 1))
    sample = frame.sample(fraction=share, seed=seed) if share < 1.0 else frame
    return sample.limit(limit).toPandas()


def judge_window(tracker: Any, target: Any, path: str, label: str) -> tuple[Assessment, pd.DataFrame, np.ndarray]:
    """One window (`target` is monitoring.target's Target) judged here: counts by Spark, the verdict by the
    in-process code. Returns (verdict, the driver's sample, its scores): monitoring.command logs and tags it
    as it does every window, so this engine never needs the command module."""
    from monitoring.assess import assess_counts
    from pipelines.scoring.spark import spark_session
    from pipelines.tracking.spark_udf import model_udf

    spec, settings = target.spec, target.spec.monitoring
    session = spark_session()
    frame = window_frame(session, path, spec.features.numeric, spec.features.all(), spec.data.time, label)
    frame = with_score(
        frame, model_udf(tracker, session, target.version.source, reason_method="none"), spec.features.all()
    )
    log.info("window %s: counting on Spark", label)
    counts = count_window(frame, target.reference, target.reference_scores, columns_of(spec), settings)
    sample = sample_rows(frame, counts.rows, limit=settings.report_rows, seed=settings.seed)
    scores = sample[SCORE].to_numpy(np.float64)
    sample = validate(sample.drop(columns=[SCORE]), spec, f"window {label}")
    result = assess_counts(
        spec, target.reference, target.reference_scores, counts, sample, scores, target.expected, label, outcomes=False
    )
    if spec.data.target in frame.columns:
        result.notes.append(OUTCOMES_NOTE)
    return result, sample, scores
