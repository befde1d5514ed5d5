"""The review page's comparison of the validator's evidence with what the author's run reported: each gate's two
verdicts, each holdout metric's two values, flagged where they disagree beyond the validator's 95% interval."""

from __future__ import annotations

import math

import pandas as pd

from pipelines.core import tags
from pipelines.reports.card_evidence import CARD_METRICS
from pipelines.reports.formats import number

__all__ = ["comparison_items", "disagreements"]

SAMPLES = ("valid", "test", "oot")


def verdict_rows(validated: dict[str, str], author: dict[str, str]) -> list[list[str]]:
    """[gate, validator's verdict, author's, agreement] per gate."""
    rows = []
    for gate, verdict in validated.items():
        reported = author.get(gate, "-")
        rows.append([tags.VALIDATION_PREFIX + gate, verdict, reported, "agree" if reported == verdict else "DISAGREE"])
    return rows


def metric_rows(validator: dict[str, float], author: dict[str, float]) -> list[list[str]]:
    """[metric, validator's value (interval), author's value, agreement] per holdout metric both measured."""
    rows = []
    for sample in SAMPLES:
        for metric in CARD_METRICS:
            key = f"{sample}_{metric}"
            if key not in validator or key not in author:
                continue
            ours, theirs = validator[key], author[key]
            low, high = validator.get(f"{key}_low", math.nan), validator.get(f"{key}_high", math.nan)
            rows.append([key, _with_interval(ours, low, high), number(theirs), _agreement(ours, theirs, low, high)])
    return rows


def disagreements(rows: list[list[str]]) -> list[str]:
    """The first column of every row flagged DISAGREE."""
    return [row[0] for row in rows if row[-1].startswith("DISAGREE")]


def comparison_items(
    validator: str, time: str, verdicts: list[list[str]], metrics: list[list[str]]
) -> list[pd.DataFrame | str]:
    flagged = disagreements(verdicts) + disagreements(metrics)
    head = (
        f"The evidence on this page was computed by the validator `{validator}` at {time} from the registered model "
        "files, the data by digest and the governed policy. The author's own run reported the numbers in the "
        "right-hand column: shown, never trusted."
    )
    verdict = (
        f"**{len(flagged)} disagreement(s)** beyond the validator's interval: {', '.join(flagged)}."
        if flagged
        else "The author's numbers agree with the validator's."
    )
    return [
        head,
        verdict,
        pd.DataFrame(verdicts, columns=["gate", "validator", "author", "result"]),
        pd.DataFrame(metrics, columns=["metric", "validator (95% interval)", "author", "result"]),
    ]


def _with_interval(value: float, low: float, high: float) -> str:
    return number(value) + ("" if math.isnan(low) or math.isnan(high) else f" ({number(low)} – {number(high)})")


def _agreement(ours: float, theirs: float, low: float, high: float) -> str:
    """Outside the interval (or, without one, any difference beyond 1e-9) is a disagreement."""
    if math.isnan(low) or math.isnan(high):
        return "agree" if abs(ours - theirs) <= 1e-9 else "DISAGREE"
    return "agree" if low <= theirs <= high else "DISAGREE (outside the interval)"
