import numpy as np
from matplotlib.figure import Figure

from pipelines.gates.figures import roc_figure
from pipelines.reports import render


def test_a_figure_is_rendered_once_for_the_run_and_the_review_page(monkeypatch):
    figure = roc_figure({"test": (np.array([0, 1, 0, 1]), np.array([0.1, 0.8, 0.3, 0.6]))})
    drawn = []
    original = Figure.savefig
    monkeypatch.setattr(Figure, "savefig", lambda self, *a, **k: drawn.append(self) or original(self, *a, **k))
    png = render.png_bytes(figure)
    assert png.startswith(b"\x89PNG") and render.png_bytes(figure) is png
    assert drawn == [figure]
