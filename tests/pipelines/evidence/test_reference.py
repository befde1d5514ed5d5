import numpy as np
import pandas as pd

from features.spec import load_spec
from features.synthetic import BookOptions, generate_book
from pipelines.evidence.reference import expected_performance, reference_columns, reference_sample
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
