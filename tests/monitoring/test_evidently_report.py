import re

import numpy as np
import pandas as pd

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


def test_the_report_draws_a_sample_of_large_windows():
    settings = MonitoringSpec(report_rows=500)
    snapshot = drift_report(sample(0, 1), sample(0, 2), Columns(["x"], ["c"]), settings)
    assert len(snapshot.dict()["metrics"]) == 3  # runs on 500 rows per side without error
