"""Genes and regulatory elements of a descendant genome: the ancestral layout mapped through
each base's ancestry, plus the enhancers this lineage gained.

Ancestral elements keep their identifier (``E000123``) in both genomes, so elements and genes
are orthologous by identifier; gained elements are named ``HG...`` (human) / ``MG...`` (mouse).
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd

from crossreg.simulate.evolution import ANCESTRAL, INDEL_INSERTION, INSERTION, Genome
from crossreg.simulate.grammar import Grammar, Layout, plant_gained

GENE_PREFIX = {"human": "HS", "mouse": "MM"}


@dataclasses.dataclass
class GenomeFeatures:
    """Annotation of one descendant genome (0-based half-open coordinates).

    Attributes:
        genes: one row per gene: gene_id, gene_name, chrom, start, end, strand (+/-), tss,
            program, strength, anc_gene (index in the ancestral layout).
        exons: gene_id -> int64 (n_exons, 2) exon [start, end) sorted by position.
        elements: one row per element: element_id, kind (promoter|enhancer|ctcf), chrom, start,
            end, program, gene_id (target or '.'), origin (ancestral|gained), lost (bool: its
            sites were destroyed in this lineage), intact (fraction of its ancestral bases kept).
        planted: one row per planted site: element_id, tf, chrom, start, end, strand.
    """

    genes: pd.DataFrame
    exons: dict[str, np.ndarray]
    elements: pd.DataFrame
    planted: pd.DataFrame


def _map_interval(genome: Genome, a0: int, a1: int) -> tuple[int, int, int, int, float]:
    """(chrom index, start, end, orientation, kept fraction) of ancestral [a0, a1); chrom -1 if lost."""
    ch = genome.inv_chrom[a0:a1]
    ok = ch >= 0
    if not ok.any():
        return -1, 0, 0, 0, 0.0
    first = int(np.flatnonzero(ok)[0])
    ci = int(ch[first])
    same = ok & (ch == ci)
    pos = genome.inv_pos[a0:a1][same]
    return ci, int(pos.min()), int(pos.max()) + 1, int(genome.inv_ori[a0 + first]), float(same.mean())


def map_features(layout: Layout, genome: Genome, grammar: Grammar, lost: list[int]) -> GenomeFeatures:
    """Map the ancestral layout onto a descendant genome.

    Args:
        layout: ancestral genes, elements and planted sites.
        genome: the descendant (``inv_*`` filled).
        grammar: TF names.
        lost: indices of ancestral elements whose sites this lineage destroyed.

    Returns:
        :class:`GenomeFeatures` (genes or elements wholly deleted are left out).
    """
    species = genome.name
    names = [c.name for c in genome.chroms]
    genes, exons = [], {}
    for g in range(layout.gene_start.size):
        ci, s, e, o, _ = _map_interval(genome, int(layout.gene_start[g]), int(layout.gene_end[g]))
        tss_anc = int(layout.gene_tss[g])
        if ci < 0 or genome.inv_chrom[tss_anc] != ci:
            continue
        gid = f"{GENE_PREFIX[species]}G{g + 1:05d}"
        strand = int(layout.gene_strand[g]) * o
        ex = []
        for a, b in layout.exons[g]:
            eci, es, ee, _, _ = _map_interval(genome, int(a), int(b))
            if eci == ci:
                ex.append((es, ee))
        exons[gid] = np.asarray(sorted(ex), dtype=np.int64).reshape(-1, 2)
        genes.append({"gene_id": gid, "gene_name": f"Gene{g + 1:05d}", "chrom": names[ci], "start": s, "end": e,
                      "strand": "+" if strand > 0 else "-", "tss": int(genome.inv_pos[tss_anc]),
                      "program": layout.gene_program[g], "strength": float(layout.gene_strength[g]),
                      "anc_gene": g})
    gene_ids = {row["anc_gene"]: row["gene_id"] for row in genes}
    lost_set = set(lost)
    elements = []
    for i, kind in enumerate(layout.el_kind):
        ci, s, e, _, kept = _map_interval(genome, layout.el_start[i], layout.el_end[i])
        if ci < 0:
            continue
        tgt = layout.el_gene[i]
        elements.append({"element_id": f"E{i + 1:06d}", "kind": kind, "chrom": names[ci], "start": s, "end": e,
                         "program": layout.el_program[i], "gene_id": gene_ids.get(tgt, ".") if tgt >= 0 else ".",
                         "origin": "ancestral", "lost": i in lost_set, "intact": round(kept, 4)})
    planted = []
    for j in range(layout.site_start.size):
        a0 = int(layout.site_start[j])
        ci, s, e, o, kept = _map_interval(genome, a0, a0 + int(layout.site_width[j]))
        if ci < 0 or kept < 1.0 or e - s != int(layout.site_width[j]):
            continue
        planted.append({"element_id": f"E{int(layout.site_el[j]) + 1:06d}",
                        "tf": grammar.tfs[int(layout.site_tf[j])].name, "chrom": names[ci], "start": s, "end": e,
                        "strand": "+" if int(layout.site_strand[j]) * o > 0 else "-"})
    order = {n: i for i, n in enumerate(names)}
    return GenomeFeatures(_sorted(pd.DataFrame(genes), order, "gene_id"), exons,
                          _sorted(pd.DataFrame(elements), order, "element_id"),
                          _sorted(pd.DataFrame(planted), order, "tf"))


def _sorted(df: pd.DataFrame, order: dict[str, int], tie: str) -> pd.DataFrame:
    """Rows sorted by chromosome order, start, then ``tie``."""
    if df.empty:
        return df
    df = df.assign(_o=df.chrom.map(order)).sort_values(["_o", "start", tie], kind="stable").drop(columns="_o")
    return df.reset_index(drop=True)


def add_gained(features: GenomeFeatures, genome: Genome, params: dict, grammar: Grammar, n_total: int,
               rng: np.random.Generator) -> None:
    """Plant ``n_total`` lineage-specific enhancers (spread over chromosomes by length) in place.

    New enhancers avoid existing elements, gaps, repeats and duplications, and sit mostly within
    tens of kb of a TSS. They are appended to ``features.elements`` / ``features.planted``.
    """
    prefix = "HG" if genome.name == "human" else "MG"
    lengths = np.asarray([len(c) for c in genome.chroms], dtype=np.float64)
    per = rng.multinomial(n_total, lengths / lengths.sum()) if n_total > 0 else np.zeros(lengths.size, int)
    els, planted = [], []
    count = 0
    for ci, c in enumerate(genome.chroms):
        free = np.isin(c.kind, [ANCESTRAL, INSERTION, INDEL_INSERTION]) & ~c.unmap & (c.seq < 4)
        if len(features.elements):
            sub = features.elements[features.elements.chrom == c.name]
            for s, e in zip(sub.start, sub.end):
                free[max(0, s - 300):e + 300] = False
        tss = features.genes.loc[features.genes.chrom == c.name, "tss"].to_numpy(np.int64) \
            if len(features.genes) else np.zeros(0, np.int64)
        for s, e, prog, sites in plant_gained(params, grammar, c.seq, free, tss, int(per[ci]), rng):
            count += 1
            eid = f"{prefix}{count:05d}"
            els.append({"element_id": eid, "kind": "enhancer", "chrom": c.name, "start": s, "end": e,
                        "program": prog, "gene_id": ".", "origin": "gained", "lost": False, "intact": 1.0})
            for tf, st, strand in sites:
                w = grammar.tfs[tf].width
                planted.append({"element_id": eid, "tf": grammar.tfs[tf].name, "chrom": c.name, "start": st,
                                "end": st + w, "strand": "+" if strand > 0 else "-"})
    if els:
        order = {c.name: i for i, c in enumerate(genome.chroms)}
        features.elements = _sorted(pd.concat([features.elements, pd.DataFrame(els)], ignore_index=True),
                                    order, "element_id")
        features.planted = _sorted(pd.concat([features.planted, pd.DataFrame(planted)], ignore_index=True),
                                   order, "tf")
