import numpy as np
import pandas as pd

from features.monitoring_spec import MonitoringSpec
from monitoring.drift import (
    Columns,
    column_drift,
    drift_share,
    quality_table,
    quality_warnings,
    score_drift,
    window_counts,
)

COLUMNS = Columns(["x"], ["c"])


def counted(reference, current, settings=None, reference_scores=None, scores=None):
    """The window's counts on the reference's bins (the in-process engine)."""
    settings = settings or MonitoringSpec()
    reference_scores = np.linspace(0, 1, len(reference)) if reference_scores is None else reference_scores
    scores = np.linspace(0, 1, len(current)) if scores is None else scores
    return window_counts(reference, current, COLUMNS, settings, reference_scores, scores)


def drift(reference, current, settings=None):
    settings = settings or MonitoringSpec()
    return column_drift(reference, current, COLUMNS, settings, counted(reference, current, settings))


def frames(shift: float = 0.0, seed: int = 0, n: int = 20_000):
    rng = np.random.default_rng(seed)
    reference = pd.DataFrame({"x": rng.normal(0, 1, n), "c": rng.choice(["a", "b", "c"], n, p=[0.5, 0.3, 0.2])})
    rng = np.random.default_rng(seed + 1)
    current = pd.DataFrame({"x": rng.normal(shift, 1, n), "c": rng.choice(["a", "b", "c"], n, p=[0.5, 0.3, 0.2])})
    return reference, current


def test_same_distribution_is_ok_and_a_shift_alerts_on_its_column():
    table = drift(*frames())
    assert set(table["status"]) == {"ok"} and drift_share(table) == 0
    table = drift(*frames(shift=1.0))
    assert table.set_index("column").loc["x", "status"] == "alert"
    assert table.set_index("column").loc["c", "status"] == "ok"
    assert drift_share(table) == 0.5


def test_a_column_can_use_an_evidently_method_with_its_threshold():
    settings = MonitoringSpec.model_validate(
        {"drift": {"columns": {"x": "wasserstein"}, "thresholds": {"wasserstein": 0.5}}}
    )
    row = drift(*frames(shift=0.3), settings).set_index("column").loc["x"]
    assert row["method"] == "wasserstein" and row["alert"] == 0.5
    assert 0.2 < row["value"] < 0.4 and row["status"] == "ok"  # normed Wasserstein of a 0.3 sd shift
    row = drift(*frames(shift=1.0), settings).set_index("column").loc["x"]
    assert row["status"] == "alert"


def test_score_drift_uses_the_score_levels():
    rng = np.random.default_rng(0)
    settings = MonitoringSpec.model_validate({"score": {"warn": 0.01, "alert": 0.5}})
    reference, current = frames(n=10_000)
    counts = counted(reference, current, settings, rng.beta(2, 8, 10_000), rng.beta(2.5, 8, 10_000))
    result = score_drift(counts, settings)
    assert result["status"] == "warn" and 0.01 <= result["value"] < 0.5


def test_quality_flags_missing_new_categories_and_out_of_range_values():
    reference, current = frames(n=1000)
    current.loc[:99, "x"] = np.nan
    current.loc[100:149, "x"] = 99.0
    current.loc[150:169, "c"] = "zz"
    table = quality_table(reference, counted(reference, current), COLUMNS).set_index("column")
    assert table.loc["x", "missing_current"] == 0.1 and 0.05 <= table.loc["x", "out_of_range_share"] < 0.06
    assert table.loc["c", "new_category_share"] == 0.02
    warnings = quality_warnings(table.reset_index(), MonitoringSpec())
    assert len(warnings) == 3 and any("unseen in the reference" in w for w in warnings)
