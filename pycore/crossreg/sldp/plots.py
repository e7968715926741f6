"""SLDP z-score figures: tracks x phenotypes heat map and clustering of tracks (Kelley 2020 Fig. 4).

Figures are drawn on a bare :class:`matplotlib.figure.Figure` with an Agg canvas (no
``pyplot``, no global backend switch), saved as PNG without the ``Software`` tag and written
atomically, so the same inputs give the same bytes. Colours: the diverging map ``RdBu_r``
centred at 0 with symmetric limits ``[-L, L]``, ``L = max |z|`` over finite cells (1 when
there are none); NaN cells are drawn grey.

Clustering (:func:`cluster_tracks`) uses ``scipy.cluster.hierarchy`` on the rows of ``z``
(tracks); NaN cells count as 0 (no signal). With the ``correlation`` (or ``cosine``) metric
a constant row has no defined distance to anything: its distance to a non-constant row is
set to 1 (uncorrelated) and to another constant row to 0, instead of NaN.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd

from crossreg.io.figures import new_figure as _figure
from crossreg.io.figures import save_png

CMAP = "RdBu_r"
NAN_COLOUR = "#d9d9d9"
_PALETTE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf")


def _save(fig, path: str | os.PathLike) -> Path:
    return save_png(fig, path, tight=False)  # the layouts here are set by hand


def _limit(values: np.ndarray) -> float:
    finite = values[np.isfinite(values)]
    top = float(np.max(np.abs(finite))) if finite.size else 0.0
    return top if top > 0 else 1.0


def _draw_heatmap(ax, values: np.ndarray, rows, cols, mark: np.ndarray | None):
    """Draw ``values`` [rows, cols] on ``ax``; return the image (for a colour bar)."""
    import matplotlib

    cmap = matplotlib.colormaps[CMAP].with_extremes(bad=NAN_COLOUR)
    lim = _limit(values)
    image = ax.imshow(np.ma.masked_invalid(values), cmap=cmap, vmin=-lim, vmax=lim, aspect="auto", interpolation="nearest")
    ax.set_xticks(range(len(cols)))
    ax.set_xticklabels([str(c) for c in cols], rotation=90, fontsize=7)
    ax.set_yticks(range(len(rows)))
    ax.set_yticklabels([str(r) for r in rows], fontsize=7)
    if mark is not None:
        rr, cc = np.nonzero(mark)
        if len(rr):
            ax.scatter(cc, rr, marker="*", s=18, color="black", linewidths=0)
    return image


def _mark_array(z: pd.DataFrame, mark: pd.DataFrame | None) -> np.ndarray | None:
    if mark is None:
        return None
    aligned = mark.reindex(index=z.index, columns=z.columns)
    return aligned.fillna(False).to_numpy(dtype=bool)


def _size(n_rows: int, n_cols: int, extra_width: float = 0.0) -> tuple[float, float]:
    return 3.0 + extra_width + 0.3 * max(n_cols, 1), 2.0 + 0.22 * max(n_rows, 1)


def plot_z_heatmap(z: pd.DataFrame, path: str | os.PathLike, *, title: str = "", mark: pd.DataFrame | None = None) -> Path:
    """Heat map of SLDP z-scores.

    Args:
        z: float [tracks, phenotypes]: rows tracks, columns phenotypes/tissues (labels from
            the index and columns); NaN drawn grey.
        path: output PNG.
        title: figure title.
        mark: bool [tracks, phenotypes] (aligned by labels; missing cells False): cells to
            mark with a star, e.g. ``q <= 0.05``.

    Returns:
        ``path``.
    """
    values = z.to_numpy(dtype=np.float64)
    fig = _figure(*_size(*values.shape))
    ax = fig.add_subplot(1, 1, 1)
    image = _draw_heatmap(ax, values, z.index, z.columns, _mark_array(z, mark))
    colourbar = fig.colorbar(image, ax=ax, fraction=0.05, pad=0.02)
    colourbar.set_label("SLDP z-score", fontsize=8)
    if title:
        ax.set_title(title, fontsize=9)
    fig.tight_layout()
    return _save(fig, path)


def _distances(values: np.ndarray, metric: str) -> np.ndarray:
    from scipy.spatial.distance import pdist

    with np.errstate(invalid="ignore", divide="ignore"):
        d = pdist(values, metric=metric)
    if np.isnan(d).any():
        n = values.shape[0]
        constant = np.all(values == values[:, :1], axis=1)
        i, j = np.triu_indices(n, k=1)
        both = constant[i] & constant[j]
        d = np.where(np.isnan(d), np.where(both, 0.0, 1.0), d)
    return np.maximum(d, 0.0)


def cluster_tracks(
    z: pd.DataFrame, *, method: str = "average", metric: str = "correlation", n_clusters: int | None = None
) -> pd.DataFrame:
    """Hierarchical clustering of tracks (rows of ``z``) by their z-score profiles.

    Args:
        z: float [tracks, phenotypes]; NaN counts as 0.
        method: ``scipy.cluster.hierarchy.linkage`` method.
        metric: ``scipy.spatial.distance.pdist`` metric (constant rows handled, see module
            docstring).
        n_clusters: number of flat clusters (``maxclust``); ``None`` cuts the tree at 0.7 x
            its largest merge height (the dendrogram's default colour threshold).

    Returns:
        DataFrame indexed like ``z`` (index name ``track``): ``cluster`` int64 (1-based,
        numbered in order of first appearance along the dendrogram's leaves), ``order``
        int64 (the track's position among the leaves, 0-based). Deterministic.
    """
    from scipy.cluster.hierarchy import fcluster, leaves_list, linkage

    values = np.nan_to_num(z.to_numpy(dtype=np.float64), nan=0.0)
    n = values.shape[0]
    index = pd.Index(z.index, name="track")
    if n <= 1:
        return pd.DataFrame({"cluster": np.ones(n, np.int64), "order": np.arange(n, dtype=np.int64)}, index=index)
    tree = linkage(_distances(values, metric), method=method)
    leaves = leaves_list(tree)
    if n_clusters is None:
        labels = fcluster(tree, t=0.7 * float(tree[:, 2].max()), criterion="distance")
    else:
        labels = fcluster(tree, t=int(n_clusters), criterion="maxclust")
    renumber: dict[int, int] = {}
    for leaf in leaves:
        renumber.setdefault(int(labels[leaf]), len(renumber) + 1)
    order = np.empty(n, dtype=np.int64)
    order[leaves] = np.arange(n, dtype=np.int64)
    cluster = np.array([renumber[int(c)] for c in labels], dtype=np.int64)
    return pd.DataFrame({"cluster": cluster, "order": order}, index=index)


def plot_track_clusters(
    z: pd.DataFrame,
    clusters: pd.DataFrame,
    path: str | os.PathLike,
    *,
    title: str = "",
    method: str = "average",
    metric: str = "correlation",
) -> Path:
    """Dendrogram of the tracks beside their heat map in leaf order, with a cluster colour strip.

    Args:
        z: float [tracks, phenotypes] as for :func:`plot_z_heatmap`.
        clusters: :func:`cluster_tracks` output for ``z`` (same tracks).
        path: output PNG.
        title: figure title.
        method, metric: as given to :func:`cluster_tracks` (the dendrogram is recomputed
            with them; its leaf order is checked against ``clusters.order``).

    Returns:
        ``path``.

    Raises:
        ValueError: ``clusters`` does not cover exactly the tracks of ``z``, or its order
            disagrees with the tree built with ``method``/``metric``.
    """
    from matplotlib.colors import ListedColormap
    from scipy.cluster.hierarchy import dendrogram, linkage

    if set(map(str, clusters.index)) != set(map(str, z.index)) or len(clusters) != len(z):
        raise ValueError("clusters must have one row per track of z (same index)")
    clusters = clusters.reindex(z.index)
    leaf_order = np.argsort(clusters["order"].to_numpy(np.int64), kind="stable")
    values = z.to_numpy(dtype=np.float64)
    n, m = values.shape
    fig = _figure(4.6 + 0.3 * max(m, 1), 2.0 + 0.22 * max(n, 1))
    grid = fig.add_gridspec(
        1, 5, width_ratios=[1.6, 0.2, max(1.5, 0.3 * m), 1.0, 0.15], wspace=0.03,
        left=0.02, right=0.9, top=0.9 if title else 0.96, bottom=0.25,
    )
    ax_tree = fig.add_subplot(grid[0, 0])
    ax_strip = fig.add_subplot(grid[0, 1])
    ax_heat = fig.add_subplot(grid[0, 2])
    ax_bar = fig.add_subplot(grid[0, 4])
    if n > 1:
        tree = linkage(_distances(np.nan_to_num(values, nan=0.0), metric), method=method)
        drawn = dendrogram(tree, orientation="left", ax=ax_tree, no_labels=True, color_threshold=0, above_threshold_color="black")
        if list(drawn["leaves"]) != list(leaf_order):
            raise ValueError("clusters.order does not match the dendrogram for this method/metric")
        ax_tree.set_ylim(10 * n, 0)  # leaf k at y = 10 k + 5: leaf 0 at the top, as heat-map row 0
    ax_tree.axis("off")
    labels = clusters["cluster"].to_numpy(np.int64)[leaf_order]
    palette = ListedColormap(_PALETTE)
    strip = ((labels - 1) % palette.N)[:, None]
    ax_strip.imshow(strip, cmap=palette, vmin=0, vmax=palette.N - 1, aspect="auto", interpolation="nearest")
    for row, label in enumerate(labels):
        if row == 0 or labels[row - 1] != label:
            ax_strip.text(0, row, str(label), ha="center", va="center", fontsize=6, color="white")
    ax_strip.set_xticks([])
    ax_strip.set_yticks([])
    ax_strip.set_xlabel("cluster", fontsize=7, rotation=90)
    image = _draw_heatmap(ax_heat, values[leaf_order], z.index[leaf_order], z.columns, None)
    ax_heat.yaxis.tick_right()
    colourbar = fig.colorbar(image, cax=ax_bar)
    colourbar.set_label("SLDP z-score", fontsize=8)
    if title:
        fig.suptitle(title, fontsize=9)
    return _save(fig, path)
