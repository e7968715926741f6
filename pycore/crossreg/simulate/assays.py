"""Assays: turn noise-free activity into measured tracks with realistic defects.

Per track: a sequencing depth (log-normal around 1, per replicate), gamma-Poisson count
noise, GC bias, no data (NaN) where reads cannot map, and huge artefactual signal in the
blacklisted regions of the genome.

* DNASE / ATAC: per-base coverage in fine-bin runs (dense tracks, many short runs);
  expected reads per base ``depth * (background * gc_factor + peak * A)``.
* CAGE: 5' read counts at single bases: a TSS's reads spread over a few bp around it, eRNA reads
  at accessible enhancers, sparse background.
* CHIP: log2 fold change over an input, smoothed and quantised (piecewise, long runs, with
  negative values so that clipping at 0 matters).
"""

from __future__ import annotations

import dataclasses

import numpy as np

from crossreg.io.writers import merge_runs
from crossreg.simulate.evolution import GAP, SATELLITE, Chrom, Genome, runs
from crossreg.simulate.grammar import Grammar
from crossreg.simulate.signals import ActivityModel, ChromActivity


@dataclasses.dataclass
class TrackSpec:
    """One track of one genome (one row of targets.txt).

    Attributes:
        identifier: unique name, e.g. ``DNASE_liver_rep1``; the file is ``tracks/<identifier>.bw``.
        assay: DNASE, ATAC, CAGE or CHIP.
        cell: cell type.
        tf: ChIP target (None for other assays).
        replicate: 1-based replicate number.
        group: replicate-group name shared by replicates.
        description: Basenji-style ``ASSAY:cell`` or ``CHIP:TF:cell``.
        clip, clip_soft, scale: target transform parameters for targets.txt.
        sum_stat: ``sum`` or ``mean``.
        depth: relative sequencing depth.
    """

    identifier: str
    assay: str
    cell: str
    tf: str | None
    replicate: int
    group: str
    description: str
    clip: float
    clip_soft: float
    scale: float
    sum_stat: str
    depth: float

    @property
    def file(self) -> str:
        """Path of the bigWig relative to the genome folder."""
        return f"tracks/{self.identifier}.bw"


def track_specs(params: dict, grammar: Grammar, genome: str, rng: np.random.Generator) -> list[TrackSpec]:
    """All tracks of a genome: ``per_cell_type`` assays for each of its cell types, the ``extra``
    tracks whose cell type it has, each split into replicates as ``assays.replicates`` says."""
    asy = params["assays"]
    cells = grammar.cells[genome]
    wanted: list[tuple[str, str]] = [(a, c) for c in cells for a in asy["per_cell_type"]]
    wanted += [(a, c) for a, c in asy["extra"] if c in cells and (a, c) not in wanted]
    reps = {(a, c): int(n) for a, c, n in asy["replicates"]}
    specs = []
    for assay, cell in wanted:
        kind, _, tf = assay.partition(":")
        base = f"CHIP_{tf}_{cell}" if kind == "CHIP" else f"{kind}_{cell}"
        desc = f"CHIP:{tf}:{cell}" if kind == "CHIP" else f"{kind}:{cell}"
        cfg = asy[kind.lower()]
        n = reps.get((assay, cell), 1)
        for r in range(1, n + 1):
            ident = f"{base}_rep{r}" if n > 1 else base
            specs.append(TrackSpec(ident, kind, cell, tf or None, r, base, desc, float(cfg["clip"]),
                                   float(cfg["clip_soft"]), float(cfg["scale"]),
                                   "mean" if kind == "CHIP" else "sum",
                                   float(np.exp(rng.normal(0.0, asy["depth_sd"])))))
    return specs


@dataclasses.dataclass
class Artefact:
    """A blacklist region with artefactual signal in every track of its genome.

    Attributes:
        chrom: chromosome index.
        start, end: 0-based half-open span.
        fold: intensity relative to a strong real peak.
        source: ``satellite`` or ``high_signal``.
    """

    chrom: int
    start: int
    end: int
    fold: float
    source: str


def choose_artefacts(genome: Genome, params: dict, forbidden: list[np.ndarray], rng: np.random.Generator
                     ) -> list[Artefact]:
    """Pick the artefact regions: some centromeric satellites and random high-signal regions.

    Args:
        genome: the genome.
        params: resolved params.
        forbidden: per chromosome bool (L,), True where an artefact may not be placed (elements).
            High-signal regions also avoid gaps, unmappable sequence and each other.
        rng: random generator.
    """
    asy = params["assays"]
    out = []
    for ci, c in enumerate(genome.chroms):
        for s, e in runs(c.kind == SATELLITE):
            if rng.random() < asy["satellite_artefact_fraction"]:
                out.append(Artefact(ci, int(s), int(e), float(rng.uniform(*asy["artefact_fold"])), "satellite"))
    lengths = np.asarray([len(c) for c in genome.chroms], dtype=np.float64)
    n = rng.poisson(asy["artefacts_per_mb"] * lengths.sum() / 1e6)
    for _ in range(n):
        ci = int(rng.choice(len(lengths), p=lengths / lengths.sum()))
        c = genome.chroms[ci]
        ln = int(rng.integers(int(asy["artefact_length"][0]), int(asy["artefact_length"][1]) + 1))
        for _try in range(20):
            s = int(rng.integers(0, max(1, len(c) - ln)))
            clash = any(a.chrom == ci and a.start < s + ln and s < a.end for a in out)
            if (not clash and not forbidden[ci][s:s + ln].any() and not (c.kind[s:s + ln] == GAP).any()
                    and not c.unmap[s:s + ln].any()):
                out.append(Artefact(ci, s, s + ln, float(rng.uniform(*asy["artefact_fold"])), "high_signal"))
                break
    out.sort(key=lambda a: (a.chrom, a.start))
    return out


def _nb(rng: np.random.Generator, mean: np.ndarray, dispersion: float) -> np.ndarray:
    """Gamma-Poisson (negative binomial) counts with the given mean and dispersion."""
    mean = np.maximum(mean, 0.0)
    if dispersion > 0:
        mean = rng.gamma(1.0 / dispersion, dispersion, size=mean.shape) * mean
    return rng.poisson(mean).astype(np.float64)


@dataclasses.dataclass
class ChromMasks:
    """Measurement masks of one chromosome.

    Attributes:
        nan_base: bool (L,), True where no read maps (unmappable outside artefacts) or N.
        artefact_base: float64 (L,), artefact fold per base (0 outside artefacts).
        nan_bin: bool (n_fine,), fine bins mostly NaN.
        artefact_bin: float64 (n_fine,), mean artefact fold per fine bin.
    """

    nan_base: np.ndarray
    artefact_base: np.ndarray
    nan_bin: np.ndarray
    artefact_bin: np.ndarray


def chrom_masks(chrom: Chrom, artefacts: list[Artefact], ci: int, r: int) -> ChromMasks:
    """Build the masks of chromosome ``ci`` for fine bins of ``r`` bp."""
    L = len(chrom)
    art = np.zeros(L, dtype=np.float64)
    for a in artefacts:
        if a.chrom == ci:
            art[a.start:a.end] = np.maximum(art[a.start:a.end], a.fold)
    nan = ((chrom.unmap & (art == 0)) | (chrom.seq == 4))
    nf = -(-L // r)
    pad = nf * r - L
    nan_bin = np.concatenate([nan, np.ones(pad, bool)]).reshape(nf, r).mean(axis=1) > 0.5
    art_bin = np.concatenate([art, np.zeros(pad)]).reshape(nf, r).mean(axis=1)
    return ChromMasks(nan, art, nan_bin, art_bin)


def _fine_runs(values: np.ndarray, keep: np.ndarray, r: int, L: int):
    k = np.flatnonzero(keep)
    starts = k * r
    ends = np.minimum(starts + r, L)
    return merge_runs(starts.astype(np.int64), ends.astype(np.int64), values[k])


def render_track(spec: TrackSpec, params: dict, model: ActivityModel, act: ChromActivity, chrom: Chrom,
                 masks: ChromMasks, tss: np.ndarray, cage_x: np.ndarray, rng: np.random.Generator
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Measured signal of one track on one chromosome, as bigWig runs.

    Args:
        spec: the track.
        params: resolved params.
        model: the genome's activity model.
        act: the chromosome's noise-free activity.
        chrom: the chromosome.
        masks: its measurement masks.
        tss: int64 (n_genes,) TSS positions on this chromosome.
        cage_x: float64 (n_genes, n_cells) expected CAGE (see ``ActivityModel.cage_expected``).
        rng: random generator for this track and chromosome.

    Returns:
        (starts int64, ends int64, values float64) sorted, non-overlapping runs; positions
        without data are absent (NaN when read back).
    """
    asy = params["assays"]
    cell = model.cells.index(spec.cell)
    r = model.r
    L = len(chrom)
    depth = spec.depth
    if spec.assay in ("DNASE", "ATAC"):
        cfg = asy[spec.assay.lower()]
        gcf = np.clip(1.0 + cfg["gc_bias"] * (act.gc - 0.41), 0.2, 3.0)
        mu = depth * (cfg["background"] * gcf + cfg["peak"] * act.access[cell] + cfg["peak"] * masks.artefact_bin)
        counts = _nb(rng, mu * r, cfg["dispersion"])
        vals = counts / r
        return _fine_runs(vals, (counts > 0) & ~masks.nan_bin, r, L)
    if spec.assay == "CAGE":
        cfg = asy["cage"]
        pos_list = []
        if tss.size:
            mean = depth * cfg["strength_median"] * cage_x[:, cell]
            n_reads = _nb(rng, mean, cfg["dispersion"]).astype(np.int64)
            offs = np.rint(rng.laplace(0.0, cfg["tss_spread"], int(n_reads.sum()))).astype(np.int64)
            pos_list.append(np.repeat(tss, n_reads) + offs)
        mu_bin = depth * (cfg["erna"] * act.access[cell] + cfg["background"] + 4.0 * masks.artefact_bin)
        nb = rng.poisson(mu_bin).astype(np.int64)
        bins = np.repeat(np.arange(nb.size, dtype=np.int64), nb)
        pos_list.append(bins * r + rng.integers(0, r, bins.size))
        pos = np.concatenate(pos_list)
        pos = pos[(pos >= 0) & (pos < L)]
        pos = pos[~masks.nan_base[pos]]
        cnt = np.bincount(pos, minlength=L)
        where = np.flatnonzero(cnt)
        return merge_runs(where, where + 1, cnt[where].astype(np.float64))
    # CHIP
    cfg = asy["chip"]
    f = int(cfg["resolution"]) // r
    tf = model.grammar.tf_index(spec.tf)
    occ = model.chip_occupancy(act, tf, cell)
    nf = occ.size
    nc = -(-nf // f)
    pad = nc * f - nf

    def agg(x, how):
        x = np.concatenate([x, np.zeros(pad, dtype=x.dtype)]).reshape(nc, f)
        return x.sum(axis=1) if how == "sum" else x.mean(axis=1)

    occ_c = agg(occ.astype(np.float64), "sum")
    gcf = np.clip(1.0 + 1.0 * (agg(act.gc.astype(np.float64), "mean") - 0.41), 0.2, 3.0)
    chip = _nb(rng, depth * (cfg["background"] * gcf + cfg["peak"] * occ_c), cfg["dispersion"])
    inp = _nb(rng, cfg["input_depth"] * cfg["background"] * gcf, cfg["dispersion"])
    lfc = np.log2((chip + 1.0) / (inp * depth / cfg["input_depth"] + 1.0))
    k = int(cfg["smooth_bins"])
    if k > 1:
        lfc = np.convolve(lfc, np.ones(k) / k, mode="same")
    art = agg(masks.artefact_bin, "mean")
    lfc = lfc + np.log2(1.0 + art / 4.0) * 2.0
    q = cfg["quantum"]
    lfc = np.round(lfc / q) * q + 0.0
    nan_c = agg(masks.nan_bin.astype(np.float64), "mean") > 0.5
    keep = ~nan_c
    idx = np.flatnonzero(keep)
    starts = idx * f * r
    ends = np.minimum(starts + f * r, L)
    return merge_runs(starts.astype(np.int64), ends.astype(np.int64), lfc[idx])
