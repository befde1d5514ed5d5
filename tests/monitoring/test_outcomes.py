import numpy as np

from features.monitoring_spec import OutcomeLimits
from monitoring.outcomes import band_table, outcome_metrics


def labelled(n: int, strength: float, seed: int):
    rng = np.random.default_rng(seed)
    score = rng.beta(2, 8, n)
    y = (rng.random(n) < np.clip(score * strength + 0.1 * (1 - strength), 0, 1)).astype(np.int64)
    return y, score


def test_a_weaker_model_raises_auc_and_ks_findings():
    y, p = labelled(5000, 0.2, 0)
    metrics, findings, notes = outcome_metrics(y, p, {"holdout": "oot", "auc": 0.80, "ks": 0.45}, OutcomeLimits())
    assert metrics["outcome.auc_drop"] > 0.05 and not notes
    assert {level for level, _ in findings} == {"alert"} and "below the registered oot AUC 0.800" in findings[0][1]


def test_too_few_labels_are_reported_not_judged():
    y, p = labelled(50, 1.0, 0)
    metrics, findings, notes = outcome_metrics(y, p, {"auc": 0.8}, OutcomeLimits())
    assert findings == [] and "not judged" in notes[0] and metrics["outcome.n"] == 50


def test_bands_follow_reference_edges():
    ref_y, ref_p = labelled(2000, 1.0, 1)
    y, p = labelled(2000, 1.0, 2)
    edges = list(np.quantile(ref_p, np.linspace(0.1, 0.9, 9)))
    table = band_table(ref_p, ref_y, p, y, edges)
    assert (
        len(table) == 10
        and np.isclose(table["reference_share"].sum(), 1)
        and np.isclose(table["current_share"].sum(), 1)
    )
    assert table["current_bad_rate"].iloc[-1] > table["current_bad_rate"].iloc[0]
