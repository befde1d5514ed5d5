"""The data-design gate on generated books with the flaws the issue saw (`generate --duplicate`, `--id-column`,
a random split of dated rows): each is refused for its own reason, and an honest book passes."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from features.spec import SplitSpec
from features.split import split_rows
from features.synthetic import ID_COLUMN, BookOptions, generate_book
from features.validation_spec import DataDesignPolicy
from pipelines.gates.data_design import design_checks

NUMERIC = ["income", "loan_amount", "term_months", "debt_to_income", "revolving_utilisation", "open_accounts",
           "credit_history_months"]  # fmt: skip
CATEGORICAL = ["region", "channel", "purpose"]


def judge(book: pd.DataFrame, *, numeric=NUMERIC, time=False, policy=None, reviewed=None, method="random"):
    features = book[numeric + CATEGORICAL].astype({n: float for n in numeric})
    target = book["default_12m"].to_numpy()
    when = book["application_month"] if time or method == "out_of_time" else None
    split = split_rows(target, SplitSpec(method=method, seed=3), when)
    return design_checks(
        features,
        split.samples(),
        time=when,
        numeric=numeric,
        random_split=method == "random",
        policy=policy or DataDesignPolicy(),
        reviewed=reviewed or {},
    )


def checks(result) -> set[str]:
    return {f.check for f in result.findings if f.reviewed is None}


def test_an_honest_book_passes():
    result = judge(generate_book(BookOptions(rows=4_000, seed=5)))
    assert result.reasons() == [] and result.notes == []
    assert result.metrics["data_design.train_duplicate_share"] == 0.0


def test_a_file_concatenated_with_itself_is_refused_for_its_duplicates():
    result = judge(generate_book(BookOptions(rows=4_000, seed=5, duplicate=1.0)))
    assert checks(result) == {"duplicates", "holdout_in_train"}
    assert result.metrics["data_design.holdout_in_train_share"] > 0.5
    assert any("of holdout rows also appear among the training rows" in r for r in result.reasons())


def test_copied_rows_do_not_hide_a_file_number():
    book = generate_book(BookOptions(rows=4_000, seed=5, duplicate=1.0, id_column=True))
    result = judge(book, numeric=[*NUMERIC, ID_COLUMN])
    assert checks(result) == {"duplicates", "holdout_in_train", "identifier"}


def test_a_few_duplicates_under_the_limit_pass_and_are_measured():
    result = judge(generate_book(BookOptions(rows=4_000, seed=5, duplicate=0.002)))
    assert result.reasons() == []
    assert 0 < result.metrics["data_design.holdout_in_train_share"] <= 0.01


def test_an_outcome_ordered_file_number_is_refused_as_a_row_identifier():
    """The leakage screen's single-feature AUC stays under its 0.85 limit, and the logistic baseline uses the number
    too: only its uniqueness gives it away."""
    book = generate_book(BookOptions(rows=4_000, seed=5, id_column=True))
    assert 0.75 < roc_auc_score(book["default_12m"], book[ID_COLUMN]) < 0.85
    result = judge(book, numeric=[*NUMERIC, ID_COLUMN])
    assert checks(result) == {"identifier"}
    assert [f.column for f in result.findings] == [ID_COLUMN]
    assert "100.0% of its values are distinct" in result.reasons()[0]


def test_a_sequence_number_with_repeats_is_found_by_its_row_order():
    book = generate_book(BookOptions(rows=4_000, seed=5))
    book["batch_number"] = np.arange(len(book)) // 3  # a third unique: only its order gives it away
    result = judge(book, numeric=[*NUMERIC, "batch_number"])
    assert [f.column for f in result.findings] == ["batch_number"]
    assert "correlation +1.00 with row order" in result.reasons()[0]


def test_a_reviewed_identifier_is_a_note_not_a_failure():
    book = generate_book(BookOptions(rows=4_000, seed=5, id_column=True))
    result = judge(book, numeric=[*NUMERIC, ID_COLUMN], reviewed={ID_COLUMN: "assigned at application, in order"})
    assert result.reasons() == []
    assert "reviewed: assigned at application" in result.acknowledged()[0]


@pytest.mark.parametrize("required", [True, False])
def test_a_random_split_of_dated_rows_fails_where_the_policy_judges_out_of_time(required):
    book = generate_book(BookOptions(rows=4_000, seed=5))
    result = judge(book, time=True, policy=DataDesignPolicy(require_out_of_time=required))
    assert checks(result) == ({"time_split"} if required else set())
    assert any("split is random" in text for text in result.reasons() + result.notes)
    assert judge(book, method="out_of_time", policy=DataDesignPolicy(require_out_of_time=True)).reasons() == []


def near_copy(book: pd.DataFrame, how: str) -> pd.DataFrame:
    """The book with a disguised copy of itself appended: numbers scaled by 1.001 (equal once rounded to two
    significant digits), or one column re-keyed (equal in every feature but one)."""
    copy = book.copy()
    if how == "rounded":
        copy[NUMERIC] = copy[NUMERIC] * 1.001
    else:
        copy["region"] = copy["region"].map(lambda r: f"{r}-2")
    return pd.concat([book, copy], ignore_index=True)


@pytest.mark.parametrize("how", ["rounded", "one_column"])
def test_a_disguised_copy_is_refused_for_its_near_duplicates(how):
    book = generate_book(BookOptions(rows=4_000, seed=5))
    result = judge(near_copy(book, how))
    assert checks(result) == {"near_duplicates", "holdout_near_train"}
    assert result.metrics["data_design.train_duplicate_share"] < 0.01  # the exact check sees nothing
    assert result.metrics["data_design.holdout_near_train_share"] > 0.5
    assert any("of holdout rows nearly repeat a training row (numbers rounded to 2" in r for r in result.reasons())


def test_an_honest_book_has_no_near_duplicates_and_a_limit_decides():
    book = generate_book(BookOptions(rows=4_000, seed=5))
    result = judge(book)
    assert result.metrics["data_design.train_near_duplicate_share"] < 0.01
    half = near_copy(book.iloc[:200], "rounded")  # 200 disguised copies among 4,200 rows
    mixed = pd.concat([book, half.iloc[200:]], ignore_index=True)
    assert "near_duplicates" in checks(judge(mixed, policy=DataDesignPolicy(max_near_duplicate_share=0.02)))
    assert "near_duplicates" not in checks(judge(mixed, policy=DataDesignPolicy(max_near_duplicate_share=0.2)))


def test_rounding_keeps_two_significant_digits():
    from pipelines.gates.near_duplicates import rounded

    assert list(rounded(pd.Series([1249.0, 1200.0, 0.0123, -57.0, np.nan]))[:4]) == [1200.0, 1200.0, 0.012, -57.0]
