"""Fairness with a human in the loop (issue 25, item 2): refer rates by group beside approval rates; a band that
sends one group to people far more often is a finding."""

from __future__ import annotations

from pathlib import Path

import mlflow
import numpy as np
import pandas as pd

from pipelines.gates.refer_fairness import judge
from pipelines.reports.review_page import CARD_PATH


def test_a_band_that_refers_one_group_far_more_often_is_a_finding():
    groups = pd.DataFrame({"sex": ["female"] * 100 + ["male"] * 100, "tiny": ["a"] * 199 + ["b"]})
    even = np.array(([0] * 70 + [2] * 10 + [1] * 20) * 2, dtype=np.int8)
    fair = judge(even, groups, limit=0.10, min_group_size=30)
    assert not fair.findings and any("refer rates by sex: " in n for n in fair.notes)
    assert any("refer rates by tiny: fewer than two groups" in n for n in fair.notes)
    row = fair.table.query("attribute == 'sex' and group == 'female'").iloc[0]
    assert (row["approve_rate"], row["refer_rate"], row["decline_rate"]) == (0.7, 0.1, 0.2)

    skewed = np.array([0] * 50 + [2] * 40 + [1] * 10 + [0] * 80 + [2] * 5 + [1] * 15, dtype=np.int8)
    unfair = judge(skewed, groups, limit=0.10, min_group_size=30)
    assert unfair.findings == [
        "refer rates by sex: female 40.0% against male 5.0% (difference 0.350, policy limit 0.1): the refer band "
        "sends one group to underwriters far more often"
    ]
    assert abs(unfair.metrics["fairness.refer.sex.rate_difference"] - 0.35) < 1e-9


def test_the_registered_version_keeps_refer_rates_by_group(governed):
    client = mlflow.MlflowClient()
    run_id = client.get_model_version("german_credit", "1").run_id
    path = client.download_artifacts(run_id, "fairness/refer_rates.csv")
    table = pd.read_csv(path)
    assert set(table["attribute"]) == {"sex", "age_band", "foreign_worker"}
    rates = table[["approve_rate", "refer_rate", "decline_rate"]].sum(axis=1)
    assert np.allclose(rates, 1.0) and (table["refer_rate"] > 0).any()
    card = Path(client.download_artifacts(run_id, CARD_PATH)).read_text()
    assert "Three decisions: approve, refer, decline. Applicants with a probability of default in [0.45, 0.55)" in card
