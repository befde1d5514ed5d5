import json
import math
import re

import numpy as np
import pandas as pd
import pytest
from fairlearn.metrics import MetricFrame, false_positive_rate, selection_rate, true_positive_rate
from sklearn.metrics import roc_auc_score

from pipelines.gates.fairness import (
    INTERVAL_METHOD,
    FairnessPolicy,
    bootstrap_intervals,
    disparity,
    fairness_gate,
    group_metrics,
    metric_name,
    proxy_candidates,
)

CUTOFF = 0.5  # approve when PD < 0.5
# group a (5): approved 3/5; defaulters at PD 0.9 (declined), 0.3 (approved); good payers 0.6 (declined), 0.2, 0.1
# group b (4): approved 2/4; defaulter at 0.7 (declined); good payers 0.7 (declined, tied with it), 0.4, 0.3
# group c (2): approved 0/2 -> would make the ratio 0 if it were judged
Y = [1, 1, 0, 0, 0, 1, 0, 0, 0, 0, 1]
P = [0.9, 0.3, 0.6, 0.2, 0.1, 0.7, 0.7, 0.4, 0.3, 0.9, 0.8]
GROUP = pd.Series(list("aaaaabbbbcc"), name="grp")
MLFLOW_NAME = re.compile(r"^[A-Za-z0-9_\-\. /]+$")


def hand_table() -> pd.DataFrame:
    return group_metrics(Y, P, sensitive=GROUP, cutoff=CUTOFF, min_group_size=3).set_index("grp")


def test_group_metrics_by_hand():
    t = hand_table()
    assert t["n"].tolist() == [5, 4, 2]
    assert t["approval_rate"].tolist() == pytest.approx([3 / 5, 2 / 4, 0.0])
    assert t["default_rate"].tolist() == pytest.approx([2 / 5, 1 / 4, 1 / 2])
    # TPR = defaulters declined / defaulters; FPR = good payers declined / good payers
    assert t["tpr"].tolist() == pytest.approx([1 / 2, 1 / 1, 1 / 1])
    assert t["fpr"].tolist() == pytest.approx([1 / 3, 1 / 3, 1 / 1])
    # a: 0.9 beats 3 good payers, 0.3 beats 2 -> 5/6; b: 0.7 ties 0.7 (1/2) and beats 0.4, 0.3 -> 2.5/3
    # c: the defaulter (0.8) scores below the good payer (0.9) -> 0
    assert t["auc"].tolist() == pytest.approx([5 / 6, 2.5 / 3, 0.0])
    assert t["too_small"].tolist() == [False, False, True]
    assert t["group"].tolist() == ["a", "b", "c"]
    assert t["defaulters"].tolist() == [2, 1, 1] and t["good_payers"].tolist() == [3, 3, 1]
    assert t["too_few_outcomes"].tolist() == [True, True, True]  # under 3 defaulters each


def test_disparity_by_hand_excludes_too_small_groups():
    assert math.isnan(disparity(hand_table().reset_index())["eo_difference"])  # too few defaulters everywhere
    d = disparity(hand_table().reset_index().assign(too_few_outcomes=False))
    assert d["air"] == pytest.approx(0.5 / 0.6)  # c (approval 0) would make it 0
    assert d["dp_difference"] == pytest.approx(0.1)
    assert d["tpr_difference"] == pytest.approx(0.5)
    assert d["fpr_difference"] == pytest.approx(0.0)
    assert d["eo_difference"] == pytest.approx(0.5)
    assert (d["most_favoured"], d["least_favoured"]) == ("a", "b")
    assert (d["n_groups"], d["n_groups_judged"]) == (3, 2)


def test_disparity_when_nobody_or_everybody_is_approved_and_with_one_group():
    table = pd.DataFrame(
        {
            "group": ["a", "b"],
            "approval_rate": [0.0, 0.0],
            "tpr": [1.0, 1.0],
            "fpr": [1.0, np.nan],
            "too_small": [False, False],
        }
    )
    d = disparity(table)
    assert (d["air"], d["dp_difference"], d["eo_difference"]) == (1.0, 0.0, 0.0)  # fpr NaN in b: only TPR counts
    d = disparity(table.assign(approval_rate=1.0, tpr=[0.0, np.nan], fpr=[0.0, 0.0]))
    assert (d["air"], d["dp_difference"], d["eo_difference"]) == (1.0, 0.0, 0.0)
    assert math.isnan(d["tpr_difference"])
    d = disparity(table.assign(too_small=[False, True]))
    assert math.isnan(d["air"]) and math.isnan(d["dp_difference"]) and d["most_favoured"] == ""


def test_group_metrics_agree_with_fairlearn_and_sklearn_on_rows():
    rng = np.random.default_rng(3)
    n = 3000
    y = (rng.random(n) < 0.2).astype(int)
    p = np.round(rng.random(n) * 0.5 + 0.3 * y, 2)  # rounding makes ties
    sf = pd.DataFrame({"sex": rng.choice(["f", "m"], n), "age": rng.choice(["x", "y", "z"], n)})
    table = group_metrics(y, p, sensitive=sf, cutoff=0.4).set_index(["sex", "age"])
    declined = (p >= 0.4).astype(int)
    frame = MetricFrame(
        metrics={"sel": selection_rate, "tpr": true_positive_rate, "fpr": false_positive_rate},
        y_true=y,
        y_pred=declined,
        sensitive_features=sf,
    ).by_group
    np.testing.assert_allclose(table["approval_rate"], 1 - frame["sel"])
    np.testing.assert_allclose(table["tpr"], frame["tpr"])
    np.testing.assert_allclose(table["fpr"], frame["fpr"])
    for (sex, age), row in table.iterrows():
        rows = (sf["sex"] == sex) & (sf["age"] == age)
        assert row["auc"] == pytest.approx(roc_auc_score(y[rows], p[rows]), abs=1e-12)
        assert row["n"] == rows.sum()


def test_intersections_have_only_observed_group_keys():
    sf = pd.DataFrame({"sex": ["f", "f", "m", "m", "f"], "age": ["old", "young", "old", "old", None]})
    t = group_metrics([0, 1, 0, 1, 0], [0.1, 0.9, 0.2, 0.6, 0.3], sensitive=sf, cutoff=CUTOFF, min_group_size=1)
    assert t["group"].tolist() == ["f × missing", "f × old", "f × young", "m × old"]  # no "m × young"
    assert t[["sex", "age"]].values.tolist() == [["f", "missing"], ["f", "old"], ["f", "young"], ["m", "old"]]
    assert t["approval_rate"].tolist() == [1.0, 1.0, 0.0, 0.5]
    assert t["auc"].iloc[3] == 1.0 and t["auc"].iloc[:3].isna().all()  # single-class groups: NaN, no crash


def test_bootstrap_contains_estimate_shrinks_with_size_and_is_seeded():
    policy = FairnessPolicy(min_group_size=3, n_boot=400)
    y, p, g = np.array(Y[:9] * 100), np.array(P[:9] * 100), pd.Series(list("aaaaabbbb") * 100)
    point = disparity(group_metrics(y, p, sensitive=g, cutoff=CUTOFF, min_group_size=3))
    small = bootstrap_intervals(y, p, sensitive=g, cutoff=CUTOFF, policy=policy, seed=1)
    large = bootstrap_intervals(
        np.tile(y, 10), np.tile(p, 10), sensitive=pd.concat([g] * 10), cutoff=CUTOFF, policy=policy, seed=1
    )
    for name in ("air", "dp_difference", "eo_difference"):
        assert small[name][0] <= point[name] <= small[name][1]
        assert large[name][0] <= point[name] <= large[name][1]
        assert large[name][1] - large[name][0] < 0.45 * (small[name][1] - small[name][0])  # ~1/sqrt(10)
    assert bootstrap_intervals(y, p, sensitive=g, cutoff=CUTOFF, policy=policy, seed=1) == small
    assert bootstrap_intervals(y, p, sensitive=g, cutoff=CUTOFF, policy=policy, seed=2) != small
    assert "multinomial" in INTERVAL_METHOD


def test_bootstrap_width_matches_binomial_standard_error():
    # two groups far apart: the dp difference is ~normal with sd sqrt(sum p(1-p)/n)
    n_a, n_b, rate_a, rate_b = 4000, 1000, 0.8, 0.5
    p = np.r_[
        np.repeat([0.1, 0.9], [round(n_a * rate_a), round(n_a * (1 - rate_a))]),
        np.repeat([0.1, 0.9], [round(n_b * rate_b), round(n_b * (1 - rate_b))]),
    ]
    y = np.zeros(p.size, int)
    y[::7] = 1
    g = pd.Series(["a"] * n_a + ["b"] * n_b)
    low, high = bootstrap_intervals(y, p, sensitive=g, cutoff=CUTOFF, policy=FairnessPolicy(n_boot=4000), seed=0)[
        "dp_difference"
    ]
    sd = math.sqrt(rate_a * (1 - rate_a) / n_a + rate_b * (1 - rate_b) / n_b)
    assert (high - low) == pytest.approx(2 * 1.96 * sd, rel=0.1)
    assert (low + high) / 2 == pytest.approx(rate_a - rate_b, abs=0.01)


def test_proxy_candidates_flags_noisy_copies_only():
    rng = np.random.default_rng(0)
    n = 4000
    sex = rng.choice(["f", "m"], n)
    band = rng.choice(["young", "mid", "old"], n)
    is_m = (sex == "m").astype(float)
    features = pd.DataFrame(
        {
            "sex_noisy": is_m + rng.normal(0, 0.5, n),
            "income": rng.normal(0, 1, n),
            "band_noisy": pd.Series(band).map({"young": 0.0, "mid": 1.0, "old": 2.0}) + rng.normal(0, 0.5, n),
            "title": np.where(rng.random(n) < 0.9, sex, np.where(sex == "m", "f", "m")),  # 90% agree with sex
            "applicant_id": [f"id{i}" for i in range(n)],  # unique per row: in-sample shares would give AUC 1
            "region": rng.choice(list("abcdefgh"), n),
        }
    )
    sensitive = pd.DataFrame({"sex": sex, "age_band": band})
    table = proxy_candidates(
        features,
        sensitive=sensitive,
        numeric=["sex_noisy", "income", "band_noisy"],
        categorical=["title", "applicant_id", "region"],
        max_rows=3000,
    )
    auc = table.set_index(["feature", "attribute"])["auc"]
    assert auc["title", "sex"] == pytest.approx(0.9, abs=0.03)
    assert auc["sex_noisy", "sex"] > 0.8
    assert auc["band_noisy", "age_band"] > 0.75  # mid is in the middle: only the macro per-level fold sees it
    flagged = set(table.loc[table["proxy"], ["feature", "attribute"]].itertuples(index=False, name=None))
    assert flagged == {("title", "sex"), ("sex_noisy", "sex"), ("band_noisy", "age_band")}
    assert auc["applicant_id", "sex"] < 0.56 and auc["income", "age_band"] < 0.56
    assert table["auc"].is_monotonic_decreasing and list(table.columns) == ["feature", "attribute", "auc", "proxy"]
    again = proxy_candidates(
        features,
        sensitive=sensitive,
        numeric=["sex_noisy", "income", "band_noisy"],
        categorical=["title", "applicant_id", "region"],
        max_rows=3000,
    )
    pd.testing.assert_frame_equal(table, again)


def gate_data(n_f: int = 100, n_m: int = 100):
    """f approved 60%, m approved 90%; each half of each group defaults."""
    p = np.r_[np.where(np.arange(n_f) < 0.6 * n_f, 0.1, 0.9), np.where(np.arange(n_m) < 0.9 * n_m, 0.1, 0.9)]
    y = np.tile([0, 1], (n_f + n_m) // 2)
    sex = np.r_[["female"] * n_f, ["male"] * n_m]
    age = np.tile(["young", "old", "old", "old"], (n_f + n_m) // 4)
    return y, p, pd.DataFrame({"sex": sex, "age band": age})


def test_gate_reasons_metrics_and_json():
    y, p, sf = gate_data()
    result = fairness_gate(y, p, sensitive=sf, cutoff=CUTOFF, policy=FairnessPolicy(n_boot=50))
    assert not result.verdict.passed
    assert list(result.groupings) == ["sex", "age band", "sex × age band"]
    air_reason = [r for r in result.verdict.reasons if r.startswith("sex: adverse impact ratio")]
    assert air_reason and air_reason[0].startswith(
        "sex: adverse impact ratio 0.667 below 0.80 (female 0.600 vs male 0.900; 95% interval "
    )
    assert any(r.startswith("sex: approval-rate difference 0.300 above 0.10") for r in result.verdict.reasons)
    assert not any(r.startswith("age band") for r in result.verdict.reasons)
    metrics = result.metrics()
    assert all(MLFLOW_NAME.match(k) for k in metrics)
    assert metrics["fairness.sex.air"] == pytest.approx(0.6 / 0.9)
    assert metrics["fairness.sex.air_low"] <= metrics["fairness.sex.air"] <= metrics["fairness.sex.air_high"]
    assert "fairness.sex_x_age band.dp_difference" in metrics and metrics["fairness.passed"] == 0.0
    assert all(isinstance(v, float) and not math.isnan(v) for v in metrics.values())
    data = json.loads(json.dumps(result.to_dict(), allow_nan=False))
    assert data["groupings"]["sex"]["table"][0]["group"] == "female" and data["passed"] is False


def test_gate_passes_within_limits_and_limits_are_inclusive():
    y, p, sf = gate_data()
    policy = FairnessPolicy(
        min_air=0.6 / 0.9, max_dp_difference=0.3, max_eo_difference=0.3, n_boot=20, intersections=False
    )
    result = fairness_gate(y, p, sensitive=sf, cutoff=CUTOFF, policy=policy)
    assert result.verdict.passed, result.verdict.reasons
    assert list(result.groupings) == ["sex", "age band"]
    tighter = FairnessPolicy(min_air=0.67, max_dp_difference=0.3, max_eo_difference=0.3, n_boot=20)
    assert (
        fairness_gate(y, p, sensitive=sf, cutoff=CUTOFF, policy=tighter)
        .verdict.reasons[0]
        .startswith("sex: adverse impact ratio")
    )


def test_gate_edge_conditions_are_notes_not_crashes():
    y, p, sf = gate_data()
    y = np.where(sf["sex"] == "male", 0, y)  # no defaulters among men -> TPR undefined
    y[:100] = 1  # no good payers among women -> FPR undefined
    result = fairness_gate(
        y, p, sensitive=sf, cutoff=CUTOFF, policy=FairnessPolicy(n_boot=20, max_dp_difference=1, min_air=0.1)
    )
    notes = " | ".join(result.verdict.notes)
    assert "sex: TPR/FPR not judged for 2 group(s) under 30 defaulters or good payers: female (100 defaulters" in notes
    assert "male (0 defaulters, 100 good payers)" in notes
    assert "sex: equalized odds not judged: fewer than two groups hold 30 defaulters and 30 good payers" in notes
    assert result.verdict.passed  # nothing judgeable broke a limit


def test_a_cutoff_that_declines_nobody_is_not_assessable_instead_of_passing():
    y, _, sf = gate_data()
    all_approved = fairness_gate(y, np.full(y.size, 0.2), sensitive=sf, cutoff=CUTOFF, policy=FairnessPolicy(n_boot=20))
    assert all_approved.groupings["sex"].disparity["air"] == 1.0  # equal approval rates of 1 ...
    assert not all_approved.verdict.passed  # ... are no evidence of fair decisions
    assert all_approved.verdict.reasons == ["not assessable: the cutoff 0.5 declines nobody"]
    all_declined = fairness_gate(y, np.full(y.size, 0.9), sensitive=sf, cutoff=CUTOFF, policy=FairnessPolicy(n_boot=20))
    assert "not assessable: the cutoff 0.5 declines everybody" in all_declined.verdict.reasons


def test_equalized_odds_is_not_judged_on_a_group_with_two_defaulters():
    # 200 applicants per group: approval rates are judgeable, but group b holds only 2 defaulters, so its TPR
    # (1 of 2 declined = 0.5 against a's 0.9) is noise and must not fail equalized odds
    rng = np.random.default_rng(0)
    y = np.r_[(np.arange(200) < 60).astype(int), (np.arange(200) < 2).astype(int)]
    declined_a = np.r_[np.arange(60) < 54, np.arange(140) < 10]  # TPR 0.9, FPR 0.07
    declined_b = np.r_[[True, False], np.arange(198) < 14]  # TPR 0.5, FPR 0.07
    p = np.where(np.r_[declined_a, declined_b], 0.9, 0.1) + rng.uniform(0, 0.01, 400)
    sf = pd.DataFrame({"region": ["a"] * 200 + ["b"] * 200})
    result = fairness_gate(
        y, p, sensitive=sf, cutoff=CUTOFF, policy=FairnessPolicy(n_boot=20, max_dp_difference=1, min_air=0.1)
    )
    assert result.verdict.passed, result.verdict.reasons
    assert math.isnan(result.groupings["region"].disparity["eo_difference"])
    table = result.groupings["region"].table.set_index("group")
    assert table.loc["b", ["defaulters", "good_payers"]].tolist() == [2, 198]
    assert table["too_few_outcomes"].tolist() == [False, True] and not table["too_small"].any()
    assert any("b (2 defaulters, 198 good payers)" in note for note in result.verdict.notes)


def test_gate_fails_closed_when_an_attribute_has_no_two_judgeable_groups():
    y, p, sf = gate_data(n_f=20, n_m=20)
    result = fairness_gate(y, p, sensitive=sf, cutoff=CUTOFF, policy=FairnessPolicy(n_boot=20, min_group_size=30))
    assert not result.verdict.passed
    assert "sex: no two groups of at least 30 applicants (0 large enough): cannot judge" in result.verdict.reasons
    assert any(
        n.startswith("sex: 2 group(s) under 30 applicants reported but not judged: female (n=20, ")
        for n in result.verdict.notes
    )
    assert result.groupings["sex"].table["n"].tolist() == [20, 20]
    assert math.isnan(result.groupings["sex"].intervals["air"][0])
    json.dumps(result.to_dict(), allow_nan=False)
    assert "fairness.sex.air" not in result.metrics()  # undefined: left out, not logged as NaN


def test_gate_only_notes_an_intersection_too_small_to_judge():
    y, p, sf = gate_data(n_f=40, n_m=40)
    sf = sf.assign(region=np.tile(["north", "south"], 40))  # 40 per level, 20 per sex x region
    policy = FairnessPolicy(n_boot=20, min_group_size=25, min_air=0.1, max_dp_difference=1, max_eo_difference=1)
    result = fairness_gate(y, p, sensitive=sf[["sex", "region"]], cutoff=CUTOFF, policy=policy)
    assert result.verdict.passed, result.verdict.reasons
    assert (
        "sex × region: no two groups of at least 25 applicants (0 large enough): cannot judge" in result.verdict.notes
    )
    assert len(result.groupings["sex × region"].table) == 4


def test_metric_names_and_input_checks():
    assert metric_name("sex × age_band") == "sex_x_age_band"
    assert metric_name("âge:band") == "_ge_band"
    with pytest.raises(ValueError, match="0/1"):
        group_metrics([0, 2], [0.1, 0.2], sensitive=pd.Series(["a", "b"]), cutoff=CUTOFF)
    with pytest.raises(ValueError, match="lengths"):
        group_metrics([0, 1], [0.1], sensitive=pd.Series(["a", "b"]), cutoff=CUTOFF)
    with pytest.raises(ValueError, match="missing or infinite"):
        group_metrics([0, 1], [0.1, np.nan], sensitive=pd.Series(["a", "b"]), cutoff=CUTOFF)
    with pytest.raises(ValueError, match="confidence"):
        FairnessPolicy(confidence=1.0)
