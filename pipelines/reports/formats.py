"""Numbers and tables as people read them: counts as integers, three significant digits, no NaN/True/False.

Every report a reviewer reads (the review page, the Markdown card, the fairness report) formats through
here, so a count never shows as `2.000` and an undefined rate never as `NaN`.
"""

from __future__ import annotations

import html
import math
import re
from numbers import Integral, Real

import numpy as np
import pandas as pd

UNDEFINED = "n/a"
COUNT_COLUMNS = {"n", "rows", "bads", "count", "applicants", "groups", "training_rows", "oracle_calls"}


def number(value: object) -> str:
    """One value for people: yes/no, 1,234, 0.793, 0.0123, n/a."""
    if value is None:
        return UNDEFINED
    if isinstance(value, (bool, np.bool_)):
        return "yes" if value else "no"
    if isinstance(value, Integral):
        return f"{int(value):,}"
    if isinstance(value, Real):
        x = float(value)
        if math.isnan(x) or math.isinf(x):
            return UNDEFINED
        return _significant(x)
    try:
        if pd.isna(value):  # pandas' own missing markers (NA, NaT)
            return UNDEFINED
    except (TypeError, ValueError):
        pass
    return str(value)


def count(value: object) -> str:
    """A count, even when it arrives as a float (pandas turns integers into floats on merges)."""
    if isinstance(value, Real) and not isinstance(value, (bool, np.bool_)) and not math.isnan(float(value)):
        return f"{int(round(float(value))):,}"
    return number(value)


def percent(value: float) -> str:
    return UNDEFINED if value is None or math.isnan(value) else f"{value:.1%}"


def _significant(x: float, digits: int = 3) -> str:
    if x == 0:
        return "0"
    if abs(x) >= 10 ** (digits - 1):
        return f"{x:,.0f}"
    decimals = digits - 1 - math.floor(math.log10(abs(x)))
    text = f"{round(x, decimals):.{decimals}f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def cells(frame: pd.DataFrame) -> pd.DataFrame:
    """The frame with every cell as text for people (count columns as integers)."""
    out = {}
    for column in frame.columns:
        fmt = count if str(column) in COUNT_COLUMNS else number
        out[str(column)] = [fmt(v) for v in frame[column]]
    return pd.DataFrame(out, columns=[str(c) for c in frame.columns])


def table_html(frame: pd.DataFrame) -> str:
    """An HTML table of people-formatted, escaped cells."""
    text = cells(frame)
    head = "".join(f"<th>{html.escape(c)}</th>" for c in text.columns)
    rows = "".join(
        "<tr>" + "".join(f"<td>{html.escape(v)}</td>" for v in row) + "</tr>" for row in text.itertuples(index=False)
    )
    return f"<div class='table'><table><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table></div>"


def table_markdown(frame: pd.DataFrame) -> str:
    text = cells(frame)
    header = "| " + " | ".join(text.columns) + " |"
    rule = "|" + "---|" * len(text.columns)
    body = ["| " + " | ".join(v.replace("|", "/") for v in row) + " |" for row in text.itertuples(index=False)]
    return "\n".join([header, rule, *body])


def inline_code(text: str) -> str:
    """Escaped text with `code` spans as <code> elements (no raw Markdown backticks in a page)."""
    return re.sub(r"`([^`]+)`", r"<code>\1</code>", html.escape(text))
