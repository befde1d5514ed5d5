"""Rendering what gates produce: a matplotlib figure as PNG, once. The run's artifact and the review page embed the
same bytes, and a run renders its figures while the challenger trains (pipelines/commands/run.py)."""

from __future__ import annotations

import io
import weakref
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["PNG_DPI", "png_bytes", "render_once"]

PNG_DPI = 100
_rendered: weakref.WeakKeyDictionary[Any, bytes] = weakref.WeakKeyDictionary()


def png_bytes(figure: Figure) -> bytes:
    """The figure as PNG, rendered once."""
    if figure not in _rendered:
        buffer = io.BytesIO()
        figure.savefig(buffer, format="png", dpi=PNG_DPI, bbox_inches="tight")
        _rendered[figure] = buffer.getvalue()
    return _rendered[figure]


def render_once(figures: Iterable[Figure]) -> None:
    """Render each figure now, so that its later readers reuse the bytes."""
    for figure in figures:
        png_bytes(figure)
