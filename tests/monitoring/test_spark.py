"""`monitor --engine spark`: Spark counts a window, the same code judges it; the verdict equals the in-process one."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from features.monitoring_spec import MonitoringSpec
from features.synthetic import BookOptions, generate_book
from monitoring.drift import SCORE, Columns, column_drift, quality_table, score_drift, window_counts

pytestmark = pytest.mark.slow
COLUMNS = Columns(["income", "debt_to_income", "open_accounts"], ["region", "channel"])


def frames() -> tuple[pd.DataFrame, pd.DataFrame]:
    reference = generate_book(BookOptions(rows=3000, seed=1))
    window = generate_book(BookOptions(rows=2000, seed=2, drift_income=0.3))
    window.loc[:49, "income"] = np.nan  # missing values
    window.loc[50:59, "region"] = "atlantis"  # an unseen category
    window.loc[60:69, "debt_to_income"] = 99.0  # out of the reference range
    return reference, window


def test_spark_counts_equal_the_in_process_counts_and_give_the_same_verdicts(spark):
    from monitoring.spark import count_window

    reference, window = frames()
    settings = MonitoringSpec()
    rng = np.random.default_rng(0)
    reference_scores, scores = rng.beta(2, 8, len(reference)), rng.beta(2.2, 8, len(window))
    local = window_counts(reference, window, COLUMNS, settings, reference_scores, scores)
    columns = [*COLUMNS.numeric, *COLUMNS.categorical]
    frame = spark.createDataFrame(window[columns].assign(**{SCORE: scores}))
    counted = count_window(frame, reference, reference_scores, COLUMNS, settings)
    assert counted.rows == local.rows
    for column in columns:
        np.testing.assert_array_equal(counted.counts[column], local.counts[column], err_msg=column)
    assert counted.out_of_range == local.out_of_range and counted.out_of_range["debt_to_income"] >= 10
    np.testing.assert_array_equal(counted.score_counts, local.score_counts)
    pd.testing.assert_frame_equal(
        column_drift(reference, window, COLUMNS, settings, counted),
        column_drift(reference, window, COLUMNS, settings, local),
    )
    pd.testing.assert_frame_equal(quality_table(reference, counted, COLUMNS), quality_table(reference, local, COLUMNS))
    assert score_drift(counted, settings) == score_drift(local, settings)
