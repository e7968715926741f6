"""Noise-free regulatory activity read from sequence: occupancy, accessibility, ChIP, CAGE.

Everything here is a deterministic function of the DNA sequence, the TF activities of a cell
type and the gene annotation, computed on a grid of "fine bins" of ``assays.dnase.resolution``
bp (16 by default):

* sites: every PWM hit with occupancy ``o = sigmoid((score - threshold) / tau)``;
* drive ``D[c, k]``: sum over sites centred within ``cooperativity_window`` bp of bin k of
  ``activity[tf, c] * weight[tf] * o`` (TFs cooperate: one site rarely opens chromatin);
* CpG term: ``cpg_weight * sigmoid((n_CpG_500bp - cpg_island_count) / (0.2 * cpg_island_count))``;
* accessibility ``A = sigmoid(accessibility_slope * (D + CpG term - accessibility_threshold))``;
* ChIP occupancy of TF f: its sites' ``activity * o``, scaled by ``0.3 + 0.7 * A`` and smoothed
  with a Gaussian of ``assays.chip.width_sd`` bp;
* CAGE at a TSS: ``strength * P * (promoter_basal + link_gain * E)`` with ``P`` the promoter's
  accessibility and ``E = sum_k A[k] * (r / 1000) * exp(-|d_k| / link_decay)`` over fine bins
  1 kb < |d| <= ``max_link_distance`` from the TSS (enhancers tens of kb away matter).

Because every step is local, the activity of a window equals the genome-wide one on it, which
is how variant effects are computed exactly (:meth:`ActivityModel.local_accessibility`).
"""

from __future__ import annotations

import dataclasses

import numpy as np
from scipy.ndimage import gaussian_filter1d, uniform_filter1d

from crossreg.simulate.grammar import Grammar
from crossreg.simulate.motifs import Scanner, Sites
from crossreg.simulate.sequence import C, G, N


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(x, -50, 50)))


@dataclasses.dataclass
class ChromActivity:
    """Activity of one chromosome.

    Attributes:
        sites: all scanned sites (occupancy >= 0.01).
        access: float32 (n_cells, n_fine) accessibility in [0, 1].
        gc: float32 (n_fine,) GC fraction in ~500 bp around each bin.
        n_frac: float32 (n_fine,) fraction of N bases in each bin.
    """

    sites: Sites
    access: np.ndarray
    gc: np.ndarray
    n_frac: np.ndarray


class ActivityModel:
    """Noise-free activity of one genome's cell types (see module docstring for the model).

    Args:
        params: resolved params.
        grammar: TFs, cell types, activities.
        genome: ``human`` or ``mouse`` (selects the cell types and their TF activities).
    """

    def __init__(self, params: dict, grammar: Grammar, genome: str):
        reg = params["regulation"]
        self.reg = reg
        self.grammar = grammar
        self.r = int(params["assays"]["dnase"]["resolution"])
        self.scanner = Scanner(grammar.tfs, reg["occupancy_tau"])
        self.activity = grammar.activity[genome].astype(np.float64)  # (n_tf, n_cells)
        self.cells = grammar.cells[genome]
        self.weights = np.asarray([t.weight for t in grammar.tfs], dtype=np.float64)
        self.widths = np.asarray([t.width for t in grammar.tfs], dtype=np.int64)
        self.coop_bins = max(1, int(round(reg["cooperativity_window"] / self.r))) | 1
        self.cpg_bins = max(1, int(round(500 / self.r))) | 1
        self.margin_bins = self.coop_bins + self.cpg_bins + (int(self.widths.max()) // self.r) + 4
        self.chip_sd_bins = params["assays"]["chip"]["width_sd"] / self.r
        decay, reach = reg["link_decay"], reg["max_link_distance"]
        self.link_bins = int(reach // self.r)
        d = np.abs(np.arange(-self.link_bins, self.link_bins + 1)) * self.r
        self.link_kernel = np.where(d > 1000, np.exp(-d / decay), 0.0) * (self.r / 1000.0)

    # ---- accessibility -------------------------------------------------------------------
    def n_fine(self, length: int) -> int:
        """Number of fine bins covering ``length`` bp."""
        return -(-length // self.r)

    def site_bins(self, sites: Sites) -> np.ndarray:
        """Fine bin of each site's centre, int64 (n_sites,)."""
        return (sites.start + self.widths[sites.tf] // 2) // self.r

    def accessibility(self, seq: np.ndarray, sites: Sites) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Accessibility of every cell type over a sequence.

        Args:
            seq: uint8 codes (L,), starting at a fine-bin boundary.
            sites: its scan (:meth:`Scanner.scan`).

        Returns:
            (access float32 (n_cells, n_fine), gc float32 (n_fine,), n_frac float32 (n_fine,)).
        """
        nf = self.n_fine(seq.size)
        bins = self.site_bins(sites)
        w = self.activity[sites.tf] * (self.weights[sites.tf] * sites.occupancy)[:, None]
        drive = np.empty((len(self.cells), nf), dtype=np.float64)
        for c in range(len(self.cells)):
            drive[c] = np.bincount(bins, weights=w[:, c], minlength=nf)[:nf]
        drive = uniform_filter1d(drive, self.coop_bins, axis=1, mode="constant") * self.coop_bins
        pad = nf * self.r - seq.size
        padded = np.concatenate([seq, np.full(pad, N, np.uint8)]) if pad else seq
        cg = np.zeros(padded.size, dtype=np.float64)
        cg[:-1] = (padded[:-1] == C) & (padded[1:] == G)
        cpg = uniform_filter1d(cg.reshape(nf, self.r).sum(axis=1), self.cpg_bins, mode="constant") * self.cpg_bins
        isl = self.reg["cpg_island_count"]
        term = self.reg["cpg_weight"] * _sigmoid((cpg - isl) / (0.2 * isl))
        access = _sigmoid(self.reg["accessibility_slope"] * (drive + term[None, :] - self.reg["accessibility_threshold"]))
        n_frac = (padded == N).reshape(nf, self.r).mean(axis=1)
        access[:, n_frac > 0.5] = 0.0
        gcb = ((padded == C) | (padded == G)).reshape(nf, self.r).sum(axis=1).astype(np.float64)
        acgt = (padded < N).reshape(nf, self.r).sum(axis=1).astype(np.float64)
        k = self.cpg_bins
        gc = uniform_filter1d(gcb, k, mode="nearest") / np.maximum(uniform_filter1d(acgt, k, mode="nearest"), 1.0)
        return access.astype(np.float32), gc.astype(np.float32), n_frac.astype(np.float32)

    def chromosome(self, seq: np.ndarray) -> ChromActivity:
        """Scan a whole chromosome and compute its accessibility."""
        sites = self.scanner.scan(seq)
        access, gc, n_frac = self.accessibility(seq, sites)
        return ChromActivity(sites, access, gc, n_frac)

    def local_accessibility(self, seq: np.ndarray, bin_lo: int, bin_hi: int) -> np.ndarray:
        """Accessibility of fine bins [bin_lo, bin_hi) recomputed from a local window of ``seq``.

        Equal (up to float rounding) to the genome-wide result on those bins.

        Returns:
            float32 (n_cells, bin_hi - bin_lo).
        """
        lo = max(0, bin_lo - self.margin_bins)
        hi = min(self.n_fine(seq.size), bin_hi + self.margin_bins)
        sub = seq[lo * self.r: hi * self.r]
        access, _, _ = self.accessibility(sub, self.scanner.scan(sub))
        return access[:, bin_lo - lo: bin_hi - lo]

    # ---- ChIP and CAGE -------------------------------------------------------------------
    def chip_occupancy(self, act: ChromActivity, tf: int, cell: int) -> np.ndarray:
        """Expected ChIP enrichment shape of TF ``tf`` in cell column ``cell``, float32 (n_fine,)."""
        nf = act.access.shape[1]
        sel = act.sites.tf == tf
        occ = np.bincount(self.site_bins(act.sites)[sel],
                          weights=self.activity[tf, cell] * act.sites.occupancy[sel], minlength=nf)[:nf]
        occ = occ * (0.3 + 0.7 * act.access[cell])
        return gaussian_filter1d(occ, self.chip_sd_bins, mode="constant").astype(np.float32)

    def enhancer_input(self, access: np.ndarray, tss_bins: np.ndarray) -> np.ndarray:
        """Distance-weighted accessibility around each TSS, ``E``, float64 (n_genes, n_cells)."""
        nf = access.shape[1]
        out = np.zeros((tss_bins.size, access.shape[0]))
        lb = self.link_bins
        for g, b in enumerate(tss_bins):
            lo, hi = max(0, b - lb), min(nf, b + lb + 1)
            out[g] = access[:, lo:hi] @ self.link_kernel[lo - (b - lb): hi - (b - lb)]
        return out

    def cage_expected(self, access: np.ndarray, tss_bins: np.ndarray, strength: np.ndarray
                      ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Expected CAGE reads at each TSS for depth 1.

        Args:
            access: float32 (n_cells, n_fine).
            tss_bins: int64 (n_genes,) fine bin of each TSS.
            strength: float64 (n_genes,) relative gene strength.

        Returns:
            (X (n_genes, n_cells) expected reads / strength_median, P promoter accessibility,
            E enhancer input), float64 each.
        """
        if tss_bins.size == 0:
            z = np.zeros((0, access.shape[0]))
            return z, z, z
        P = access[:, tss_bins].T.astype(np.float64)
        E = self.enhancer_input(access, tss_bins)
        X = strength[:, None] * P * (self.reg["promoter_basal"] + self.reg["link_gain"] * E)
        return X, P, E
