"""Learning curves drawn at report time: validation loss and mean Pearson R per genome vs epoch.

Drawn with matplotlib's object API on an Agg canvas (no pyplot, no global backend change),
with the default style whatever the user's matplotlibrc says, and without the PNG
``Software`` tag, so the same history gives the same bytes.
"""

from __future__ import annotations

import io
import math
from typing import Sequence

from crossreg.report.inputs import History

#: Genome name of the aggregate rows that joint training writes when several genomes are trained.
ALL_GENOMES = "all"


def curve_series(history: History, column: str) -> list[tuple[str, list[int], list[float]]]:
    """Per line, ``(label, epochs, values)`` of one numeric history column.

    A line is one genome, or one ``(phase, genome)`` pair when the history has a ``phase``
    column with several values; lines keep the order in which they first appear, and
    points within a line are sorted by epoch.
    """
    genomes = history.column("genome")
    phases = history.column("phase") if "phase" in history.columns else [""] * len(genomes)
    several_phases = len(set(phases)) > 1
    lines: dict[str, list[tuple[int, float]]] = {}
    for genome, phase, epoch, value in zip(genomes, phases, history.epochs, history.values[column]):
        label = f"{genome} ({phase})" if several_phases else genome
        lines.setdefault(label, []).append((epoch, value))
    out = []
    for label, points in lines.items():
        points.sort(key=lambda p: p[0])
        out.append((label, [p[0] for p in points], [p[1] for p in points]))
    return out


def _plot(ax, series: Sequence[tuple[str, list[int], list[float]]], ylabel: str, dashed=None) -> None:
    colors = [f"C{i % 10}" for i in range(len(series))]
    for (label, epochs, values), color in zip(series, colors):
        if label.split(" (")[0] == ALL_GENOMES:
            color = "black"
        ax.plot(epochs, values, marker="o", markersize=3, linewidth=1.5, color=color, label=label)
        if dashed:
            extra = dashed.get(label)
            if extra and any(not math.isnan(v) for v in extra[1]):
                ax.plot(extra[0], extra[1], linestyle="--", linewidth=1, color=color, alpha=0.7)
    ax.set_xlabel("epoch")
    ax.set_ylabel(ylabel)
    ax.grid(True, alpha=0.3)
    ax.xaxis.get_major_locator().set_params(integer=True)


def learning_curves_png(history: History, title: str = "", best_epoch: int | None = None, dpi: int = 100) -> bytes:
    """PNG of two panels: ``valid_loss`` (``train_loss`` dashed, when present) and
    ``valid_pearson_mean``, one line per genome (aggregate ``all`` rows in black) vs epoch.

    Args:
        history: a validated history (see :func:`crossreg.report.inputs.read_history`).
        title: figure title.
        best_epoch: marked with a dotted vertical line in both panels, when given.
        dpi: resolution.

    Returns:
        The PNG bytes.
    """
    from matplotlib import style
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    valid = curve_series(history, "valid_loss")
    train = {label: (e, v) for label, e, v in curve_series(history, "train_loss")} if "train_loss" in history.values else None
    pearson = curve_series(history, "valid_pearson_mean")
    with style.context("default"):
        fig = Figure(figsize=(10, 3.6), dpi=dpi, layout="constrained")
        FigureCanvasAgg(fig)
        ax_loss, ax_r = fig.subplots(1, 2)
        _plot(ax_loss, valid, "validation loss" + (" (training: dashed)" if train else ""), dashed=train)
        _plot(ax_r, pearson, "validation mean Pearson R")
        if best_epoch is not None:
            for ax in (ax_loss, ax_r):
                ax.axvline(best_epoch, color="grey", linestyle=":", linewidth=1)
        ax_loss.set_title("loss" + (f" (best epoch {best_epoch}: dotted)" if best_epoch is not None else ""))
        ax_r.set_title("mean Pearson R")
        if pearson:
            ax_r.legend(fontsize="small", title="genome", title_fontsize="small")
        if title:
            fig.suptitle(title)
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png", dpi=dpi, metadata={"Software": None})
    return buffer.getvalue()
