import re

import numpy as np
import pandas as pd
import pytest

from features.monitoring_spec import MonitoringSpec
from monitoring.drift import SCORE, Columns
from pipelines.gates.stability import fit_bins, psi


def sample(shift: float, seed: int, n: int = 3000) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame({"x": rng.normal(shift, 1, n), "c": rng.choice(["a", "b"], n), SCORE: rng.beta(2, 8, n)})


def drift_report(reference, current, columns, settings):
    from monitoring.evidently_report import drift_report as report

    return report(reference, current, reference[SCORE], current[SCORE], columns, settings)


def test_value_drift_uses_the_registered_credit_psi_and_the_report_is_offline(tmp_path):
    reference, current = sample(0, 1), sample(0.5, 2)
    snapshot = drift_report(reference, current, Columns(["x"], ["c"]), MonitoringSpec())
    values = {m["config"]["column"]: (m["config"]["method"], m["value"]) for m in snapshot.dict()["metrics"]}
    assert values["x"][0] == "credit_psi"
    assert np.isclose(values["x"][1], psi(fit_bins(reference["x"], "numeric"), current["x"]))
    assert np.isclose(values["c"][1], psi(fit_bins(reference["c"], "categorical"), current["c"]))
    assert set(values) == {"x", "c", SCORE}
    snapshot.save_html(str(tmp_path / "report.html"))
    html = (tmp_path / "report.html").read_text()
    assert not re.search(r"<script[^>]+src=[\"']https?:", html) and not re.search(r"<link[^>]+href=[\"']https?:", html)


@pytest.fixture
def handed_to_evidently(monkeypatch) -> list[pd.DataFrame]:
    """Every frame the report hands to Evidently (`Dataset.from_pandas`), in order: current, then reference."""
    import evidently

    frames, from_pandas = [], evidently.Dataset.from_pandas

    def spy(data, *args, **kwargs):
        frames.append(data)
        return from_pandas(data, *args, **kwargs)

    monkeypatch.setattr(evidently.Dataset, "from_pandas", spy)
    return frames


def test_the_report_draws_a_sample_of_large_windows(handed_to_evidently):
    settings = MonitoringSpec(report_rows=500)
    reference, current = sample(0, 1), sample(0, 2)
    snapshot = drift_report(reference, current, Columns(["x"], ["c"]), settings)
    assert len(snapshot.dict()["metrics"]) == 3  # runs on 500 rows per side without error
    drawn_current, drawn_reference = handed_to_evidently
    assert (len(drawn_current), len(drawn_reference)) == (500, 500)
    assert list(drawn_reference.columns) == ["x", "c", SCORE]
    # rows of the window, each with its own score, not 500 made-up or misaligned rows
    pairs = drawn_reference.merge(reference, on=["x", "c", SCORE], how="left", indicator=True)
    assert (pairs["_merge"] == "both").all() and not drawn_reference.duplicated().any()
    # the report's values are those of the samples, not of the whole windows
    values = {m["config"]["column"]: m["value"] for m in snapshot.dict()["metrics"]}
    assert np.isclose(values["x"], psi(fit_bins(drawn_reference["x"], "numeric"), drawn_current["x"]))
    assert not np.isclose(values["x"], psi(fit_bins(reference["x"], "numeric"), current["x"]))


def test_the_sample_is_seeded_and_small_windows_are_reported_whole(handed_to_evidently):
    reference, current = sample(0, 1), sample(0, 2)
    for _ in range(2):
        drift_report(reference, current, Columns(["x"], ["c"]), MonitoringSpec(report_rows=500))
    drift_report(reference, current, Columns(["x"], ["c"]), MonitoringSpec(report_rows=5000))
    first, again, whole = handed_to_evidently[1], handed_to_evidently[3], handed_to_evidently[5]
    pd.testing.assert_frame_equal(first, again)
    assert len(whole) == len(reference) == 3000
