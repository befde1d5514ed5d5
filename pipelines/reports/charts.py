"""Charts of the review page: measured values with their intervals beside their limits, and PSI per characteristic.

Built with `matplotlib.figure.Figure` (no pyplot state); `png_base64` embeds any figure in a page, so the page
needs no file beside it and no network.
"""

from __future__ import annotations

import base64
import math
from numbers import Real
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from pipelines.gates.figures import new_figure
from pipelines.reports.render import png_bytes

if TYPE_CHECKING:  # matplotlib is imported when a chart is drawn
    from matplotlib.figure import Figure

LIMIT_COLOUR, POINT_COLOUR, BAD_COLOUR = "#c0392b", "#3b75af", "#c0392b"


def png_base64(figure: Figure) -> str:
    return base64.b64encode(png_bytes(figure)).decode("ascii")


def interval_figure(rows: pd.DataFrame, title: str) -> Figure:
    """A forest plot: one line per measure (`label`), its `value` and `low`-`high` interval, and its `limit`
    (a red tick; `breached` rows in red). Rows without an interval show the point alone."""
    fig = new_figure(figsize=(7.5, 1.2 + 0.38 * len(rows)), layout="constrained")
    ax = fig.add_subplot()
    positions = np.arange(len(rows))[::-1]
    for y, row in zip(positions, rows.itertuples()):
        colour = BAD_COLOUR if getattr(row, "breached", False) else POINT_COLOUR
        if _finite(row.low) and _finite(row.high):
            ax.plot([row.low, row.high], [y, y], color=colour, linewidth=2, alpha=0.6)
        if _finite(row.value):
            ax.plot([row.value], [y], "o", color=colour)
        if _finite(row.limit):
            ax.plot([row.limit], [y], marker="|", markersize=16, markeredgewidth=2, color=LIMIT_COLOUR)
    ax.set_yticks(positions, [str(v) for v in rows["label"]])
    ax.set_title(title, fontsize=10)
    ax.grid(axis="x", alpha=0.3)
    ax.plot([], [], "o", color=POINT_COLOUR, label="measured, with its interval")
    ax.plot([], [], marker="|", linestyle="", markersize=12, markeredgewidth=2, color=LIMIT_COLOUR, label="limit")
    ax.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.08), ncols=2, frameon=False)
    return fig


def psi_figure(table: pd.DataFrame, *, warn: float, alert: float, title: str) -> Figure:
    """PSI of the score and of each characteristic (largest first), with the warn and alert levels."""
    shown = table.sort_values("psi", ascending=True, kind="stable")
    fig = new_figure(figsize=(7.5, 1.4 + 0.28 * len(shown)), layout="constrained")
    ax = fig.add_subplot()
    colours = [{"alert": BAD_COLOUR, "warn": "#e6a23c"}.get(s, POINT_COLOUR) for s in shown["status"]]
    ax.barh(shown["characteristic"].astype(str), shown["psi"], color=colours)
    ax.axvline(warn, color="#e6a23c", linestyle="--", linewidth=1, label=f"warn {warn:g}")
    ax.axvline(alert, color=BAD_COLOUR, linestyle="--", linewidth=1, label=f"alert {alert:g}")
    ax.set_xlim(0, max(alert * 1.15, float(shown["psi"].max()) * 1.05))
    ax.set_title(title, fontsize=10)
    ax.set_xlabel("PSI against the training sample")
    ax.legend(fontsize=7, loc="lower right")
    return fig


def _finite(value: object) -> bool:
    return isinstance(value, Real) and not math.isnan(float(value))
