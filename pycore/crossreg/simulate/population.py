"""A genotyped human population with realistic LD: an LD reference panel and an eQTL cohort.

Per human chromosome, :func:`msprime.sim_ancestry` draws the genealogy of
``population.panel_size + population.cohort_size`` diploid people (constant effective size
``effective_size``, optionally a bottleneck of ``bottleneck_size`` between
``bottleneck_generations`` generations ago; ``recombination_rate`` per bp per generation) and
:func:`msprime.sim_mutations` puts mutations on it (``mutation_rate``, binary alleles, discrete
genome). Chromosomes are simulated independently (no LD between them).

Kept are sites with a single mutation, on A/C/G/T bases that are mappable, whose minor allele
frequency is at least ``min_maf`` in the panel and in the cohort. They are thinned to
``snps_per_mb`` SNPs per Mb of chromosome by weighted sampling without replacement: a candidate
inside a regulatory element (``truth/human/elements.tsv``) weighs ``element_enrichment``, any
other 1. REF is the genome base; ALT a different base (transitions with odds
``evolution.transition_fraction``). ALT is the derived allele, except where the reference
genome is drawn to carry the derived allele (with probability its frequency), where ALT is the
ancestral one. Genotypes count ALT copies (0, 1, 2).
"""

from __future__ import annotations

import dataclasses
import logging
from pathlib import Path

import msprime
import numpy as np

from crossreg.errors import InputError
from crossreg.io.atomic import atomic_path
from crossreg.io.writers import write_bed, write_vcf
from crossreg.simulate.evolution import Genome
from crossreg.simulate.features import GenomeFeatures
from crossreg.simulate.sequence import ALPHABET, N, mutate_bases

log = logging.getLogger(__name__)


@dataclasses.dataclass
class ChromPanel:
    """The SNPs of one chromosome and everybody's genotypes at them (m SNPs).

    Attributes:
        chrom: chromosome name.
        ci: chromosome index in the genome.
        pos: int64 (m,) 0-based positions, increasing.
        ref: uint8 (m,) REF base codes (the genome's bases).
        alt: uint8 (m,) ALT base codes.
        ids: list of m SNP ids ``hs<chromosome number>_<1-based position>``.
        cm: float64 (m,) genetic position (cM) = position * recombination_rate * 100.
        panel: int8 (n_panel, m) ALT copies of the LD reference panel.
        cohort: int8 (n_cohort, m) ALT copies of the eQTL cohort.
    """

    chrom: str
    ci: int
    pos: np.ndarray
    ref: np.ndarray
    alt: np.ndarray
    ids: list[str]
    cm: np.ndarray
    panel: np.ndarray
    cohort: np.ndarray

    @property
    def panel_af(self) -> np.ndarray:
        """float64 (m,) ALT frequency in the panel."""
        return self.panel.mean(axis=0, dtype=np.float64) / 2.0

    @property
    def cohort_af(self) -> np.ndarray:
        """float64 (m,) ALT frequency in the cohort."""
        return self.cohort.mean(axis=0, dtype=np.float64) / 2.0


def _demography(pp: dict) -> msprime.Demography:
    dem = msprime.Demography()
    dem.add_population(name="pop", initial_size=float(pp["effective_size"]))
    if pp["bottleneck_size"] > 0:
        t0, t1 = pp["bottleneck_generations"]
        dem.add_population_parameters_change(time=float(t0), initial_size=float(pp["bottleneck_size"]),
                                             population="pop")
        dem.add_population_parameters_change(time=float(t1), initial_size=float(pp["effective_size"]),
                                             population="pop")
    return dem


def _element_mask(features: GenomeFeatures, chrom: str, length: int) -> np.ndarray:
    m = np.zeros(length, dtype=bool)
    el = features.elements[features.elements.chrom == chrom]
    for s, e in zip(el.start, el.end):
        m[int(s):int(e)] = True
    return m


def simulate_chromosome(params: dict, genome: Genome, features: GenomeFeatures, ci: int,
                        rng: np.random.Generator) -> ChromPanel:
    """Genotypes of the panel and the cohort at the kept SNPs of chromosome ``ci``.

    Args:
        params: resolved params (sections ``population`` and ``evolution``).
        genome: the human genome.
        features: its annotation (elements for the enrichment).
        ci: chromosome index.
        rng: the chromosome's random stream (msprime seeds, thinning, alleles).

    Returns:
        :class:`ChromPanel` (possibly with 0 SNPs).
    """
    pp = params["population"]
    c = genome.chroms[ci]
    L = len(c)
    n_panel, n_cohort = int(pp["panel_size"]), int(pp["cohort_size"])
    seeds = rng.integers(1, 2**31 - 1, size=2)
    ts = msprime.sim_ancestry(samples=n_panel + n_cohort, ploidy=2, demography=_demography(pp),
                              sequence_length=L, recombination_rate=float(pp["recombination_rate"]),
                              discrete_genome=True, random_seed=int(seeds[0]))
    ts = msprime.sim_mutations(ts, rate=float(pp["mutation_rate"]), model=msprime.BinaryMutationModel(),
                               discrete_genome=True, random_seed=int(seeds[1]))
    site_pos = ts.tables.sites.position.astype(np.int64)
    n_mut = np.bincount(ts.tables.mutations.site, minlength=site_pos.size)
    ok = (n_mut == 1) & (c.seq[site_pos] < N) & ~c.unmap[site_pos]
    keep_sites = np.flatnonzero(ok)
    ts = ts.delete_sites(np.flatnonzero(~ok))
    # frequencies in panel (first n_panel people = first 2 * n_panel sample nodes) and cohort
    samples = ts.samples()
    panel_nodes = samples[: 2 * n_panel]
    cnt_panel = np.zeros(ts.num_sites, dtype=np.int64)
    cnt_all = np.zeros(ts.num_sites, dtype=np.int64)
    for tree in ts.trees(tracked_samples=panel_nodes):
        for site in tree.sites():
            node = site.mutations[0].node
            cnt_panel[site.id] = tree.num_tracked_samples(node)
            cnt_all[site.id] = tree.num_samples(node)
    f_panel = cnt_panel / (2.0 * n_panel)
    f_cohort = (cnt_all - cnt_panel) / (2.0 * n_cohort)
    maf = float(pp["min_maf"])
    good = (np.minimum(f_panel, 1 - f_panel) >= maf) & (np.minimum(f_cohort, 1 - f_cohort) >= maf)
    cand = np.flatnonzero(good)
    target = int(round(pp["snps_per_mb"] * L / 1e6))
    if cand.size > target:
        w = np.where(_element_mask(features, c.name, L)[site_pos[keep_sites[cand]]],
                     float(pp["element_enrichment"]), 1.0)
        chosen = np.sort(rng.choice(cand.size, size=target, replace=False, p=w / w.sum()))
        cand = cand[chosen]
    elif cand.size < target:
        log.info("%s: %d SNPs pass the filters, fewer than the %d asked for", c.name, cand.size, target)
    ts = ts.delete_sites(np.setdiff1d(np.arange(ts.num_sites), cand))
    g = ts.genotype_matrix().astype(np.int8)  # (m, 2 * n_people) derived-allele indicators
    dosage = g[:, 0::2] + g[:, 1::2]  # (m, n_people)
    pos = ts.tables.sites.position.astype(np.int64)
    ref = c.seq[pos].copy()
    alt = mutate_bases(rng, ref, float(params["evolution"]["transition_fraction"]))
    freq = dosage.mean(axis=1) / 2.0
    flip = rng.random(pos.size) < freq  # the reference genome carries the derived allele
    dosage = np.where(flip[:, None], 2 - dosage, dosage).astype(np.int8)
    ids = [f"hs{c.name.removeprefix('chr')}_{p + 1}" for p in pos]
    cm = pos * float(pp["recombination_rate"]) * 100.0
    return ChromPanel(c.name, ci, pos, ref, alt, ids, cm, np.ascontiguousarray(dosage[:, :n_panel].T),
                      np.ascontiguousarray(dosage[:, n_panel:].T))


def simulate_population(params: dict, genome: Genome, features: GenomeFeatures,
                        rngs: list[np.random.Generator]) -> list[ChromPanel]:
    """:func:`simulate_chromosome` for every chromosome (``rngs[ci]`` each).

    Raises:
        InputError: when no chromosome keeps a single SNP.
    """
    panels = [simulate_chromosome(params, genome, features, ci, rngs[ci]) for ci in range(len(genome.chroms))]
    if sum(p.pos.size for p in panels) == 0:
        raise InputError("params: the population has no SNP passing 'population.min_maf'; raise "
                         "'population.mutation_rate' or 'population.snps_per_mb', or lower 'population.min_maf'")
    return panels


def ld_blocks(panels: list[ChromPanel], sizes: list[tuple[str, int]], snps_per_block: int
              ) -> list[tuple[str, int, int, str]]:
    """Contiguous, non-overlapping blocks covering each chromosome with a roughly equal SNP count.

    A chromosome with m SNPs gets ``max(1, round(m / snps_per_block))`` blocks; boundaries lie
    midway between neighbouring SNPs; the first block starts at 0 and the last ends at the
    chromosome's end. Chromosomes without SNPs get no block.

    Returns:
        BED rows (chrom, start, end, name ``blk<NNNN>``), 0-based half-open.
    """
    length = dict(sizes)
    rows, k = [], 0
    for p in panels:
        m = p.pos.size
        if m == 0:
            continue
        nb = max(1, int(round(m / snps_per_block)))
        cuts = np.linspace(0, m, nb + 1).round().astype(int)
        bounds = [0] + [int((p.pos[j - 1] + p.pos[j]) // 2) + 1 for j in cuts[1:-1]] + [length[p.chrom]]
        for a, b in zip(bounds[:-1], bounds[1:]):
            k += 1
            rows.append((p.chrom, a, b, f"blk{k:04d}"))
    return rows


def write_panel(out: Path, panels: list[ChromPanel], sizes: list[tuple[str, int]], snps_per_block: int
                ) -> dict:
    """Write ``ld_panel/<chrom>.bed/.bim/.fam``, ``ld_blocks.bed`` and ``panel_snps.vcf.gz`` under ``out``.

    Returns:
        ``{"ld_panel": dir, "ld_blocks": path, "blocks": n, "panel_vcf": path, "snps": n}``.
    """
    from bed_reader import to_bed

    pdir = out / "ld_panel"
    pdir.mkdir(parents=True, exist_ok=True)
    for p in panels:
        if p.pos.size == 0:
            continue
        n = p.panel.shape[0]
        props = {"fid": [f"LDP{i + 1:04d}" for i in range(n)], "iid": [f"LDP{i + 1:04d}" for i in range(n)],
                 "father": ["0"] * n, "mother": ["0"] * n, "sex": [0] * n, "pheno": ["-9"] * n,
                 "chromosome": [p.chrom] * p.pos.size, "sid": p.ids,
                 "cm_position": np.round(p.cm, 6).tolist(), "bp_position": (p.pos + 1).tolist(),
                 "allele_1": [chr(ALPHABET[a]) for a in p.alt], "allele_2": [chr(ALPHABET[r]) for r in p.ref]}
        with atomic_path(pdir / f"{p.chrom}.bed") as bed, atomic_path(pdir / f"{p.chrom}.bim") as bim, \
                atomic_path(pdir / f"{p.chrom}.fam") as fam:
            to_bed(bed, p.panel, properties=props, count_A1=True, fam_filepath=fam, bim_filepath=bim,
                   num_threads=1)
    blocks = ld_blocks(panels, sizes, snps_per_block)
    write_bed(out / "ld_blocks.bed", blocks)
    recs = []
    for p in panels:
        af = p.panel_af
        for i in range(p.pos.size):
            recs.append((p.chrom, int(p.pos[i]) + 1, p.ids[i], chr(ALPHABET[p.ref[i]]), chr(ALPHABET[p.alt[i]]),
                         ".", "PASS", f"AF={af[i]:.4f}"))
    vcf = out / "panel_snps.vcf.gz"
    write_vcf(vcf, sizes, recs, meta=["source=crossreg simulate (LD reference panel SNPs)",
                                      "reference=genome.fa.gz"],
              info=['ID=AF,Number=A,Type=Float,Description="ALT allele frequency in the LD reference panel"'])
    return {"ld_panel": str(pdir), "ld_blocks": str(out / "ld_blocks.bed"), "blocks": len(blocks),
            "panel_vcf": str(vcf), "snps": len(recs)}

