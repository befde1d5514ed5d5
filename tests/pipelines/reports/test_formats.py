"""Numbers for people in every report: counts as integers, three significant digits, no NaN/True/False."""

import math
import re

import numpy as np
import pandas as pd
import pytest

from features.fairness_spec import FairnessPolicy
from pipelines.gates.fairness import fairness_gate
from pipelines.reports.fairness_report import fairness_html
from pipelines.reports.formats import cells, count, inline_code, number


@pytest.mark.parametrize(
    "value, text",
    [
        (0.79312, "0.793"),
        (0.0123456, "0.0123"),
        (1234.7, "1,235"),
        (12.345, "12.3"),
        (1.0, "1"),
        (0.0, "0"),
        (np.int64(2000), "2,000"),
        (math.nan, "n/a"),
        (None, "n/a"),
        (pd.NA, "n/a"),
        (True, "yes"),
        (np.bool_(False), "no"),
        ("text", "text"),
    ],
)
def test_number(value, text):
    assert number(value) == text


def test_counts_stay_integers_even_as_floats():
    assert count(2.0) == "2" and count(1234.0) == "1,234" and count(math.nan) == "n/a"
    frame = pd.DataFrame({"n": [2.0, 30.0], "rate": [0.5, math.nan], "judged": [True, False]})
    assert cells(frame).values.tolist() == [["2", "0.5", "yes"], ["30", "n/a", "no"]]


def test_inline_code_escapes_and_renders_code():
    assert inline_code("a `b<c>` d") == "a <code>b&lt;c&gt;</code> d"


def test_the_fairness_report_has_no_raw_floats_for_counts_nor_nan_or_booleans():
    """The issue: the report printed `2.000` for counts, `NaN` and Python `True/False`."""
    rng = np.random.default_rng(0)
    y = rng.binomial(1, 0.3, 400)
    p = np.clip(rng.random(400) * 0.6 + 0.3 * y, 0, 1)
    groups = pd.DataFrame(
        {"sex": rng.choice(["f", "m"], 400), "band": rng.choice(["a", "b", "tiny"], 400, p=[0.5, 0.49, 0.01])}
    )
    result = fairness_gate(y, p, sensitive=groups, cutoff=0.5, policy=FairnessPolicy(n_boot=20))
    proxies = pd.DataFrame({"feature": ["x"], "attribute": ["sex"], "auc": [math.nan], "proxy": [False]})
    page = re.sub(r"<[^>]+>", " ", fairness_html(result, proxies, "test"))
    assert not re.search(r"\b(NaN|nan|True|False)\b", page)
    assert not re.search(r"\b\d+\.000\b", page)  # no count printed as 2.000
