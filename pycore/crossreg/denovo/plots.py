"""Figures of the de novo analysis (matplotlib, bare Agg figures, 100 dpi, atomic, deterministic).

* :func:`effect_vs_significance` (paper Figure 5a): per track, x = effect (mean asinh over
  case variants minus controls), y = -log10 p, coloured by track group; a dashed line at the
  largest p whose BH q is <= the FDR (the BH cut-off; absent when no track passes).
* :func:`family_ratios` (paper Figure 5c): per paired family, the log ratio of the case's
  to the control's burden, sorted, red where the case is more negative (ratio > 0), blue
  where the control is, grey for ties.

PNG files carry no software or time stamp (``metadata={"Software": None}``): the same
inputs give the same bytes.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Sequence

import numpy as np

from crossreg.io.figures import new_figure as _figure
from crossreg.io.figures import save_png as _save

_COLOURS = ("#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#bcbd22", "#17becf")
_OTHER = "#7f7f7f"


def effect_vs_significance(path: str | os.PathLike, effect: np.ndarray, p: np.ndarray, q: np.ndarray,
                           groups: Sequence[str], fdr: float, title: str = "") -> Path:
    """Figure 5a: effect (x) vs -log10 p (y) per track, coloured by group.

    Args:
        path: output PNG.
        effect, p, q: float [tracks] (NaN p left out).
        groups: group per track.
        fdr: the BH level of the dashed line.
    """
    effect, p, q = (np.asarray(a, dtype=np.float64) for a in (effect, p, q))
    groups = np.asarray(list(groups), dtype=object)
    ok = np.isfinite(p) & np.isfinite(effect)
    y = -np.log10(np.clip(p, 1e-300, 1.0))
    fig = _figure(5.5, 4.2)
    ax = fig.add_subplot(1, 1, 1)
    names = sorted(set(groups.tolist()), key=lambda g: (g == "other", g))
    colours = {}
    k = 0
    for name in names:
        colours[name] = _OTHER if name == "other" else _COLOURS[k % len(_COLOURS)]
        k += name != "other"
    # "other" first so the named groups are drawn on top
    for name in sorted(names, key=lambda g: g != "other"):
        sel = ok & (groups == name)
        if sel.any():
            ax.scatter(effect[sel], y[sel], s=14, alpha=0.8, color=colours[name], label=f"{name} ({int(sel.sum())})",
                       edgecolors="none")
    passing = ok & np.isfinite(q) & (q <= fdr)
    if passing.any():
        cut = -np.log10(float(p[passing].max()))
        ax.axhline(cut, color="black", lw=0.8, ls="--", label=f"FDR {fdr:g}")
    ax.axvline(0, color="grey", lw=0.5)
    ax.set_xlabel("effect: mean asinh(score), cases - controls")
    ax.set_ylabel("-log10 p (Mann-Whitney U)")
    ax.set_title(title or f"Tracks: {int(passing.sum())} of {int(ok.sum())} at FDR {fdr:g}")
    if names:
        ax.legend(fontsize=7, frameon=False, loc="best")
    return _save(fig, path)


def family_ratios(path: str | os.PathLike, log_ratio: np.ndarray, title: str = "") -> Path:
    """Figure 5c: per-family log ratios (case vs control burden), sorted.

    Args:
        path: output PNG.
        log_ratio: float [families].
    """
    r = np.sort(np.asarray(log_ratio, dtype=np.float64))
    fig = _figure(5.5, 3.6)
    ax = fig.add_subplot(1, 1, 1)
    x = np.arange(len(r))
    colours = np.where(r > 0, "#d62728", np.where(r < 0, "#1f77b4", _OTHER))
    if len(r):
        ax.bar(x, r, width=1.0, color=colours.tolist(), linewidth=0)
    ax.axhline(0, color="black", lw=0.6)
    n_pos, n_neg = int(np.sum(r > 0)), int(np.sum(r < 0))
    ax.set_xlabel("paired families, sorted")
    ax.set_ylabel("log((|case sum| + eps) / (|control sum| + eps))", fontsize=8)
    ax.set_title(title or f"Case more negative in {n_pos}, control in {n_neg} families")
    return _save(fig, path)
