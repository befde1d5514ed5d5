"""`creditflow check SPEC`: every problem of a spec in one run (issue 27: errors arrived one per run, the reasons
error hid the policy error behind it, loosened keys showed one at a time), the data contract included."""

from __future__ import annotations

import pandas as pd
import pytest
import yaml
from click.testing import CliRunner

from features.errors import SpecError
from features.spec import load_spec
from pipelines.cli import cli
from tests.conftest import GERMAN_SPEC, write_spec

FIVE = {
    "split.sed": 3,  # an unknown key (a typo of seed)
    "tuning.trials": "many",  # a wrong type
    "policy.fairness.min_air": 0.5,  # loosens the governed policy
    "policy.performance.max_baseline_uplift": 0.5,  # loosens it again, independently
    "monitoring.drift.columns": {"salary": "ks"},  # names no feature
}


def five_problem_spec(tmp_path):
    reasons = {k: v for k, v in load_spec(GERMAN_SPEC).reasons.items() if k != "purpose"}  # and a sixth: a reason
    return write_spec(tmp_path, reasons=reasons, **FIVE)


def test_a_spec_with_independent_problems_lists_every_one_in_one_run(tmp_path):
    result = CliRunner().invoke(cli, ["check", str(five_problem_spec(tmp_path))])
    assert result.exit_code == 2, result.output
    message = result.output
    assert "6 problems:" in message
    for expected in (
        "unknown key 'split.sed'; did you mean 'seed'? (e.g. `seed: 42`)",
        "tuning.trials: Input should be a valid integer",
        "policy.fairness.min_air: 0.5 is looser than the policy's 0.8",
        "policy.performance.max_baseline_uplift: 0.5 is looser than the policy's 0.05",
        "monitoring.drift.columns: unknown feature(s): salary",
        "reasons: no applicant-facing text for 1 feature(s)",
    ):
        assert expected in message, expected
    assert "`purpose: <the reason in words the applicant reads>`" in message  # the feature: text syntax
    assert "Traceback" not in message


def test_the_policy_problem_is_not_hidden_behind_the_reasons_problem(tmp_path):
    reasons = {k: v for k, v in load_spec(GERMAN_SPEC).reasons.items() if k != "job"}
    spec = write_spec(tmp_path, reasons=reasons, **{"features.categorical": ["job", "marital_state"]})
    with pytest.raises(SpecError) as error:
        load_spec(spec)
    message = str(error.value)
    assert "prohibited by policy consumer-credit v2: 'marital_state'" in message
    assert "reasons: no applicant-facing text for 2 feature(s)" in message and "job, marital_state" in message


def test_one_problem_stays_one_line(tmp_path):
    with pytest.raises(SpecError) as error:
        load_spec(write_spec(tmp_path, **{"split.seed": "abc"}))
    assert "\n" not in str(error.value) and "split.seed" in str(error.value)


def test_a_missing_policy_is_listed_beside_the_other_problems(tmp_path):
    spec = write_spec(tmp_path, **{"policy.name": "no-such-policy", "split.sed": 1})
    with pytest.raises(SpecError) as error:
        load_spec(spec)
    assert "no governed policy 'no-such-policy'" in str(error.value) and "unknown key 'split.sed'" in str(error.value)


def test_check_on_a_good_spec_says_what_it_comes_to_and_writes_nothing(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(cli, ["check", str(write_spec(tmp_path))])
    assert result.exit_code == 0, result.output
    assert "spec and data contract OK under policy consumer-credit v2" in result.output
    assert "1,000 rows, 300 defaults" in result.output
    assert not (tmp_path / "mlflow.db").exists() and not (tmp_path / "mlruns").exists()


def test_check_includes_the_data_contract(tmp_path):
    frame = pd.read_csv(GERMAN_SPEC.parent / "data" / "german_credit.csv")
    frame["credit_amount"] = frame["credit_amount"].astype(str)
    frame.loc[:4, "credit_amount"] = "lots"
    frame.drop(columns=["telephone"]).to_csv(tmp_path / "book.csv", index=False)
    spec = str(write_spec(tmp_path, **{"data.source": str(tmp_path / "book.csv")}))
    result = CliRunner().invoke(cli, ["check", spec])
    assert result.exit_code == 2 and "missing declared column(s): telephone" in result.output, result.output
    frame.to_csv(tmp_path / "book.csv", index=False)
    spec = str(write_spec(tmp_path, **{"data.source": str(tmp_path / "book.csv")}))
    result = CliRunner().invoke(cli, ["check", spec])
    assert result.exit_code == 2 and "'credit_amount' is declared numeric but has 5 non-numeric" in result.output, (
        result.output
    )


def test_a_drafted_placeholder_is_refused_until_written(tmp_path):
    reasons = dict(load_spec(GERMAN_SPEC).reasons, purpose="TODO: what the applicant reads for purpose")
    with pytest.raises(SpecError, match=r"1 drafted placeholder\(s\) still to write .*: purpose"):
        load_spec(write_spec(tmp_path, reasons=reasons))
    assert yaml.safe_load(GERMAN_SPEC.read_text())["reasons"]["purpose"]  # the shipped spec is untouched
