"""PNG figures of the evaluation and the comparison (matplotlib, Agg canvas, 100 dpi).

Figures are drawn on a bare :class:`matplotlib.figure.Figure` with an Agg canvas (no
``pyplot``, no global backend switch) and written atomically. NaN values are left out of
every plot.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Sequence

import numpy as np

from crossreg.io.figures import new_figure as _figure
from crossreg.io.figures import save_png as _save

_COLOURS = ("#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf")


def track_r_by_assay(path: str | os.PathLike, genomes: Sequence[str], assays: Sequence[str], r: Sequence[float]) -> Path:
    """Per-track Pearson R as box + jittered points, one group per (assay, genome).

    Args:
        path: output PNG.
        genomes, assays, r: one entry per track.
    """
    genomes, assays = list(genomes), list(assays)
    r = np.asarray(r, dtype=np.float64)
    groups = sorted({(a, g) for a, g in zip(assays, genomes)})
    genome_names = sorted(set(genomes))
    fig = _figure(max(4.0, 0.9 * len(groups) + 1.5), 3.6)
    ax = fig.add_subplot(1, 1, 1)
    rng = np.random.default_rng(0)
    for x, (assay, genome) in enumerate(groups):
        values = r[[i for i in range(len(r)) if assays[i] == assay and genomes[i] == genome]]
        values = values[np.isfinite(values)]
        colour = _COLOURS[genome_names.index(genome) % len(_COLOURS)]
        if len(values):
            ax.boxplot([values], positions=[x], widths=0.5, showfliers=False, manage_ticks=False)
            ax.scatter(x + rng.uniform(-0.15, 0.15, len(values)), values, s=12, color=colour, alpha=0.8, zorder=3)
    ax.set_xticks(range(len(groups)))
    ax.set_xticklabels([f"{a}\n{g}" for a, g in groups], fontsize=8)
    ax.set_ylabel("Pearson R (all bins)")
    ax.set_title("Per-track Pearson R by assay and genome")
    ax.axhline(0, color="grey", lw=0.5)
    return _save(fig, path)


def gene_scatter(
    path: str | os.PathLike, genome: str, identifier: str, obs_log, pred_log, r: float, r_normalized: float
) -> Path:
    """Predicted vs observed log2(1 + x) at TSSs for one CAGE track."""
    obs_log, pred_log = np.asarray(obs_log, float), np.asarray(pred_log, float)
    fig = _figure(4.2, 4.0)
    ax = fig.add_subplot(1, 1, 1)
    ax.scatter(obs_log, pred_log, s=8, alpha=0.6, color=_COLOURS[0])
    finite = np.isfinite(obs_log) & np.isfinite(pred_log)
    if finite.any():
        lo = float(min(obs_log[finite].min(), pred_log[finite].min()))
        hi = float(max(obs_log[finite].max(), pred_log[finite].max()))
        ax.plot([lo, hi], [lo, hi], color="grey", lw=0.7, ls="--")
    ax.set_xlabel("observed log2(1 + CAGE), 3 bins at TSS")
    ax.set_ylabel("predicted log2(1 + CAGE)")
    ax.set_title(f"{genome} {identifier}, {len(obs_log)} TSS\ngene R = {r:.3f}, normalised {r_normalized:.3f}", fontsize=9)
    return _save(fig, path)


def transfer_heatmap(
    path: str | os.PathLike,
    data_genome: str,
    head_genome: str,
    row_labels: Sequence[str],
    col_labels: Sequence[str],
    r: np.ndarray,
    matched: np.ndarray,
) -> Path:
    """Heatmap of tissue-normalised gene R, rows = data genome tracks, columns = head tracks.

    Args:
        r: float [rows, cols] normalised R (NaN drawn blank).
        matched: bool [rows, cols] matched pairs, outlined in black.
    """
    from matplotlib.patches import Rectangle

    r = np.asarray(r, dtype=np.float64)
    rows, cols = r.shape
    fig = _figure(min(12.0, 2.5 + 0.35 * cols), min(12.0, 2.0 + 0.3 * rows))
    ax = fig.add_subplot(1, 1, 1)
    image = ax.imshow(np.ma.masked_invalid(r), cmap="RdBu_r", vmin=-1, vmax=1, aspect="auto", interpolation="nearest")
    fig.colorbar(image, ax=ax, label="gene R (tissue-normalised)")
    for i, j in zip(*np.nonzero(np.asarray(matched, bool))):
        ax.add_patch(Rectangle((j - 0.5, i - 0.5), 1, 1, fill=False, edgecolor="black", lw=2))
    if cols <= 40:
        ax.set_xticks(range(cols))
        ax.set_xticklabels(col_labels, rotation=90, fontsize=7)
    if rows <= 40:
        ax.set_yticks(range(rows))
        ax.set_yticklabels(row_labels, fontsize=7)
    ax.set_xlabel(f"{head_genome} head CAGE track")
    ax.set_ylabel(f"{data_genome} observed CAGE track")
    ax.set_title(f"{head_genome} head on {data_genome} TSSs", fontsize=10)
    return _save(fig, path)


def compare_scatter(
    path: str | os.PathLike, genome: str, label_a: str, label_b: str, r_a, r_b, assays: Sequence[str]
) -> Path:
    """Per-track R of model b (x) against model a (y), coloured by assay, with y = x."""
    r_a, r_b = np.asarray(r_a, float), np.asarray(r_b, float)
    fig = _figure(4.6, 4.2)
    ax = fig.add_subplot(1, 1, 1)
    names = sorted(set(assays))
    for k, assay in enumerate(names):
        sel = np.array([a == assay for a in assays], bool)
        ax.scatter(r_b[sel], r_a[sel], s=12, alpha=0.8, color=_COLOURS[k % len(_COLOURS)], label=assay)
    finite = np.isfinite(r_a) & np.isfinite(r_b)
    lo = float(min(r_a[finite].min(), r_b[finite].min())) if finite.any() else 0.0
    hi = float(max(r_a[finite].max(), r_b[finite].max())) if finite.any() else 1.0
    ax.plot([lo, hi], [lo, hi], color="grey", lw=0.7, ls="--")
    ax.set_xlabel(f"Pearson R, {label_b}")
    ax.set_ylabel(f"Pearson R, {label_a}")
    ax.set_title(f"{genome}: {label_a} vs {label_b}", fontsize=10)
    if names:
        ax.legend(fontsize=7, loc="lower right")
    return _save(fig, path)
