import numpy as np
import pandas as pd

from features.spec import load_spec
from features.synthetic import BookOptions, generate_book
from pipelines.evidence.reference import (
    band_codes,
    expected_bands,
    expected_performance,
    reference_columns,
    reference_sample,
)
from tests.conftest import REPO, write_spec


def test_reference_sample_keeps_inputs_target_time_and_sensitive_sources_never_pii(tmp_path):
    spec = load_spec(
        write_spec(tmp_path, REPO / "experiments" / "consumer_loans.yaml", **{"monitoring.reference_rows": 500})
    )
    columns = reference_columns(spec)
    assert {"name", "phone", "national_id", "applicant_id"}.isdisjoint(columns)
    assert {"default_12m", "application_month", "gender", "age", *spec.features.all()} <= set(columns)
    book = generate_book(BookOptions(rows=3000, seed=1))
    train = np.arange(0, 3000, 2)
    sample = reference_sample(book, train, spec)
    assert len(sample) == 500 and list(sample.columns) == columns
    assert sample["income"].isin(book["income"].iloc[train]).all()
    pd.testing.assert_frame_equal(sample, reference_sample(book, train, spec))  # seeded


def test_expected_performance_reads_the_holdout_metrics():
    metrics = {"oot_auc": 0.8, "oot_ks": 0.45, "oot_bad_rate": 0.1, "test_auc": 0.7}
    assert expected_performance(metrics, "oot") == {"holdout": "oot", "auc": 0.8, "ks": 0.45, "bad_rate": 0.1}


def test_expected_bands_count_the_holdout_on_the_reference_score_deciles():
    rng = np.random.default_rng(0)
    reference, holdout = rng.beta(2, 8, 5000), rng.beta(2, 8, 2000)
    y = (rng.random(2000) < holdout).astype(np.int64)
    bands = expected_bands(reference, holdout, y, bins=10)
    assert len(bands["edges"]) == 9 and len(bands["n"]) == len(bands["bads"]) == len(bands["mean_pd"]) == 10
    assert sum(bands["n"]) == 2000 and sum(bands["bads"]) == y.sum()
    assert np.allclose(np.bincount(band_codes(bands["edges"], reference)), 500)  # deciles of the reference
    assert all(low < high for low, high in zip(bands["mean_pd"], bands["mean_pd"][1:]))


def test_expected_performance_keeps_the_bands_when_given():
    bands = {"edges": [0.1], "n": [3, 1], "bads": [0.0, 1.0], "mean_pd": [0.05, 0.4]}
    assert expected_performance({"oot_auc": 0.8}, "oot", bands=bands) == {"holdout": "oot", "auc": 0.8, "bands": bands}
