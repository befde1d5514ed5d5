"""Challenger shadow scoring: the same rows scored by a second version, decisions compared. Pure.

The swap set is where the two versions decide differently at the policy cutoff (decline when PD >= cutoff):
approved by one and declined by the other. Its later default rate (from the outcomes known so far) says which
version's disagreement was right. Counts and rates only: no row leaves.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

GROUPS = (
    ("both approve", False, False),
    ("champion approves, challenger declines", False, True),
    ("champion declines, challenger approves", True, False),
    ("both decline", True, True),
)


def swap_table(
    champion: np.ndarray, challenger: np.ndarray, cutoff: float, defaulted: np.ndarray | None
) -> pd.DataFrame:
    """Rows, share, mean PD of each version, and (with `defaulted`, NaN where unknown) loans with an outcome and
    their default rate, per decision pair."""
    champion, challenger = np.asarray(champion, dtype=np.float64), np.asarray(challenger, dtype=np.float64)
    declined = (champion >= cutoff, challenger >= cutoff)
    outcome = np.full(len(champion), np.nan) if defaulted is None else np.asarray(defaulted, dtype=np.float64)
    rows = []
    for name, first, second in GROUPS:
        mask = (declined[0] == first) & (declined[1] == second)
        known = mask & ~np.isnan(outcome)
        rows.append(
            {
                "decisions": name,
                "n": int(mask.sum()),
                "share": float(mask.mean()) if len(mask) else 0.0,
                "champion_mean_pd": float(champion[mask].mean()) if mask.any() else np.nan,
                "challenger_mean_pd": float(challenger[mask].mean()) if mask.any() else np.nan,
                "with_outcome": int(known.sum()),
                "default_rate": float(outcome[known].mean()) if known.any() else np.nan,
            }
        )
    return pd.DataFrame(rows)


def swap_metrics(table: pd.DataFrame) -> dict[str, float]:
    swap = table.iloc[1:3]
    return {
        "challenger.swap_share": float(swap["share"].sum()),
        "challenger.swap_in": float(table.iloc[2]["n"]),
        "challenger.swap_out": float(table.iloc[1]["n"]),
    }
