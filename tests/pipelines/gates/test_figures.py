"""Tests for pipelines.gates.figures: right kind of figure, right lines, renders to PNG."""

from __future__ import annotations

import inspect
import io

import numpy as np
import pytest
from matplotlib.figure import Figure

import pipelines.gates.figures as plots_module
from pipelines.gates.figures import calibration_figure, gains_figure, ks_figure, roc_figure
from pipelines.gates.performance import calibration_table, decile_table

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _book(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    y = rng.binomial(1, 0.2, n)
    return y, np.clip(rng.beta(2, 8, n) + 0.2 * y, 0, 1)


def _png_bytes(fig: Figure) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    return buffer.getvalue()


def _only_axes(fig: Figure):
    assert isinstance(fig, Figure)
    assert len(fig.axes) == 1
    return fig.axes[0]


def test_module_does_not_use_pyplot():
    source = inspect.getsource(plots_module)
    assert "import pyplot" not in source and "matplotlib.pyplot" not in source
    assert "plt." not in source


def test_roc_figure_one_curve_per_result_plus_diagonal():
    results = {"train": _book(500, 1), "test": _book(300, 2)}
    ax = _only_axes(fig := roc_figure(results))
    assert len(ax.lines) == 3
    labels = [text.get_text() for text in ax.get_legend().get_texts()]
    assert labels[0].startswith("train (AUC = 0.") and labels[1].startswith("test (AUC = 0.")
    assert list(ax.lines[-1].get_xdata()) == [0, 1] and list(ax.lines[-1].get_ydata()) == [0, 1]
    assert "False positive" in ax.get_xlabel() and "True positive" in ax.get_ylabel()
    assert _png_bytes(fig).startswith(PNG_MAGIC)


def test_roc_figure_thins_huge_curves():
    ax = _only_axes(roc_figure({"big": _book(60_000, 3)}))
    xdata = ax.lines[0].get_xdata()
    assert len(xdata) <= 2_001 and xdata[0] == 0 and xdata[-1] == 1


def test_ks_figure_marks_the_gap():
    y, p = _book(1_000, 4)
    ax = _only_axes(fig := ks_figure(y, p))
    assert len(ax.lines) == 3  # bads, goods, KS segment
    bads, goods, gap = ax.lines
    x = gap.get_xdata()
    assert x[0] == x[1]
    ks = abs(gap.get_ydata()[1] - gap.get_ydata()[0])
    assert ax.get_title() == f"KS = {ks:.3f}"
    assert np.max(np.abs(np.asarray(bads.get_ydata()) - goods.get_ydata())) == pytest.approx(ks)
    assert "Population share" in ax.get_xlabel()
    assert _png_bytes(fig).startswith(PNG_MAGIC)


def test_calibration_figure_lines_and_diagonal():
    tables = {name: calibration_table(*_book(800, seed)) for seed, name in enumerate(["a", "b"])}
    ax = _only_axes(fig := calibration_figure(tables))
    assert len(ax.lines) == 3
    assert list(ax.lines[0].get_xdata()) == list(tables["a"]["mean_pd"])
    diag = ax.lines[-1]
    assert list(diag.get_xdata()) == list(diag.get_ydata())
    assert ax.get_xlabel() == "Mean predicted PD" and ax.get_ylabel() == "Observed bad rate"
    assert _png_bytes(fig).startswith(PNG_MAGIC)


def test_gains_figure_starts_at_origin_with_random_line():
    tables = {"test": decile_table(*_book(800, 5))}
    ax = _only_axes(fig := gains_figure(tables))
    assert len(ax.lines) == 2
    curve = ax.lines[0]
    assert curve.get_xdata()[0] == 0 and curve.get_ydata()[0] == 0
    assert curve.get_ydata()[-1] == pytest.approx(1.0) and len(curve.get_xdata()) == 11
    assert "bads captured" in ax.get_ylabel()
    assert _png_bytes(fig).startswith(PNG_MAGIC)


def test_wrong_table_kind_raises_clear_error():
    with pytest.raises(ValueError, match="cum_bad_capture"):
        gains_figure({"oops": calibration_table(*_book(200, 6))})


def test_importance_figure_shows_the_largest_first():
    import io

    import pandas as pd

    from pipelines.gates.figures import importance_figure

    table = pd.DataFrame({"feature": [f"f{i}" for i in range(25)], "mean_abs_contribution": np.arange(25.0)})
    fig = importance_figure(table)
    bars = fig.axes[0].patches
    assert len(bars) == 20
    assert bars[-1].get_width() == 24.0 and bars[0].get_width() == 5.0  # barh draws bottom-up
    fig.savefig(io.BytesIO(), format="png")


def test_importance_figure_shows_every_feature_whatever_the_scale():
    """The issue: on German Credit the plot showed 2 of 17 features, its axes fixed to the unit square."""
    import pandas as pd

    from pipelines.gates.figures import importance_figure

    table = pd.DataFrame({"feature": [f"f{i}" for i in range(17)], "mean_abs_contribution": np.linspace(0.01, 2.5, 17)})
    ax = importance_figure(table).axes[0]
    (x_low, x_high), (y_low, y_high) = ax.get_xlim(), ax.get_ylim()
    for bar in ax.patches:
        assert y_low <= bar.get_y() and bar.get_y() + bar.get_height() <= y_high
        assert x_low <= 0 and bar.get_width() <= x_high
    assert [t.get_text() for t in ax.get_yticklabels()] == [f"f{i}" for i in range(17)]
