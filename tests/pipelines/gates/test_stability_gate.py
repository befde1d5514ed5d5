import numpy as np
import pandas as pd
import pytest

from features.spec import StabilityPolicy
from pipelines.gates.stability import stability_gate
from pipelines.training.evaluation import evaluate_candidate
from pipelines.training.workflow import prepare, train_candidate
from tests.conftest import GERMAN_SPEC, write_spec


def frame(rows, shift=0.0, seed=0):
    rng = np.random.default_rng(seed)
    return pd.DataFrame({"income": rng.normal(shift, 1, rows), "region": rng.choice(["n", "s"], rows)})


def test_shifted_characteristic_fails_and_is_named():
    reference, current = frame(5000), frame(5000, shift=1.0, seed=1)
    scores = np.random.default_rng(2).uniform(size=5000)
    result = stability_gate(
        reference,
        scores,
        {"oot": (current, scores)},
        numeric=["income"],
        categorical=["region"],
        policy=StabilityPolicy(),
    )
    assert not result.passed
    assert result.reasons == [
        f"oot: CSI of income {result.tables['stability_oot'].set_index('characteristic').psi['income']:.3f} "
        "at or above alert 0.25"
    ]
    assert result.metrics["oot_score_psi"] == 0.0
    table = result.tables["stability_oot"]
    assert list(table["characteristic"]) == ["(score)", "income", "region"]
    assert table.set_index("characteristic").status.to_dict() == {"(score)": "ok", "income": "alert", "region": "ok"}


def test_half_sd_shift_warns_but_passes():
    reference, current = frame(20000), frame(20000, shift=0.5, seed=1)
    scores = np.random.default_rng(2).uniform(size=20000)
    result = stability_gate(
        reference,
        scores,
        {"test": (current, scores)},
        numeric=["income"],
        categorical=["region"],
        policy=StabilityPolicy(),
    )
    assert result.passed and len(result.warnings) == 1 and "CSI of income" in result.warnings[0]


@pytest.mark.slow  # prepares, trains and evaluates two candidates
def test_random_split_is_stable_and_drifted_book_is_not(tmp_path):
    prepared = prepare(write_spec(tmp_path))
    evaluation = evaluate_candidate(prepared, train_candidate(prepared))
    assert evaluation.result("stability").passed
    drifted = write_spec(
        tmp_path,
        GERMAN_SPEC.parent / "consumer_loans.yaml",
        **{"data.synthetic.rows": 6000, "data.synthetic.drift_utilisation": 0.6},
    )
    prepared = prepare(drifted)
    evaluation = evaluate_candidate(prepared, train_candidate(prepared))
    stability = evaluation.result("stability")
    assert not stability.passed
    assert any("oot: CSI of revolving_utilisation" in r for r in stability.findings)
    assert evaluation.metrics["oot_max_csi"] >= 0.25
