"""One streaming pass over a genome's split: predictions -> accumulators and TSS matrices.

Windows are read batch by batch from the shards (never a whole split). Per batch the
genome's own head is run on the sequences and, for the cross-species part, every other head
asked for; what is kept is small:

* per track, the sums of :class:`~crossreg.model.metrics.PearsonAccumulator` (+ min/max, so
  that a constant track gives NaN exactly);
* per TSS found in the windows, the sums of its bin and the two neighbours, for the CAGE
  tracks of each head and of the observed targets;
* for the DNase variable sites, the ``k`` bins with the largest observed variance so far
  (:class:`VariableSites`, at most ``2 k`` bins held).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from crossreg.evaluate import stats
from crossreg.evaluate.inputs import GenomeInput
from crossreg.evaluate.tss import TssLocations, locate_tss, tss_bin_sums

Predictor = Callable[[str, np.ndarray], np.ndarray]
"""``predictor(head, one_hot)``: float32 ``[n, seq_length, 4]`` -> ``[n, bins, tracks of head]``."""


class VariableSites:
    """Streaming selection of the ``k`` sites with the largest variance across tracks.

    Equal to :func:`crossreg.evaluate.stats.select_variable_sites` on all sites at once
    (same ``k``, ties to the lower global index), whatever the batching.

    Args:
        k: sites to keep.
    """

    def __init__(self, k: int) -> None:
        self.k = int(k)
        self._parts: list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]] = []
        self._held = 0

    def add(self, index, obs_log, pred_log) -> None:
        """Offer sites.

        Args:
            index: int64 [n] global site indices.
            obs_log: float [n, tracks] observed log values (the variance is taken over these).
            pred_log: float [n, tracks] predicted log values, carried along.
        """
        obs_log = np.asarray(obs_log, dtype=np.float64)
        var = obs_log.var(axis=1) if obs_log.shape[1] else np.zeros(len(obs_log))
        self._parts.append((np.asarray(index, np.int64), var, obs_log, np.asarray(pred_log, dtype=np.float64)))
        self._held += len(var)
        if self._held > 2 * max(self.k, 1024):
            self._prune()

    def _prune(self) -> None:
        if not self._parts:
            return
        index, var, obs, pred = (np.concatenate([p[i] for p in self._parts]) for i in range(4))
        keep = stats.top_sites(var, index, self.k)
        self._parts = [(index[keep], var[keep], obs[keep], pred[keep])]
        self._held = len(keep)

    def result(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(index int64 [k], observed [k, tracks], predicted [k, tracks]), by ascending index."""
        self._prune()
        if not self._parts:
            return np.zeros(0, np.int64), np.zeros((0, 0)), np.zeros((0, 0))
        index, _, obs, pred = self._parts[0]
        order = np.argsort(index)
        return index[order], obs[order], pred[order]


@dataclass
class GenomeCollection:
    """Everything one pass over a genome's split keeps.

    Attributes:
        genome: the data genome.
        windows: windows streamed.
        bins: bins pooled per track (windows x output bins).
        pearson_r: float64 [tracks] own head, all bins pooled (NaN for constant tracks).
        r2: float64 [tracks].
        locations: TSSs found in the windows, or None without a TSS file.
        tss_obs: float64 [m, own CAGE tracks] observed sums over 3 bins at each located TSS.
        tss_pred: head -> float64 [m, that head's CAGE tracks] predicted sums.
        sites: int64 [k] global bin index (window row * bins + bin) of the variable sites.
        sites_obs, sites_pred: float64 [k, DNase tracks] log2(1 + x) at those sites.
    """

    genome: str
    windows: int
    bins: int
    pearson_r: np.ndarray
    r2: np.ndarray
    locations: TssLocations | None = None
    tss_obs: np.ndarray | None = None
    tss_pred: dict[str, np.ndarray] = field(default_factory=dict)
    sites: np.ndarray | None = None
    sites_obs: np.ndarray | None = None
    sites_pred: np.ndarray | None = None


def _check_shape(out: np.ndarray, head: str, expected: tuple[int, ...]) -> np.ndarray:
    out = np.asarray(out, dtype=np.float32)
    if out.shape != expected:
        raise ValueError(f"predictor for head {head!r} returned shape {out.shape}, expected {expected}")
    return out


def collect_genome(
    gi: GenomeInput,
    bins: int,
    bin_width: int,
    predictor: Predictor,
    other_heads: dict[str, np.ndarray],
    head_tracks: dict[str, int],
    batch_size: int,
    site_fraction: float = stats.DEFAULT_SITE_FRACTION,
    on_batch: Callable[[int], None] | None = None,
) -> GenomeCollection:
    """Stream ``gi``'s split once and collect the evaluation's sums.

    Args:
        gi: the validated genome (its shards, windows, tracks, TSSs).
        bins: the model's output bins per window.
        bin_width: bp per bin.
        predictor: see :data:`Predictor`.
        other_heads: head -> int indices of its CAGE tracks, for heads other than
            ``gi.genome`` to run at the TSSs (the cross-species part); empty to skip.
        head_tracks: head -> output tracks (to check the predictor's shapes).
        batch_size: windows per batch.
        site_fraction: share of all bins taken as DNase variable sites (with >= 2 DNase tracks).
        on_batch: called with the number of windows after each batch (progress).

    Returns:
        :class:`GenomeCollection`.
    """
    from crossreg.model.metrics import PearsonAccumulator
    from crossreg.predict.core import _shard_chunks

    n_tracks = len(gi.track_ids)
    acc = PearsonAccumulator(n_tracks)
    y_min = np.full(n_tracks, np.inf)
    y_max = np.full(n_tracks, -np.inf)
    p_min, p_max = y_min.copy(), y_max.copy()
    cage, dnase = gi.cage, gi.dnase

    locations = None
    if gi.tss is not None and len(gi.tss):
        locations = locate_tss(gi.tss.chrom, gi.tss.pos, gi.windows.chrom, gi.target_start, bins, bin_width)
    tss_on = locations is not None and len(locations) > 0
    m = len(locations) if tss_on else 0
    tss_obs = np.zeros((m, len(cage)))
    tss_pred = {gi.genome: np.zeros((m, len(cage)))}
    if tss_on:
        for head, idx in other_heads.items():
            tss_pred[head] = np.zeros((m, len(idx)))
    sites = VariableSites(stats.site_count(gi.num_windows * bins, site_fraction)) if len(dnase) >= 2 else None

    for chunk in _shard_chunks(gi.split, gi.windows, batch_size, gi.offset, bins):
        n = len(chunk.one_hot)
        y = np.asarray(chunk.targets, dtype=np.float32)
        p = _check_shape(predictor(gi.genome, chunk.one_hot), gi.genome, (n, bins, n_tracks))
        acc.update(y, p)
        y_min = np.minimum(y_min, y.min(axis=(0, 1)))
        y_max = np.maximum(y_max, y.max(axis=(0, 1)))
        p_min = np.minimum(p_min, p.min(axis=(0, 1)))
        p_max = np.maximum(p_max, p.max(axis=(0, 1)))
        if tss_on:
            sel = np.flatnonzero((locations.window >= chunk.lo) & (locations.window < chunk.lo + n))
            if len(sel):
                w, b = locations.window[sel] - chunk.lo, locations.bin[sel]
                tss_obs[sel] = tss_bin_sums(y[..., cage], w, b)
                tss_pred[gi.genome][sel] = tss_bin_sums(p[..., cage], w, b)
                for head, idx in other_heads.items():
                    q = _check_shape(predictor(head, chunk.one_hot), head, (n, bins, head_tracks[head]))
                    tss_pred[head][sel] = tss_bin_sums(q[..., idx], w, b)
        if sites is not None:
            index = chunk.lo * bins + np.arange(n * bins, dtype=np.int64)
            sites.add(
                index,
                stats.log_values(y[..., dnase].reshape(-1, len(dnase))),
                stats.log_values(p[..., dnase].reshape(-1, len(dnase))),
            )
        if on_batch is not None:
            on_batch(n)

    r = acc.pearson_r()
    r2 = acc.r2()
    constant_y = ~(y_max > y_min)
    constant_p = ~(p_max > p_min)
    r = np.where(constant_y | constant_p, np.nan, r)
    r2 = np.where(constant_y, np.nan, r2)
    out = GenomeCollection(gi.genome, gi.num_windows, acc.count, r, r2)
    if tss_on:
        out.locations, out.tss_obs, out.tss_pred = locations, tss_obs, tss_pred
    if sites is not None:
        out.sites, out.sites_obs, out.sites_pred = sites.result()
    return out
