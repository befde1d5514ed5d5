"""Tests for pipelines.scoring.reasons without a model: hand-made contribution matrices with known answers,
a brute-force reference for ranking and ties, agreement, and no per-row Python loop."""

from __future__ import annotations

import sys

import numpy as np
import pandas as pd
import pytest

from pipelines.scoring.reasons import DEFAULT_REASON_TEXT, MAX_REASONS, ReasonBaseline, agreement, top_reasons

# ---------------------------------------------------------------- ranking on hand-made matrices

SIX = ["a", "b", "c", "d", "e", "f"]
ZERO = ReasonBaseline("average", [0.0] * 6, SIX)


def test_top_reasons_on_a_hand_made_matrix_with_ties():
    contribs = np.array(
        [
            [1, 3, 2, 0, -1, 0.5],  # plain ranking, a zero and a negative dropped
            [1, 1, 1, 1, 1, 1],  # all tied: field order, the last two cut
            [0, 2, 0, 2, 0, 0],  # tie at the top, then no more positive scores
            [-1, -1, -1, -1, -1, -1],
            [0, 0, 0, 0, 0, 7],
            [2, 1, 1, 3, 1, 1],  # four tied for the last two places: first two in field order
            [1, 1, 2, 1, 1, 2],  # tie for first place
        ],
        dtype=float,
    )
    got = top_reasons(contribs, ZERO, texts={f: f for f in SIX})
    expected = [
        ["b", "c", "a", "f"],
        ["a", "b", "c", "d"],
        ["b", "d", None, None],
        [None, None, None, None],
        ["f", None, None, None],
        ["d", "a", "b", "c"],
        ["c", "f", "a", "b"],
    ]
    assert got.to_numpy().tolist() == expected
    assert top_reasons(contribs, ZERO, texts={f: f for f in SIX}, k=1)["reason_1"].tolist() == [
        "b",
        "a",
        "b",
        None,
        "f",
        "d",
        "c",
    ]


def test_scores_are_measured_from_the_baseline():
    baseline = ReasonBaseline("cutoff", [0.5, -1.0, 0.0, 0.0, 0.0, 0.0], SIX)
    got = top_reasons(
        np.array([[0.4, -0.2, 0.1, 0, 0, 0], [0.9, -1.0, 0, 0, 0, 0]]), baseline, texts={f: f for f in SIX}, k=2
    )
    # row 0: a scores -0.1 (below the baseline), b +0.8, c +0.1; row 1: a +0.4, b exactly 0 (no reason)
    assert got.to_numpy().tolist() == [["b", "c"], ["a", None]]


def reference_reasons(scores: np.ndarray, names: list[str], k: int) -> list[list]:
    """Brute force: per row, positive fields sorted by (-score, field position)."""
    out = []
    for row in scores:
        ranked = sorted((i for i in range(len(names)) if row[i] > 0), key=lambda i: (-row[i], i))
        out.append([names[i] for i in ranked[:k]] + [None] * (k - min(k, len(ranked))))
    return out


@pytest.mark.parametrize("k", [1, 2, 4, 6, 8])
def test_top_reasons_match_a_brute_force_ranking_on_tie_heavy_data(k):
    rng = np.random.default_rng(k)
    contribs = rng.integers(-2, 3, size=(400, 6)).astype(float)  # few distinct values: ties everywhere
    got = top_reasons(contribs, ZERO, texts={f: f for f in SIX}, k=k)
    assert list(got.columns) == [f"reason_{i}" for i in range(1, k + 1)]
    assert got.to_numpy().tolist() == reference_reasons(contribs, SIX, k)
    # Same with fields: b+d feed field "b", c+f feed field "c" (field order: a, b, c, e).
    fields = {"d": "b", "f": "c"}
    summed = np.column_stack(
        [contribs[:, 0], contribs[:, 1] + contribs[:, 3], contribs[:, 2] + contribs[:, 5], contribs[:, 4]]
    )
    got = top_reasons(contribs, ZERO, fields=fields, texts={f: f for f in SIX}, k=k)
    assert got.to_numpy().tolist() == reference_reasons(summed, ["a", "b", "c", "e"], k)


def test_features_feeding_one_field_are_summed_before_ranking():
    features = ["income", "income_log", "dti", "age"]
    baseline = ReasonBaseline("average", [0.0] * 4, features)
    fields = {"income_log": "income"}
    contribs = np.array(
        [
            [0.3, 0.3, 0.5, 0.1],  # income 0.6 beats dti 0.5, though each income feature alone does not
            [0.4, -0.5, 0.2, -0.1],  # income -0.1: the positive income feature is cancelled out
        ]
    )
    texts = {"income": "income", "dti": "dti", "age": "age", "income_log": "income_log"}
    assert top_reasons(contribs, baseline, texts=texts, k=3).to_numpy().tolist() == [
        ["dti", "income", "income_log"],
        ["income", "dti", None],
    ]
    assert top_reasons(contribs, baseline, fields=fields, texts=texts, k=3).to_numpy().tolist() == [
        ["income", "dti", "age"],
        ["dti", None, None],
    ]
    with pytest.raises(ValueError, match="unknown feature.*salary"):
        top_reasons(contribs, baseline, fields={"salary": "income"})


def test_reason_texts_and_the_default_text():
    baseline = ReasonBaseline("average", [0.0] * 3, ["dti", "age", "region"])
    got = top_reasons(np.array([[2.0, 1.0, 0.5]]), baseline, texts={"dti": "Debt is high relative to income"})
    assert got.iloc[0].tolist() == [
        "Debt is high relative to income",
        "age: value increased the estimated risk",
        "region: value increased the estimated risk",
        None,
    ]
    assert DEFAULT_REASON_TEXT.format(field="age") == "age: value increased the estimated risk"
    assert MAX_REASONS == 4


def test_top_reasons_refuses_a_matrix_of_the_wrong_width_or_with_nan():
    with pytest.raises(ValueError, match="shape"):
        top_reasons(np.zeros((2, 5)), ZERO)
    with pytest.raises(ValueError, match="NaN"):
        top_reasons(np.full((2, 6), np.nan), ZERO)


# ---------------------------------------------------------------- agreement


def test_agreement_by_hand():
    exact = pd.DataFrame({"reason_1": ["a", "a", "b", None], "reason_2": ["b", "b", None, None]})
    fast = pd.DataFrame({"reason_1": ["b", "a", "b", None], "reason_2": ["a", "c", "a", None]})
    # row 0: same set, first differs; row 1: first same, set differs; row 2: set {b} vs {b, a}; row 3: both empty
    assert agreement(exact, fast) == {"top_k_set": 0.5, "reason_1": 0.75}
    assert agreement(exact, exact) == {"top_k_set": 1.0, "reason_1": 1.0}
    with pytest.raises(ValueError):
        agreement(exact, fast.iloc[:3])


# ---------------------------------------------------------------- no per-row Python loop


def _lines_executed(call) -> int:
    """Python lines executed by `call` (in every frame): grows with the rows only if some code loops over them."""
    count = 0

    def tracer(frame, event, arg):
        nonlocal count
        if event == "line":
            count += 1
        return tracer

    sys.settrace(tracer)
    try:
        call()
    finally:
        sys.settrace(None)
    return count


def test_top_reasons_and_agreement_do_not_loop_over_rows():
    rng = np.random.default_rng(0)
    baseline = ReasonBaseline("average", [0.0] * 30, [f"x{i}" for i in range(30)])
    fields = {f"x{i}": f"field{i // 3}" for i in range(30)}
    small, large = rng.normal(size=(50, 30)), rng.normal(size=(20_000, 30))
    large[:, 5] = large[:, 6]  # ties at the k-th place take their own path

    def run(contribs):
        return lambda: agreement(top_reasons(contribs, baseline), top_reasons(contribs, baseline, fields=fields))

    assert _lines_executed(run(large)) <= _lines_executed(run(small)) + 100
