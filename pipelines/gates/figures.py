"""The figures gates produce: ROC, KS, calibration, gains, global importance, and approval rates per group.

Figures are built with ``matplotlib.figure.Figure`` directly rather than pyplot, so nothing touches global state
or needs a display backend. Gates produce them; reports render them (pipelines/reports/render.py turns a figure
into PNG once, for the run's artifact and the review page alike). Data comes from ``pipelines.gates.performance``
and ``pipelines.gates.fairness``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

if TYPE_CHECKING:  # matplotlib is imported when a figure is drawn, not when creditflow starts
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

from pipelines.gates.fairness import FairnessResult
from pipelines.gates.performance import curves

_FIGSIZE = (6.0, 5.0)
_MAX_POINTS = 2000
_REFERENCE_STYLE: dict[str, Any] = {"color": "grey", "linestyle": "--", "linewidth": 1}


def new_figure(**options: Any) -> Figure:
    """A matplotlib Figure (no pyplot, no global state), importing matplotlib on first use (~0.3 s)."""
    from matplotlib.figure import Figure

    return Figure(**options)


def _new_axes(title: str, xlabel: str, ylabel: str, unit_square: bool = True) -> tuple[Figure, Axes]:
    """A fresh figure with one square-ish axes, labelled; on the unit square for rates and shares."""
    fig = new_figure(figsize=_FIGSIZE, layout="constrained")
    ax = fig.add_subplot()
    ax.set(title=title, xlabel=xlabel, ylabel=ylabel)
    if unit_square:
        ax.set(xlim=(0, 1), ylim=(0, 1))
    ax.grid(alpha=0.3)
    return fig, ax


def _thin(size: int, must_keep: int, max_points: int = _MAX_POINTS) -> np.ndarray:
    """Indices of at most ~max_points evenly spaced points, ends and must_keep included.

    A 1M-row book yields 1M-point curves; thinning keeps rendering fast and
    files small without visibly changing a monotone cumulative curve.
    """
    if size <= max_points:
        return np.arange(size)
    grid = np.linspace(0, size - 1, max_points).round().astype(np.int64)
    return np.unique(np.r_[grid, must_keep])


def _require_columns(name: str, table: pd.DataFrame, columns: set[str]) -> None:
    """Fail early with a clear message if a table is not the expected kind."""
    missing = columns - set(table.columns)
    if missing:
        raise ValueError(f"table {name!r} lacks columns {sorted(missing)}")


def roc_figure(results: dict[str, tuple[Any, Any]]) -> Figure:
    """ROC curves, one per named (y_true, p_default) pair, AUC in the legend.

    ``results`` maps a label (split or model name) to its labels and scores,
    e.g. {"train": (y_tr, p_tr), "test": (y_te, p_te)}.
    """
    fig, ax = _new_axes("ROC curve", "False positive rate (goods flagged)", "True positive rate (bads caught)")
    for name, (y, p) in results.items():
        roc = curves(y, p)["roc"]
        keep = _thin(roc["fpr"].size, must_keep=0)
        ax.plot(roc["fpr"][keep], roc["tpr"][keep], label=f"{name} (AUC = {roc['auc']:.3f})")
    ax.plot([0, 1], [0, 1], label="random", **_REFERENCE_STYLE)
    ax.legend(loc="lower right")
    return fig


def ks_figure(y_true: Any, p_default: Any) -> Figure:
    """Cumulative share of bads and goods vs population share (riskiest first).

    The vertical segment marks the KS statistic: the largest gap between the
    two curves.
    """
    ks = curves(y_true, p_default)["ks"]
    fig, ax = _new_axes(f"KS = {ks['ks']:.3f}", "Population share (riskiest first)", "Cumulative share")
    x, bad, good, at = ks["population_share"], ks["cum_bad"], ks["cum_good"], ks["ks_index"]
    keep = _thin(x.size, at)
    ax.plot(x[keep], bad[keep], label="bads", color="tab:red")
    ax.plot(x[keep], good[keep], label="goods", color="tab:green")
    ax.plot(
        [x[at], x[at]], [good[at], bad[at]], color="black", linewidth=2, label=f"KS = {ks['ks']:.3f} at {x[at]:.0%}"
    )
    ax.legend(loc="lower right")
    return fig


def calibration_figure(tables: dict[str, pd.DataFrame]) -> Figure:
    """Observed bad rate vs mean predicted PD per bin, one line per table.

    ``tables`` are outputs of ``evaluate.calibration_table``. Axes span the
    data range (PDs are often far below 1) and keep the diagonal visible.
    """
    fig, ax = _new_axes("Calibration", "Mean predicted PD", "Observed bad rate")
    upper = 0.0
    for name, table in tables.items():
        _require_columns(name, table, {"mean_pd", "observed_bad_rate"})
        ax.plot(table["mean_pd"], table["observed_bad_rate"], marker="o", label=name)
        upper = max(upper, float(table[["mean_pd", "observed_bad_rate"]].to_numpy().max()))
    limit = min(1.0, upper * 1.05) if upper > 0 else 1.0
    ax.plot([0, limit], [0, limit], label="perfect calibration", **_REFERENCE_STYLE)
    ax.set(xlim=(0, limit), ylim=(0, limit))
    ax.legend(loc="upper left")
    return fig


def gains_figure(tables: dict[str, pd.DataFrame]) -> Figure:
    """Cumulative share of bads captured vs population share, riskiest first.

    ``tables`` are outputs of ``evaluate.decile_table``; each curve starts at
    (0, 0). The diagonal is what a random ordering would capture.
    """
    fig, ax = _new_axes("Cumulative gains", "Population share (riskiest first)", "Share of bads captured")
    for name, table in tables.items():
        _require_columns(name, table, {"cum_population_share", "cum_bad_capture"})
        x = np.r_[0.0, table["cum_population_share"].to_numpy(float)]
        y = np.r_[0.0, table["cum_bad_capture"].to_numpy(float)]
        ax.plot(x, y, marker="o", label=name)
    ax.plot([0, 1], [0, 1], label="random", **_REFERENCE_STYLE)
    ax.legend(loc="lower right")
    return fig


def importance_figure(importance: pd.DataFrame, *, top: int = 20) -> Figure:
    """Global importance: mean absolute contribution (log-odds) per feature, largest on top."""
    _require_columns("importance", importance, {"feature", "mean_abs_contribution"})
    shown = importance.nlargest(top, "mean_abs_contribution").iloc[::-1]
    # contributions are log-odds, not shares: the axes follow the data (fixed to 0-1 they hid most bars)
    fig, ax = _new_axes("Global importance", "mean |contribution| (log-odds)", "", unit_square=False)
    fig.set_size_inches(_FIGSIZE[0] + 1.5, max(_FIGSIZE[1], 0.3 * len(shown) + 1.2))
    ax.barh(shown["feature"], shown["mean_abs_contribution"])
    ax.set_xlim(0, float(shown["mean_abs_contribution"].max()) * 1.05 or 1.0)
    return fig


APPROVAL_Z = 1.96  # 95% binomial interval of a group's approval rate


def fairness_figure(result: FairnessResult) -> Figure:
    """Approval rate per group with a 95% binomial interval, one panel per attribute or intersection."""
    groupings = list(result.groupings.values())
    fig = new_figure(figsize=(7, 1.2 * len(groupings) + 0.4 * sum(len(g.table) for g in groupings)))
    ratios = [len(g.table) + 1.5 for g in groupings]  # one bar as tall in every panel
    axes = fig.subplots(len(groupings), 1, squeeze=False, gridspec_kw={"height_ratios": ratios})[:, 0]
    for ax, grouping in zip(axes, groupings):
        table = grouping.table
        rate, n = table["approval_rate"].to_numpy(float), table["n"].to_numpy(float)
        half = APPROVAL_Z * np.sqrt(np.clip(rate * (1 - rate), 0, None) / np.maximum(n, 1))
        colours = ["#bbbbbb" if small else "#3b75af" for small in table["too_small"]]
        labels = [f"{g} ({int(k):,})" for g, k in zip(table["group"].astype(str), n)]
        ax.barh(labels, rate, xerr=half, color=colours, capsize=3)
        ax.axvline(
            float(np.nanmax(np.where(table["too_small"], np.nan, rate), initial=np.nan)) * result.policy.min_air,
            color="#c0392b",
            linestyle="--",
            linewidth=1,
            label=f"{result.policy.min_air:.2f} x most favoured",
        )
        ax.set_xlim(0, 1)
        ax.set_title(f"{grouping.name}: approval rate (grey: too small to judge)", fontsize=9)
        ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    fig.tight_layout()
    return fig
