"""Approve, refer, decline (issue 25, item 1): the policy's refer band and uncertainty rules, decided by the one
decision rule, in the spec, the scorer, `score` and the logged model."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from features.errors import SpecError
from features.spec import load_spec
from pipelines.cli import cli
from pipelines.scoring.decision import ReferRule, decision_labels, refer_rule
from tests.conftest import write_policy, write_spec


def test_the_band_refers_between_its_edges_and_uncertain_rows_anywhere():
    rule = refer_rule(0.5, below=0.05, above=0.05)
    p = np.array([0.1, 0.44, 0.45, 0.5, 0.549, 0.55, 0.9])
    assert list(decision_labels(p, 0.5, rule)) == [
        "approve",
        "approve",
        "refer",
        "refer",
        "refer",
        "decline",
        "decline",
    ]
    uncertain = np.array([True, False, False, False, False, False, True])
    assert list(decision_labels(p, 0.5, rule, uncertain))[::6] == ["refer", "refer"]
    assert list(decision_labels(p, 0.5)) == ["approve"] * 3 + ["decline"] * 4  # no rule: as before


def test_a_policy_without_refer_keys_refers_nobody():
    assert refer_rule(0.5, below=0.0, above=0.0) is None


def test_thin_file_and_out_of_range_flag_rows():
    rule = ReferRule(0.4, 0.6, "history", 6.0, {"amount": (100.0, 1000.0)})
    frame = pd.DataFrame({"history": [2.0, np.nan, 24.0, 24.0], "amount": [500.0, 500.0, 5000.0, 500.0]})
    assert list(rule.uncertain(frame)) == [True, True, True, False]
    assert ReferRule.from_dict(rule.to_dict()) == rule


@pytest.mark.parametrize(
    ("refer", "message"),
    [
        ({"below": -0.1, "above": 0.05}, "does not contain the cutoff 0.5"),
        ({"below": 0.6, "above": 0.0}, "lies outside [0, 1]"),
        ({"below": 0.0, "above": 0.7}, "lies outside [0, 1]"),
    ],
)
def test_a_band_outside_0_1_or_without_the_cutoff_is_one_line_exit_2(tmp_path, refer, message):
    spec = write_spec(tmp_path, **{"policy.refer": refer})
    with pytest.raises(SpecError, match=message.replace("[", r"\[")):
        load_spec(spec)
    result = CliRunner().invoke(cli, ["run", str(spec)])
    assert result.exit_code == 2 and message in result.output and "Traceback" not in result.output


def test_a_spec_may_widen_the_policy_band_never_narrow_it(tmp_path):
    write_policy(tmp_path, "banded", **{"limits.refer": {"below": 0.05, "above": 0.05, "out_of_range": True}})
    narrower = write_spec(tmp_path, **{"policy.name": "banded", "policy.refer": {"below": 0.01, "above": 0.05}})
    with pytest.raises(SpecError, match="policy.refer.below: 0.01 is looser than the policy's 0.05"):
        load_spec(narrower)
    off = write_spec(tmp_path, **{"policy.name": "banded", "policy.refer": {"out_of_range": False}})
    with pytest.raises(SpecError, match="policy.refer.out_of_range"):
        load_spec(off)
    wider = write_spec(tmp_path, **{"policy.name": "banded", "policy.refer": {"below": 0.1, "above": 0.07}})
    assert load_spec(wider).policy.refer.below == 0.1


def test_thin_file_must_name_a_numeric_feature(tmp_path):
    spec = write_spec(tmp_path, **{"policy.refer": {"thin_file": {"feature": "purpose", "below": 3}}})
    with pytest.raises(SpecError, match="thin_file.feature: 'purpose' is not a numeric feature"):
        load_spec(spec)


def test_the_shipped_specs_carry_a_refer_band():
    from tests.conftest import CONSUMER_SPEC, GERMAN_SPEC

    for path in (GERMAN_SPEC, CONSUMER_SPEC):
        spec = load_spec(path)
        assert spec.policy.refers and spec.policy.refer.below >= 0.02 and spec.policy.refer.above >= 0.02


def test_score_writes_three_decisions_and_reasons_for_referrals(governed):
    frame = pd.read_csv("german_ids.csv").drop(columns=["creditability"])
    frame.loc[:9, "credit_amount"] = None  # 1%: within the batch check's limits, each row referred as served
    frame.to_csv("batch.csv", index=False)
    result = CliRunner().invoke(cli, ["score", "models:/german_credit/1", "batch.csv", "out.csv"])
    assert result.exit_code == 0, result.output
    assert "referred to an underwriter" in result.output
    scored = pd.read_csv("out.csv")
    assert set(scored["decision"]) == {"approve", "refer", "decline"}
    assert (scored["decision"].head(10) == "refer").all()
    scored, p = scored.iloc[10:], scored["probability_of_default"].iloc[10:]
    decision = scored["decision"]
    in_band = (p >= 0.45) & (p < 0.55)
    assert (decision[in_band] == "refer").all()
    assert (decision[p >= 0.55].isin(["decline", "refer"])).all() and (decision[p < 0.45] != "decline").all()
    adverse = decision.isin(["decline", "refer"])
    assert scored.loc[adverse, "reason_1"].notna().all() and scored.loc[~adverse, "reason_1"].isna().all()
