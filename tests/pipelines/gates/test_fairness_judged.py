"""Say what fairness judged: the verdict line names the criteria its "passed" rests on (the issue: equalized odds
needs 30 defaulters per group and was judged on none of five real books, so "passed" meant approval rates only)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from features.fairness_spec import FairnessPolicy
from pipelines.gates.fairness import fairness_gate
from pipelines.gates.gate import GateResult
from pipelines.reports.card_evidence import summary_line


def judged(defaults: float) -> tuple[list[str], str]:
    rng = np.random.default_rng(4)
    n = 3000
    group = rng.choice(["a", "b", "c"], n)
    y = (rng.random(n) < defaults).astype(int)
    p = np.clip(0.2 + 0.3 * y + rng.normal(0, 0.1, n), 0.01, 0.99)
    found = fairness_gate(y, p, sensitive=pd.DataFrame({"region": group}), cutoff=0.4, policy=FairnessPolicy(n_boot=20))
    status = "passed" if found.verdict.passed else "failed"
    line = summary_line(
        GateResult("fairness", status, findings=found.verdict.reasons, notes=found.verdict.notes), criteria=True
    )
    return found.verdict.notes, line


def test_a_verdict_with_enough_defaulters_says_both_criteria_were_judged():
    notes, line = judged(0.2)
    assert "region: criteria judged: approval rates on 3 of 3 groups; equalized odds on 3 of 3" in notes
    assert line.endswith("region approval rates on 3 of 3 groups; equalized odds on 3 of 3")


def test_a_verdict_without_defaulters_enough_says_equalized_odds_was_not_judged():
    notes, line = judged(0.01)  # about 10 defaulters per group
    assert "equalized odds not judged: 3 of 3 groups under 30 defaulters" in line
    assert "approval rates on 3 of 3 groups" in line
