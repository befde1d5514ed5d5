import numpy as np
import pandas as pd
import pytest

from features.errors import DataError
from features.spec import load_spec
from monitoring.assess import assess, labels_of
from tests.conftest import write_spec


@pytest.fixture
def spec(tmp_path):
    return load_spec(write_spec(tmp_path))


def german_like(spec, n: int, seed: int, shift: float = 0.0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    frame = {c: rng.normal(10 + shift * 10, 10, n) for c in spec.features.numeric}
    frame.update({c: rng.choice(["a", "b", "c"], n) for c in spec.features.categorical})
    return pd.DataFrame(frame)


def test_status_is_the_worst_finding_with_reasons(spec):
    reference = german_like(spec, 4000, 0)
    scores = np.random.default_rng(0).beta(2, 8, 4000)
    same = assess(
        spec, reference, german_like(spec, 4000, 1), scores, np.random.default_rng(1).beta(2, 8, 4000), {}, "w"
    )
    assert same.status == "ok" and same.reasons == [] and same.metrics["status_level"] == 0
    moved = assess(spec, reference, german_like(spec, 4000, 1, shift=1.0), scores, scores, {}, "w")
    assert moved.status == "alert" and moved.reasons[0].startswith("alert: PSI of ")
    assert moved.metrics["drift_share"] == len(spec.features.numeric) / len(spec.features.all())
    assert moved.outcome is None


def test_labels_follow_the_positive_label(spec):
    frame = pd.DataFrame({"creditability": ["bad", "good", "good"]})
    assert labels_of(frame, spec).tolist() == [1, 0, 0]
    assert labels_of(frame.drop(columns="creditability"), spec) is None
    with pytest.raises(DataError, match="labelled on some rows only"):
        labels_of(pd.DataFrame({"creditability": ["bad", None]}), spec)
    with pytest.raises(DataError, match="must be binary"):
        labels_of(pd.DataFrame({"creditability": ["x", "y", "z"]}), spec)
