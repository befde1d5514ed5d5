import datetime as dt

import pandas as pd
import pytest

from features.errors import DataError
from monitoring.windows import month_index, previous_month, select_month, split_months


def test_previous_month_is_the_last_complete_month():
    assert previous_month(dt.date(2026, 11, 29)) == "2026-10"
    assert previous_month(dt.date(2026, 1, 1)) == "2025-12"


def test_split_and_select_months():
    frame = pd.DataFrame({"t": ["2024-02-03", "2024-01-31", "2024-02-28", "2024-03-01"], "x": [1, 2, 3, 4]})
    assert [(label, rows["x"].tolist()) for label, rows in split_months(frame, "t")] == [
        ("2024-01", [2]),
        ("2024-02", [1, 3]),
        ("2024-03", [4]),
    ]
    assert select_month(frame, "t", "2024-02")["x"].tolist() == [1, 3]
    with pytest.raises(DataError, match="no rows in window 2025-01 .* covers 2024-01 to 2024-03"):
        select_month(frame, "t", "2025-01")


def test_unparseable_dates_are_refused():
    with pytest.raises(DataError, match="time column 't' has 1 missing or unparseable"):
        split_months(pd.DataFrame({"t": ["2024-01-01", "soon"]}), "t")


def test_month_index_counts_months_from_the_origin():
    assert month_index("2025-12", "2024-01") == 23
    assert month_index("2024-01", "2024-01") == 0
