"""Overrides come back (issue 25, items 4 and 5): `monitor --decisions` judges underwriters' final decisions against
the model's; a book whose underwriters decline one group more alerts, an unbiased one does not."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from features.errors import DataError
from features.hitl_policy import OverrideLimits
from monitoring.decisions import read_decisions
from monitoring.overrides import assess_overrides
from tests.monitoring.conftest import LAST, MODEL, invoke, window_runs


def generated(tmp_path, bias: float, rows: int = 24000) -> tuple[str, str]:
    out, decisions = tmp_path / f"book{bias}.csv", tmp_path / f"decisions{bias}.csv"
    made = invoke("generate", out, "--rows", rows, "--seed", 11, "--overrides", decisions, "--override-bias", bias)
    assert made.exit_code == 0, made.output
    return str(out), str(decisions)


@pytest.mark.slow
def test_biased_underwriters_alert_and_unbiased_ones_do_not(store, tmp_path):
    book, fair = generated(tmp_path, 0.0)
    result = invoke("monitor", f"{MODEL}/1", "--current", book, "--window", LAST, "--decisions", fair)
    assert "override fairness by gender" in result.output, result.output
    assert "alert: override" not in result.output
    assert "override rate by PD band" in result.output and "requests for human review" in result.output
    assert "UW-0" not in result.output  # the policy does not allow counts per underwriter

    _, biased = generated(tmp_path, 0.3)
    flagged = invoke("monitor", f"{MODEL}/1", "--current", book, "--window", LAST, "--decisions", biased, "--force")
    assert flagged.exit_code == 1, flagged.output
    assert "alert: override fairness by gender: AIR of final approvals" in flagged.output
    run = window_runs(store, window=LAST)[0]
    assert run.data.metrics["override_air_final_gender"] < run.data.metrics["override_air_model_gender"] - 0.1
    assert run.data.tags["monitoring.status"] == "alert"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: pd.concat([d, d.head(1)]), "duplicate applicant_id"),
        (lambda d: d.assign(applicant_id="X" + d["applicant_id"]), "not in the monitored data"),
        (lambda d: d.assign(final_decision="maybe"), "unknown final_decision(s) 'maybe'"),
        (lambda d: d.drop(columns=["reason"]), "missing column(s) reason"),
        (lambda d: d.assign(contested="perhaps"), "contested: expected true/false"),
    ],
)
def test_a_bad_decisions_file_is_one_line_exit_2_and_logs_nothing(store, tmp_path, change, message):
    book, fair = generated(tmp_path, 0.0, rows=2400)
    change(pd.read_csv(fair)).to_csv(tmp_path / "bad.csv", index=False)
    result = invoke("monitor", f"{MODEL}/1", "--current", book, "--window", LAST, "--decisions", tmp_path / "bad.csv")
    assert result.exit_code == 2 and message in result.output, result.output
    assert len(result.output.strip().splitlines()) == 1 and window_runs(store) == []


def test_an_underwriter_column_is_refused_where_the_policy_forbids_it(tmp_path):
    frame = pd.DataFrame({"id": ["a", "b"], "final_decision": ["approve", "decline"], "underwriter": ["Jo", "Al"]})
    frame.assign(reason="x").to_csv(tmp_path / "d.csv", index=False)
    known = pd.Series(["a", "b"])
    with pytest.raises(DataError, match="forbids an underwriter column"):
        read_decisions(
            str(tmp_path / "d.csv"), id_column="id", known=known, limits=OverrideLimits(underwriter_column=False)
        )
    found = read_decisions(str(tmp_path / "d.csv"), id_column="id", known=known, limits=OverrideLimits())
    assert list(found.index) == ["a", "b"] and not found["contested"].any()


def test_underwriter_ids_are_counted_only_when_the_policy_allows_and_names_never_shown():
    n = 200
    ids = pd.Series([f"a{i}" for i in range(n)])
    codes = np.array([0] * (n // 2) + [1] * (n // 2), dtype=np.int8)
    decisions = pd.DataFrame(
        {
            "final_decision": ["decline"] * n,
            "underwriter": ["UW-7"] * n,
            "reason": ["affordability"] * n,
            "requested_review": [True] * 10 + [False] * (n - 10),
            "contested": [False] * n,
        },
        index=ids,
    )
    groups = pd.DataFrame({"gender": ["F", "M"] * (n // 2)})
    pd_values = np.linspace(0.01, 0.9, n)
    hidden = assess_overrides(codes, pd_values, ids, groups, decisions, OverrideLimits())
    assert not any("UW-7" in line for line in hidden.lines)
    assert hidden.status == "alert" and hidden.metrics["override_rate"] == 0.5
    assert any("requests for human review: 10" in line for line in hidden.lines)
    counted = assess_overrides(codes, pd_values, ids, groups, decisions, OverrideLimits(underwriter_counts=True))
    assert any("overrides per underwriter id: 'UW-7' 100" in line for line in counted.lines)
