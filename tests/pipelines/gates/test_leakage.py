"""The leakage screen: single-feature AUC, within-class constancy, contribution share, baseline uplift; reviewed
features pass."""

import numpy as np
import pandas as pd

from features.validation_spec import LeakagePolicy
from pipelines.gates.leakage import screen_data, screen_model, single_feature_auc, within_class_share


def book(n=4000, seed=0):
    rng = np.random.default_rng(seed)
    dti = rng.uniform(0, 1, n)
    y = (rng.random(n) < 0.05 + 0.25 * dti).astype(int)
    frame = pd.DataFrame(
        {
            "dti": dti,
            "region": rng.choice(["north", "south", "east"], n),
            "applicant_ref": [f"R{i}" for i in range(n)],  # unique per row: must not look predictive
            "delinquencies": rng.poisson(0.1 + 0.2 * y),  # sparse but honest
            "spend_after_approval": np.where(y == 1, rng.normal(100, 30, n), rng.normal(900, 200, n)),
            "recoveries": np.where(y == 1, rng.gamma(2, 300, n), 0.0),  # filled in only after a default
        }
    )
    return frame, y


def screen(reviewed=None, **policy):
    frame, y = book()
    return screen_data(
        frame[:3000], y[:3000], frame[3000:], y[3000:], policy=LeakagePolicy(**policy), reviewed=reviewed or {}
    )


def test_post_decision_fields_are_found_and_ordinary_ones_are_not():
    result = screen()
    found = {(f.feature, f.check) for f in result.findings}
    assert ("spend_after_approval", "single_feature_auc") in found
    assert ("recoveries", "within_class_share") in found
    assert not {f.feature for f in result.findings} & {"dti", "region", "applicant_ref", "delinquencies"}
    assert not result.passed
    assert any(r.startswith("leakage: 'spend_after_approval' alone ranks defaults with AUC") for r in result.reasons())
    recoveries = [f for f in result.findings if f.check == "within_class_share"][0]
    assert "is '0.0' for 100.0% of good payers but only 0.0% of defaulters" in recoveries.sentence()


def test_a_reviewed_feature_is_shown_but_does_not_fail():
    reviewed = {"spend_after_approval": "pre-approval spend", "recoveries": "known at application"}
    result = screen(reviewed)
    assert result.passed and result.reasons() == []
    assert any("reviewed: pre-approval spend" in line for line in result.acknowledged())
    assert result.findings_table()["reviewed"].str.len().gt(0).all()


def test_single_feature_auc_is_out_of_sample_for_categories():
    frame, y = book()
    ids = frame["applicant_ref"]
    assert single_feature_auc(ids[:3000], y[:3000], ids[3000:], y[3000:]) == 0.5
    assert single_feature_auc(frame["dti"][:3000], y[:3000], frame["dti"][3000:], y[3000:]) > 0.6


def test_within_class_share_needs_the_other_class_to_differ():
    y = np.array([0] * 95 + [1] * 5)
    sparse = pd.Series([0] * 95 + [0, 0, 0, 1, 0])  # 0 for every good payer and most defaulters: honest
    assert within_class_share(sparse, y) == (0.0, "")


def test_the_model_checks_name_the_feature_the_model_leans_on():
    data = screen(max_single_feature_auc=1.0, max_within_class_share=1.0, post_decision_terms=[])
    assert data.findings == []
    importance = pd.DataFrame({"feature": ["spend_after_approval", "dti"], "mean_abs_contribution": [3.0, 1.0]})
    result = screen_model(data, importance, uplift=0.08, max_uplift=0.05, policy=LeakagePolicy(), reviewed={})
    assert [(f.feature, f.check) for f in result.findings] == [
        ("spend_after_approval", "contribution_share"),
        ("spend_after_approval", "baseline_uplift"),
    ]
    assert "carries 75% of the model's total contribution (limit 50%)" in result.reasons()[0]
    assert result.metrics()["leakage.unreviewed"] == 2.0
    calm = screen_model(
        data,
        importance.assign(mean_abs_contribution=[1.0, 1.0]),
        uplift=0.01,
        max_uplift=0.05,
        policy=LeakagePolicy(),
        reviewed={},
    )
    assert calm.passed


def test_within_class_share_counts_values_as_their_text_would():
    """Counted by codes, judged as the text of the values: missing is a value, ties go to the text sorting first."""
    import numpy as np
    import pandas as pd

    from pipelines.gates.leakage import within_class_share

    y = np.array([1, 1, 1, 1, 0, 0, 0, 0, 0, 0])
    values = pd.Series([np.nan, np.nan, 2.0, 2.0, 1.0, 1.0, 1.0, 3.0, 3.0, 3.0])  # defaulters: NaN and 2.0 tie
    share, detail = within_class_share(values, y)
    assert share == 0.5 and detail == "is '2.0' for 50.0% of defaulters but only 0.0% of good payers"
    categories = pd.Series(pd.Categorical(["b", "b", "b", None, "a", "a", "a", "a", "b", None]))
    share, detail = within_class_share(categories, y)
    assert share == 0.75 and detail.startswith("is 'b' for 75.0% of defaulters")


def test_repayment_facts_that_rank_defaults_only_moderately_are_found_by_their_names():
    """The issue's Lending-Club book: principal and late fees paid after the loan was granted rank defaults under the
    single-feature limit, so only their names say when they were recorded."""
    from features.synthetic import BookOptions, generate_book

    frame = generate_book(BookOptions(rows=4000, seed=2, post_decision=True))
    columns, y = ["income", "principal_paid", "late_fees_paid"], frame["default_12m"].to_numpy()
    features = frame[columns]
    result = screen_data(
        features[:3000], y[:3000], features[3000:], y[3000:], policy=LeakagePolicy(), reviewed={},
        reasons={"income": "Income level", "principal_paid": "Principal paid", "late_fees_paid": "Late fees paid"},
    )  # fmt: skip
    assert {(f.feature, f.check) for f in result.findings} == {
        ("principal_paid", "post_decision_name"),
        ("late_fees_paid", "post_decision_name"),
    }
    assert result.table["single_feature_auc"].max() < LeakagePolicy().max_single_feature_auc
    assert any("'paid' in 'principal_paid'" in reason for reason in result.reasons())


def test_a_reason_text_describing_the_loan_after_the_decision_is_found_and_words_are_whole():
    frame, y = book()
    features = frame[["dti", "region"]].rename(columns={"dti": "unpaid_bills_ratio"})
    reasons = {"unpaid_bills_ratio": "Unpaid bills relative to income", "region": "Sent to collections"}
    result = screen_data(
        features[:3000], y[:3000], features[3000:], y[3000:], policy=LeakagePolicy(), reviewed={}, reasons=reasons
    )
    assert [(f.feature, f.check) for f in result.findings] == [("region", "post_decision_name")]
    assert "reason text describing the loan after the decision ('collections' in 'Sent to collections')" in (
        result.findings[0].sentence()
    )
    reviewed = screen_data(
        features[:3000], y[:3000], features[3000:], y[3000:], policy=LeakagePolicy(), reasons=reasons,
        reviewed={"region": "the branch's region, recorded at application"},
    )  # fmt: skip
    assert reviewed.passed
