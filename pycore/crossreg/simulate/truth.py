"""Writers of the simulated world's truth tables and of its README.

All tables are tab-separated with a header line; coordinates are 0-based half-open unless a
column says otherwise (``pos`` of variants is 1-based, as in the VCF).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd

from crossreg.io.atomic import atomic_open
from crossreg.simulate.features import GenomeFeatures
from crossreg.simulate.grammar import Grammar
from crossreg.simulate.signals import ActivityModel, ChromActivity


def write_tsv(path: str | os.PathLike, df: pd.DataFrame) -> None:
    """Write a DataFrame as TSV (no index, floats with 6 significant digits), atomically."""
    with atomic_open(path, "w", newline="") as out:
        df.to_csv(out, sep="\t", index=False, float_format="%.6g", lineterminator="\n")


def tf_tables(grammar: Grammar) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """(tfs, cell_types, tf_activity) truth tables.

    * tfs: tf, motif_id, width, threshold (bits), max_score (bits), weight.
    * cell_types: cell_type, genomes (comma-separated), program_tfs (tf=activity, ...).
    * tf_activity: genome, cell_type, tf, activity (long format, every TF x cell type of a genome).
    """
    tfs = pd.DataFrame([{"tf": t.name, "motif_id": t.motif.id, "width": t.width, "threshold": round(t.threshold, 4),
                         "max_score": round(t.max_score, 4), "weight": t.weight} for t in grammar.tfs])
    cts = pd.DataFrame([{"cell_type": c.name, "genomes": ",".join(c.genomes),
                         "program_tfs": ",".join(f"{k}={v}" for k, v in c.tfs.items())} for c in grammar.cell_types])
    rows = []
    for genome, mat in grammar.activity.items():
        for j, cell in enumerate(grammar.cells[genome]):
            for i, t in enumerate(grammar.tfs):
                rows.append({"genome": genome, "cell_type": cell, "tf": t.name, "activity": round(float(mat[i, j]), 4)})
    return tfs, cts, pd.DataFrame(rows)


def element_activity(features: GenomeFeatures, chrom: str, act: ChromActivity, r: int, cells: list[str]
                     ) -> pd.DataFrame:
    """Mean accessibility of each element of ``chrom`` per cell type (columns access_<cell>)."""
    el = features.elements[features.elements.chrom == chrom]
    cs = np.concatenate([np.zeros((act.access.shape[0], 1)), np.cumsum(act.access, axis=1, dtype=np.float64)],
                        axis=1)
    b0 = el.start.to_numpy(np.int64) // r
    b1 = np.maximum((el.end.to_numpy(np.int64) - 1) // r + 1, b0 + 1)
    mean = (cs[:, b1] - cs[:, b0]) / (b1 - b0)
    out = pd.DataFrame({"element_id": el.element_id.to_numpy()})
    for c, name in enumerate(cells):
        out[f"access_{name}"] = np.round(mean[c], 4)
    return out


def site_table(features: GenomeFeatures, chrom: str, act: ChromActivity, model: ActivityModel,
               min_occupancy: float = 0.5) -> pd.DataFrame:
    """Scanned sites with occupancy >= ``min_occupancy`` on one chromosome.

    Columns: chrom, start, end, tf, strand, score, occupancy, element_id ('.' outside elements),
    planted (True where the simulator planted this very site).
    """
    s = act.sites.select(act.sites.occupancy >= min_occupancy)
    names = [t.name for t in model.grammar.tfs]
    el = features.elements[features.elements.chrom == chrom]
    st, en, ids = el.start.to_numpy(np.int64), el.end.to_numpy(np.int64), el.element_id.to_numpy()
    centre = s.start + model.widths[s.tf] // 2
    j = np.searchsorted(st, centre, side="right") - 1
    inside = (j >= 0) & (centre < en[np.clip(j, 0, None)]) if st.size else np.zeros(len(s), bool)
    element = np.where(inside, ids[np.clip(j, 0, None)] if st.size else ".", ".")
    pl = features.planted[features.planted.chrom == chrom] if not features.planted.empty else features.planted
    planted_keys = set(zip(pl.tf, pl.start, pl.strand)) if len(pl) else set()
    tf_names = np.asarray(names, dtype=object)[s.tf]
    strand = np.where(s.strand > 0, "+", "-")
    planted = [(t, int(a), b) in planted_keys for t, a, b in zip(tf_names, s.start, strand)]
    return pd.DataFrame({"chrom": chrom, "start": s.start, "end": s.start + model.widths[s.tf], "tf": tf_names,
                         "strand": strand, "score": np.round(s.score.astype(np.float64), 3),
                         "occupancy": np.round(s.occupancy.astype(np.float64), 4), "element_id": element,
                         "planted": planted})


def link_table(features: GenomeFeatures, chrom: str, act: ChromActivity, model: ActivityModel,
               tss: np.ndarray, gene_ids: list[str]) -> pd.DataFrame:
    """Enhancer -> gene links on one chromosome: every element within ``max_link_distance`` of a TSS.

    Columns: gene_id, element_id, kind, distance (element centre - TSS, bp), decay
    (exp(-|d| / link_decay), 0 within 1 kb), e_<cell> (the element's part of the gene's E).
    """
    r = model.r
    el = features.elements[features.elements.chrom == chrom]
    if el.empty or tss.size == 0:
        return pd.DataFrame()
    centre = ((el.start + el.end) // 2).to_numpy(np.int64)
    reach = model.reg["max_link_distance"]
    rows = []
    for g, t in enumerate(tss):
        tb = int(t) // r
        for k in np.flatnonzero(np.abs(centre - t) <= reach):
            e = el.iloc[k]
            bins = np.arange(int(e.start) // r, (int(e.end) - 1) // r + 1)
            idx = bins - tb + model.link_bins
            ok = (idx >= 0) & (idx < model.link_kernel.size)
            part = act.access[:, bins[ok]].astype(np.float64) @ model.link_kernel[idx[ok]]
            if not np.any(part > 0):
                continue
            d = int(centre[k] - t)
            row = {"gene_id": gene_ids[g], "element_id": e.element_id, "kind": e.kind, "distance": d,
                   "decay": round(float(np.exp(-abs(d) / model.reg["link_decay"])) if abs(d) > 1000 else 0.0, 5)}
            for c, name in enumerate(model.cells):
                row[f"e_{name}"] = round(float(part[c]), 5)
            rows.append(row)
    return pd.DataFrame(rows)


README_TEMPLATE = """# Simulated two-genome world (crossreg simulate)

Written by `crossreg simulate --preset {preset} --seed {seed}` (crossreg {version}). Everything
here is synthetic: an ancestral genome evolved into a human-like genome (`human`) and a
mouse-like genome (`mouse`), with a shared regulatory grammar built from real JASPAR 2024 TF
motifs, measured by simulated assays. The same seed and params give byte-identical files.
`simulation.json` holds the fully resolved params. Coordinates are 0-based half-open unless
said otherwise; chromosomes are `chr1`, `chr2`, ... in each genome.

## Per genome: `human/` and `mouse/` (the inputs a user brings, SPEC section 1)
| file | content |
|---|---|
| `genome.fa.gz` (+ `.fai`, `.gzi`) | bgzipped FASTA, upper case, N gaps at telomeres, centromeres and a few internal gaps |
| `targets.txt` | one row per track: `index genome identifier file clip clip_soft scale sum_stat description group` (tab-separated; `file` relative to this folder; `description` `ASSAY:cell` or `CHIP:TF:cell`; `group` shared by replicates) |
| `tracks/<identifier>.bw` | one bigWig per track, header lists every chromosome. DNASE/ATAC: per-base coverage in 16-bp runs (`sum`); CAGE: 5' read counts at single bases (`sum`); CHIP: log2 fold change over input in 64-bp piecewise runs, with negatives (`mean`). No data (NaN) in unmappable sequence and N gaps; huge artefactual signal in blacklisted artefact regions |
| `blacklist.bed` | `chrom start end name`: name `artefact` (ENCODE-blacklist-like high-signal regions, some on satellites), `satellite`, `simple_repeat` (RepeatMasker-like) |
| `unmappable.bed` | `chrom start end name`: segmental duplications (both copies), satellites, simple repeats (many shorter than 32 bp) |
| `genes.gtf` | GENCODE-style GTF (1-based, inclusive): per gene one `gene`, one `transcript`, its `exon` lines, and its coding structure: `CDS` (frame = GTF phase; excludes the stop codon), `start_codon` (first 3 bp of the CDS, in the first exon), `stop_codon` (the 3 bp after the CDS, in the last exon) and `UTR` (every exonic base outside the CDS, stop codon included, so CDS + UTR = exons; a UTR upstream of the CDS in transcription direction is the 5' UTR, downstream the 3' UTR). Attributes gene_id, transcript_id (`<gene_id>.1`), gene_name (shared by orthologs), gene_type (`protein_coding`; `lncRNA` for the rare transcript whose first or last exon is too short for a codon), exon_number (transcription order) |
| `tss.bed` | `chrom tss tss+1 gene_id 0 strand` |

## Shared
| file | content |
|---|---|
| `alignment/human_to_mouse.chain` | UCSC chain, target = human, query = mouse; exactly the bases that descend from the same ancestral base; `-` query strand from inversions |
| `human/variants.vcf.gz` (+ `.tbi`) | VCFv4.2 sites-only SNPs on the human genome, REF matches the FASTA, INFO `AF`; labels are in `truth/variants.tsv` |
| `human/ld_panel/<chrom>.bed`, `.bim`, `.fam` | PLINK 1 binary genotypes of the LD reference panel ({panel} people, ids `LDP0001`...), one file set per human chromosome. bim: chrom, SNP id `hs<chromosome number>_<1-based position>`, cM (position x recombination rate x 100), bp (1-based), A1 = ALT, A2 = REF (the FASTA base); genotypes count A1 (ALT) copies |
| `human/ld_blocks.bed` | `chrom start end name`: contiguous, non-overlapping blocks tiling each chromosome that has panel SNPs, about {per_block} SNPs each (boundaries midway between neighbouring SNPs), for block-wise sign-flip / jackknife |
| `human/panel_snps.vcf.gz` (+ `.tbi`) | sites-only VCFv4.2 of exactly the panel SNPs: ID = bim SNP id, REF/ALT as in the bim, INFO `AF` = ALT frequency in the panel |
| `human/eqtl/<Tissue>.pairs.tsv.gz` | eQTL summary statistics of one tissue (gzip, tab-separated, header `gene SNP A1 A2 Z N`): every cis pair (SNP within {cis:,} bp of the gene's TSS) of a cohort of {cohort} people (not the panel people); A1 = ALT, A2 = REF; Z = OLS t statistic of expression on ALT dosage (N - 2 df); rows by gene (genome order), then SNP position |
| `human/denovo.tsv` | de novo SNPs, tab-separated, header `family_id individual_id role chrom pos ref alt`: {families} families (`F001`...), each with one case (`<family>.p1`, role `case`) and one sibling control (`<family>.s1`, role `control`); pos 1-based; REF = the FASTA base; no position twice within one individual |
| `simulation.json` | crossreg version, preset, seed, resolved params, genome sizes, track counts, measured alignment identity, panel SNP and block counts, per-tissue eQTL summary, de novo counts |

## Truth: `truth/`
| file | columns |
|---|---|
| `tfs.tsv` | tf, motif_id (JASPAR 2024 cluster), width, threshold (log2-odds bits at half occupancy), max_score, weight (drive of one occupied site) |
| `cell_types.tsv` | cell_type, genomes, program_tfs (TF=activity before jitter) |
| `tf_activity.tsv` | genome, cell_type, tf, activity (ubiquitous TFs included; matched cell types differ between genomes only by jitter) |
| `orthologs.tsv` | gene_name, human_gene_id, human_chrom, human_tss, mouse_gene_id, mouse_chrom, mouse_tss, human_strand, mouse_strand |
| `variants.tsv` | id, chrom, pos (1-based), ref, alt, label (`causal_break`, `causal_create`, `neutral`), context (`motif`, `background`, `element`), tf, site_start, site_strand, ref_score, alt_score, element_id, expected_sign (-1, +1, 0 for neutral), best_cell, dnase_delta_<cell> (expected change of summed DNase coverage over the locus at depth 1), cage_delta_<cell> (expected change of CAGE reads at TSSs within reach), cage_gene |
| `<genome>/segments.tsv` | chrom, start, end, kind (`syntenic_block`, `insertion` = lineage-specific unaligned sequence, `indel_insertion` >= 50 bp, `satellite`, `gap`, `segdup` (copy), `segdup_source`, `simple_repeat`), block, anc_start, anc_end, orientation |
| `<genome>/elements.tsv` | element_id (ancestral `E...` ids are shared by orthologous elements; gained `HG...`/`MG...`), kind (promoter, enhancer, ctcf), chrom, start, end, program (cell types joined by `+`, or `ubiquitous`), gene_id (intended target), origin (ancestral, gained), lost (sites destroyed in this lineage), intact (fraction of ancestral bases kept), access_<cell> (mean noise-free accessibility 0-1) |
| `<genome>/planted_sites.tsv` | element_id, tf, chrom, start, end, strand: the PWM instances the simulator wrote |
| `<genome>/motif_sites.tsv` | chrom, start, end, tf, strand, score, occupancy, element_id, planted: every site with occupancy >= 0.5 in the final sequence (what the signal model uses) |
| `<genome>/genes.tsv` | gene_id, gene_name, chrom, start, end, strand, tss, program, strength, P_<cell> (promoter accessibility), E_<cell> (distance-weighted enhancer input), cage_<cell> (expected CAGE reads at depth 1) |
| `<genome>/links.tsv` | gene_id, element_id, kind, distance (element centre - TSS), decay, e_<cell> (the element's part of E) |
| `<genome>/artefacts.tsv` | chrom, start, end, source (satellite, high_signal), fold |
| `<genome>/tracks.tsv` | identifier, assay, cell_type, tf, replicate, group, depth |
| `eqtl_tissues.tsv` | tissue, cell_type (the human cell type it stands for), n_samples (cohort size), n_genes (genes with at least one cis SNP), n_genes_nonzero (of those, genes with a non-zero true effect of some panel SNP), n_genes_with_effects (genes given a genetic component, see below), mean_cis_h2 (their realised mean cis heritability in the cohort) |
| `human/panel_snps.tsv` | snp, chrom, pos (1-based), ref, alt, af (panel ALT frequency), cohort_af (eQTL cohort ALT frequency), element_id (the element containing the SNP, `.` outside), cage_delta_<cell> (expected change of CAGE reads summed over genes for one ALT allele), dnase_delta_<cell> (expected change of summed DNase coverage at depth 1); exactly 0 for SNPs that touch no scanned site and no CpG |
| `human/snp_gene_effects.tsv` | snp, gene_id, cage_delta_<cell>: the true per-gene effect (expected change of the gene's CAGE reads at depth 1 for one ALT allele) of every SNP-gene pair with a non-zero effect in some cell type; every other pair is exactly 0 |
| `human/eqtl_genes.tsv` | tissue, cell_type, gene_id, chrom, tss, n_cis_snps, n_causal_snps (panel SNPs with a non-zero effect on the gene), genetic_sd (SD of the genetic value in the cohort, CAGE reads), expected_cage (the gene's expected CAGE reads in the cell type), has_effect (genetic_sd >= {min_rel} x (expected_cage + 1)), h2 (realised cis heritability, 0 without effect), top_snp, top_effect (the SNP with the largest absolute effect, `.` and 0 if none) |
| `human/denovo.tsv` | family_id, individual_id, role, chrom, pos, ref, alt, label (`disruptive_{dn_cell}`: motif-breaking in an element active in {dn_cell}; `background`: uniform over mappable sequence), tf (TF whose site is broken, `.` for background), element_id (the broken site's element, else the element containing the SNP, `.` outside), dnase_delta_<cell>, cage_delta_<cell>, cage_gene (most affected gene, `.` if none) |

## Model in one paragraph
Occupancy of a site is `sigmoid((score - threshold) / tau)`; accessibility in a cell type is
`sigmoid(slope * (D + CpG - threshold))` where `D` sums `activity * weight * occupancy` of
sites within {coop} bp; CAGE at a TSS is `strength * P * (basal + gain * E)`, `E` summing
accessibility within {reach} bp with decay `exp(-d / {decay})`. Measurements add depth,
gamma-Poisson noise, GC bias, NaN in unmappable sequence and blacklist artefacts.

## Population, eQTL and de novo model
Genotypes: per human chromosome, msprime (Hudson coalescent) simulates {n_people} diploid people
of one population of effective size {ne:,}{bottleneck}, recombination {rec:g} per bp per generation,
binary mutations at {mu:g} per bp per generation; chromosomes are independent. Kept: sites with
one mutation on mappable A/C/G/T bases with MAF >= {maf} in the panel and in the cohort, thinned to
{density:g} SNPs per Mb, a SNP inside an element weighing {enrich:g} times more in the thinning.
ALT is the derived allele (or the ancestral one where the reference genome carries the derived).
The first {panel} people are the LD panel, the other {cohort} the eQTL cohort. The true effect of
a SNP on a gene in a cell type is the exact change of the model's expected CAGE for one ALT
allele; a gene's genetic value is the sum over SNPs of dosage x effect; genes with effects get
expression `sqrt({h2}) x standardised genetic value + sqrt(1 - {h2}) x N(0, 1)` (cis h2 = {h2}),
other genes pure N(0, 1) noise, independently per tissue. De novo SNPs: Poisson({dn_n:g}) per
individual; each case SNP is a motif-breaking mutation in a {dn_cell}-active element with
probability {dn_frac:g} (the site's most informative consensus base changed to the least likely
base, expected {dn_cell} DNase change <= -{dn_min:g}).

## This world
{stats}
"""


def write_readme(path: str | os.PathLike, params: dict, preset: str, seed: int, version: str, stats: str) -> None:
    """Write the world's README.md."""
    reg, pop, eq, dn = params["regulation"], params["population"], params["eqtl"], params["denovo"]
    bottleneck = (f" (size {pop['bottleneck_size']:,} between {pop['bottleneck_generations'][0]:g} and "
                  f"{pop['bottleneck_generations'][1]:g} generations ago)" if pop["bottleneck_size"] > 0 else "")
    text = README_TEMPLATE.format(preset=preset, seed=seed, version=version, stats=stats,
                                  coop=reg["cooperativity_window"], reach=reg["max_link_distance"],
                                  decay=reg["link_decay"], panel=pop["panel_size"], cohort=pop["cohort_size"],
                                  n_people=pop["panel_size"] + pop["cohort_size"], ne=pop["effective_size"],
                                  bottleneck=bottleneck, rec=pop["recombination_rate"], mu=pop["mutation_rate"],
                                  maf=pop["min_maf"], density=pop["snps_per_mb"], enrich=pop["element_enrichment"],
                                  per_block=pop["snps_per_block"], cis=eq["cis_window"], h2=eq["h2"],
                                  min_rel=eq["min_relative_sd"], families=dn["families"],
                                  dn_n=dn["snvs_per_individual"], dn_cell=dn["cell_type"],
                                  dn_frac=dn["disruptive_fraction"], dn_min=dn["min_abs_effect"])
    with atomic_open(Path(path), "w") as out:
        out.write(text)
