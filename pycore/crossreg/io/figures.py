"""Matplotlib figures without pyplot's global state, written as deterministic PNGs, atomically.

Every PNG crossreg writes (evaluation, SLDP, de novo plots) goes through :func:`save_png`:
no ``Software`` tag (so equal figures are equal bytes across matplotlib builds), the Agg
canvas only (no display needed), temporary file + rename.
"""

from __future__ import annotations

import os
from pathlib import Path

from crossreg.io.atomic import atomic_path

DPI = 100


def new_figure(width: float, height: float, dpi: int = DPI):
    """A ``matplotlib.figure.Figure`` of ``width`` x ``height`` inches on an Agg canvas."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), dpi=dpi)
    FigureCanvasAgg(fig)
    return fig


def save_png(fig, path: str | os.PathLike, *, dpi: int = DPI, tight: bool = True) -> Path:
    """Write ``fig`` to ``path`` as PNG (atomically); ``tight`` applies ``tight_layout`` first."""
    path = Path(path)
    if tight:
        fig.tight_layout()
    with atomic_path(path, suffix=".png") as tmp:
        fig.savefig(tmp, format="png", dpi=dpi, metadata={"Software": None})
    return path
