"""The input check of a scored batch (issue 28, item 3): per feature, against the version's reference sample."""

import pandas as pd

from features.policy import InputLimits
from pipelines.scoring.input_check import InputProfile, findings, reference_of

REFERENCE = pd.DataFrame(
    {"amount": [100.0, 200.0, 300.0, None], "purpose": ["car", "car", "tv", "furniture"], "age": [20, 30, 40, 50]}
)


def profile_of(batch: pd.DataFrame):
    reference = reference_of(REFERENCE, numeric=["amount", "age"], categorical=["purpose"])
    profile = InputProfile()
    for start in range(0, len(batch), 3):  # chunk by chunk, as `score` reads
        profile.add(batch.iloc[start : start + 3], reference)
    return profile, reference


def test_a_feature_empty_in_every_row_is_refused_and_only_warned_without_a_refusal_limit():
    batch = pd.DataFrame({"amount": [None] * 10, "purpose": ["car"] * 10, "age": [25] * 10})
    profile, reference = profile_of(batch)
    strict = findings(profile, reference, InputLimits(missing_refuse=0.5), declined=2, holdout_rate=0.2)
    assert [(f.feature, f.measure, f.level) for f in strict] == [("amount", "missing", "refuse")]
    assert strict[0].line() == "refuse: amount: 100.0% missing (reference 25.0%)"
    lenient = findings(profile, reference, InputLimits(), declined=2, holdout_rate=0.2)
    assert [(f.feature, f.level) for f in lenient] == [("amount", "warn")]


def test_unseen_categories_out_of_range_numbers_and_a_decline_jump_are_measured():
    batch = pd.DataFrame(
        {"amount": [150.0] * 10, "purpose": ["car"] * 8 + ["yacht"] * 2, "age": [30] * 7 + [99, 5, 120]}
    )
    profile, reference = profile_of(batch)
    assert profile.unseen == {"purpose": 2} and profile.out_of_range == {"amount": 0, "age": 3}
    found = findings(profile, reference, InputLimits(), declined=6, holdout_rate=0.2)
    assert {(f.feature, f.measure, f.level) for f in found} == {
        ("purpose", "unseen", "warn"),
        ("age", "out_of_range", "warn"),
        ("decline_rate", "decline_rate", "warn"),
    }


def test_a_batch_like_the_reference_has_no_findings():
    profile, reference = profile_of(REFERENCE.fillna({"amount": 150.0}))
    assert findings(profile, reference, InputLimits(missing_refuse=0.5), declined=1, holdout_rate=0.25) == []
