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
| `genes.gtf` | gene, transcript and exon lines (1-based), attributes gene_id, transcript_id, gene_name (shared by orthologs), gene_type |
| `tss.bed` | `chrom tss tss+1 gene_id 0 strand` |

## Shared
| file | content |
|---|---|
| `alignment/human_to_mouse.chain` | UCSC chain, target = human, query = mouse; exactly the bases that descend from the same ancestral base; `-` query strand from inversions |
| `human/variants.vcf.gz` (+ `.tbi`) | VCFv4.2 sites-only SNPs on the human genome, REF matches the FASTA, INFO `AF`; labels are in `truth/variants.tsv` |
| `simulation.json` | crossreg version, preset, seed, resolved params, genome sizes, track counts, measured alignment identity |

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

## Model in one paragraph
Occupancy of a site is `sigmoid((score - threshold) / tau)`; accessibility in a cell type is
`sigmoid(slope * (D + CpG - threshold))` where `D` sums `activity * weight * occupancy` of
sites within {coop} bp; CAGE at a TSS is `strength * P * (basal + gain * E)`, `E` summing
accessibility within {reach} bp with decay `exp(-d / {decay})`. Measurements add depth,
gamma-Poisson noise, GC bias, NaN in unmappable sequence and blacklist artefacts.

## This world
{stats}
"""


def write_readme(path: str | os.PathLike, params: dict, preset: str, seed: int, version: str, stats: str) -> None:
    """Write the world's README.md."""
    reg = params["regulation"]
    text = README_TEMPLATE.format(preset=preset, seed=seed, version=version, stats=stats,
                                  coop=reg["cooperativity_window"], reach=reg["max_link_distance"],
                                  decay=reg["link_decay"])
    with atomic_open(Path(path), "w") as out:
        out.write(text)
