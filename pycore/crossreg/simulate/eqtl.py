"""Per-tissue eQTL summary statistics from the planted regulatory effects.

One tissue per human cell type (GTEx-like names from ``eqtl.tissues``). The true effect of panel
SNP m on gene g in the tissue of cell type c is the simulator's exact expected change of g's
CAGE reads (depth 1) in c for one ALT allele (:meth:`EffectModel.gene_effects`; SNPs that change
no scanned site and no CpG have exactly 0, see :meth:`EffectModel.changed`). The genetic value
of cohort person i is ``G[i, g] = sum_m dosage[i, m] * beta[m, g]`` (additive in ALT copies).
Genes whose genetic SD in the cohort is at least ``eqtl.min_relative_sd`` times their expected
CAGE reads in that cell type (``truth/human/genes.tsv``, plus 1 read) "have effects":
their expression is ``sqrt(h2) * standardised G + sqrt(1 - h2) * noise`` with ``h2 = eqtl.h2``;
every other gene's expression is pure noise (standard normal, independent per tissue). Z of a
cis pair (SNP within ``eqtl.cis_window`` bp of the TSS) is the OLS t statistic of the slope of
expression on dosage (with intercept) in the cohort, N - 2 degrees of freedom.
"""

from __future__ import annotations

import dataclasses
import gzip
import logging
from pathlib import Path

import numpy as np
import pandas as pd

from crossreg.io.atomic import atomic_path
from crossreg.simulate.features import GenomeFeatures
from crossreg.simulate.population import ChromPanel
from crossreg.simulate.sequence import ALPHABET
from crossreg.simulate.variants import ChromGenes, EffectModel, elements_at

log = logging.getLogger(__name__)

DEFAULT_TISSUES = {"liver": "Liver", "brain": "Brain_Cortex", "heart": "Heart_Left_Ventricle",
                   "tcell": "Whole_Blood", "keratinocyte": "Skin"}


def tissue_map(params: dict, human_cells: list[str]) -> list[tuple[str, str]]:
    """(tissue name, cell type) of every eQTL tissue, in the order of ``human_cells``.

    Cell types come from ``eqtl.cell_types`` (empty: every human cell type); names from
    ``eqtl.tissues`` (a cell type without a name there gets its name capitalised).
    """
    wanted = params["eqtl"]["cell_types"] or list(human_cells)
    names = params["eqtl"]["tissues"]
    return [(str(names.get(c, c[:1].upper() + c[1:])), c) for c in human_cells if c in wanted]


def eqtl_tissues(params: dict) -> list[tuple[str, str]]:
    """(tissue name, cell type) of every eQTL tissue, from the resolved params alone.

    The simulator writes ``human/eqtl/<tissue>.pairs.tsv.gz`` for each, in this order; known
    before it runs (``crossreg run`` plans one ``sldp-aggregate`` step per tissue). The human
    cell types are the params' ``cell_types`` assayed in human, then the synthetic ``ct01``...
    (assayed in every genome), the column order of the grammar's human activities.
    """
    human = [str(c["name"]) for c in params["cell_types"] if "human" in c["genomes"]]
    human += [f"ct{i + 1:02d}" for i in range(int(params["synthetic_cell_types"]))]
    return tissue_map(params, human)


@dataclasses.dataclass
class ChromEffects:
    """True effects of one chromosome's m panel SNPs (n_cells cell types).

    Attributes:
        dnase: float64 (m, n_cells) expected change of summed DNase coverage (depth 1).
        cage: float64 (m, n_cells) expected change of CAGE reads summed over genes.
        snp: int64 (k,) SNP index of each non-zero SNP-gene effect.
        gene: int64 (k,) gene index (into the chromosome's genes) of each.
        beta: float64 (k, n_cells) its expected change of the gene's CAGE reads for one ALT allele.
        changed: bool (m,) SNPs that touch a scanned site or a CpG (the others are exactly 0).
    """

    dnase: np.ndarray
    cage: np.ndarray
    snp: np.ndarray
    gene: np.ndarray
    beta: np.ndarray
    changed: np.ndarray

    def dense(self, cell: int, n_genes: int) -> np.ndarray:
        """float64 (m, n_genes) per-gene effects in one cell type."""
        b = np.zeros((self.dnase.shape[0], n_genes))
        b[self.snp, self.gene] = self.beta[:, cell]
        return b


def chrom_effects(em: EffectModel, panel: ChromPanel) -> ChromEffects:
    """Exact effects of every SNP of ``panel`` (:meth:`EffectModel.batch_gene_effects`)."""
    n_cells = len(em.model.cells)
    cage = np.zeros((panel.pos.size, n_cells))
    snps, gidxs, betas = [], [], []
    changed, dnase, per_snp = em.batch_gene_effects(panel.ci, panel.pos, panel.alt)
    for j, item in enumerate(per_snp):
        if item is not None and item[0].size:
            gidx, per = item
            cage[j] = em.summarise(panel.ci, gidx, per, n_cells)[0]
            nz = np.abs(per).max(axis=1) > 0
            snps.append(np.full(int(nz.sum()), j, np.int64))
            gidxs.append(gidx[nz])
            betas.append(per[nz])
    if snps:
        return ChromEffects(dnase, cage, np.concatenate(snps), np.concatenate(gidxs), np.concatenate(betas), changed)
    return ChromEffects(dnase, cage, np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros((0, n_cells)), changed)


PAIRS_HEADER = ("gene", "SNP", "A1", "A2", "Z", "N")


def write_pairs(path: Path, gene: list[str], snp: list[str], a1: list[str], a2: list[str], z: np.ndarray,
                n: int) -> None:
    """Write ``<Tissue>.pairs.tsv.gz``: header ``gene SNP A1 A2 Z N``, Z with 4 decimals.

    Gzip without time stamp or file name in its header (byte-identical reruns), written atomically.
    """
    body = "".join(f"{g}\t{s}\t{x}\t{y}\t{v:.4f}\t{n}\n"
                   for g, s, x, y, v in zip(gene, snp, a1, a2, np.asarray(z, dtype=np.float64).tolist()))
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as raw, gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0,
                                                    compresslevel=6) as gz:
            gz.write(("\t".join(PAIRS_HEADER) + "\n" + body).encode("ascii"))


def ols_z(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """OLS t statistics of the slope of every y column on every x column (with intercept).

    Args:
        x: (n, m) dosages; y: (n, g) expression.

    Returns:
        float64 (m, g); 0 where x or y is constant.
    """
    n = x.shape[0]
    xc = x - x.mean(axis=0)
    yc = y - y.mean(axis=0)
    sx = np.sqrt((xc * xc).sum(axis=0))
    sy = np.sqrt((yc * yc).sum(axis=0))
    with np.errstate(invalid="ignore", divide="ignore"):
        r = (xc.T @ yc) / np.outer(sx, sy)
        r = np.clip(np.nan_to_num(r), -1 + 1e-12, 1 - 1e-12)
        return r * np.sqrt((n - 2) / (1 - r * r))


def simulate_eqtl(params: dict, em: EffectModel, panels: list[ChromPanel], genes: list[ChromGenes],
                  features: GenomeFeatures, out: Path, rngs: dict[str, np.random.Generator]
                  ) -> tuple[dict, dict[str, pd.DataFrame]]:
    """Effects, expression and eQTL statistics; writes ``eqtl/<Tissue>.pairs.tsv.gz`` under ``out``.

    Args:
        params: resolved params.
        em: the human genome's effect model.
        panels: per-chromosome SNPs and genotypes (:mod:`crossreg.simulate.population`).
        genes: per-chromosome genes (same order as the genome's chromosomes).
        features: human annotation (element ids of SNPs).
        out: the human folder.
        rngs: tissue name -> its noise stream.

    Returns:
        (summary ``{"dir", "tissues": {name: path}, "pairs"}``, truth tables ``panel_snps``,
        ``snp_gene_effects``, ``eqtl_tissues``, ``eqtl_genes``).
    """
    ep = params["eqtl"]
    cells = em.model.cells
    tissues = eqtl_tissues(params)
    if tissues != tissue_map(params, cells):  # the params and the grammar must agree on the human cell types
        raise RuntimeError(f"eqtl: tissues {tissues} of the params differ from {tissue_map(params, cells)} of the model")
    window, h2, min_rel = int(ep["cis_window"]), float(ep["h2"]), float(ep["min_relative_sd"])
    cage_scale = float(params["assays"]["cage"]["strength_median"])
    effects = [chrom_effects(em, p) for p in panels]
    n_changed = sum(int(e.changed.sum()) for e in effects)
    log.info("eqtl: %d of %d panel SNPs touch a site or a CpG", n_changed, sum(p.pos.size for p in panels))

    # truth: panel SNPs and per-gene effects
    snp_rows, eff_rows = [], []
    for p, e in zip(panels, effects):
        eid = elements_at(features, p.chrom, p.pos)
        df = pd.DataFrame({"snp": p.ids, "chrom": p.chrom, "pos": p.pos + 1,
                           "ref": ["ACGT"[x] for x in p.ref], "alt": ["ACGT"[x] for x in p.alt],
                           "af": np.round(p.panel_af, 4), "cohort_af": np.round(p.cohort_af, 4),
                           "element_id": eid})
        for c, name in enumerate(cells):
            df[f"cage_delta_{name}"] = np.round(e.cage[:, c], 6)
        for c, name in enumerate(cells):
            df[f"dnase_delta_{name}"] = np.round(e.dnase[:, c], 6)
        snp_rows.append(df)
        if e.snp.size:
            order = np.lexsort((e.gene, e.snp))
            er = pd.DataFrame({"snp": np.asarray(p.ids, dtype=object)[e.snp[order]],
                               "gene_id": np.asarray(genes[p.ci].gene_id, dtype=object)[e.gene[order]]})
            for c, name in enumerate(cells):
                er[f"cage_delta_{name}"] = e.beta[order, c]
            eff_rows.append(er)
    panel_snps = pd.concat(snp_rows, ignore_index=True)
    eff_cols = ["snp", "gene_id"] + [f"cage_delta_{c}" for c in cells]
    snp_gene = pd.concat(eff_rows, ignore_index=True) if eff_rows else pd.DataFrame(columns=eff_cols)

    # expression and statistics per tissue
    edir = out / "eqtl"
    summary = {"dir": str(edir), "tissues": {}, "pairs": 0}
    tissue_rows, gene_rows = [], []
    n_cohort = panels[0].cohort.shape[0]
    for tissue, cell in tissues:
        c = cells.index(cell)
        rng = rngs[tissue]
        parts, h2s, n_genes, n_eff, n_nonzero = [], [], 0, 0, 0
        for p, e in zip(panels, effects):
            cg = genes[p.ci]
            ng = len(cg.gene_id)
            if ng == 0:
                continue
            noise = rng.standard_normal((n_cohort, ng))
            x = p.cohort.astype(np.float64)
            b = e.dense(c, ng)  # (m, ng)
            gval = x @ b  # (n, ng)
            sd = gval.std(axis=0)
            expected = cg.strength * cg.P[:, c] * (params["regulation"]["promoter_basal"]
                                                   + params["regulation"]["link_gain"] * cg.E[:, c]) * cage_scale
            has = (sd > 0) & (sd >= min_rel * (expected + 1.0))
            gpart = np.zeros_like(noise)
            gpart[:, has] = np.sqrt(h2) * (gval[:, has] - gval[:, has].mean(axis=0)) / sd[has]
            y = np.where(has, gpart + np.sqrt(1.0 - h2) * noise, noise)
            realised = np.where(has, gpart.var(axis=0) / y.var(axis=0), 0.0)
            z = ols_z(x, y)
            cis = np.abs(p.pos[:, None] - cg.tss[None, :]) <= window  # (m, ng)
            n_cis = cis.sum(axis=0)
            n_causal = (b != 0).sum(axis=0)
            top = np.abs(b).argmax(axis=0) if b.shape[0] else np.zeros(ng, np.int64)
            for g in range(ng):
                gene_rows.append({"tissue": tissue, "cell_type": cell, "gene_id": cg.gene_id[g], "chrom": p.chrom,
                                  "tss": int(cg.tss[g]), "n_cis_snps": int(n_cis[g]),
                                  "n_causal_snps": int(n_causal[g]), "genetic_sd": round(float(sd[g]), 6),
                                  "expected_cage": round(float(expected[g]), 3), "has_effect": bool(has[g]),
                                  "h2": round(float(realised[g]), 4),
                                  "top_snp": p.ids[top[g]] if n_causal[g] else ".",
                                  "top_effect": round(float(b[top[g], g]), 6) if n_causal[g] else 0.0})
            tested = n_cis > 0
            n_genes += int(tested.sum())
            n_eff += int((has & tested).sum())
            n_nonzero += int(((n_causal > 0) & tested).sum())
            h2s += realised[has & tested].tolist()
            gi, si = np.nonzero(cis.T)  # gene-major, SNPs by position
            if gi.size:
                parts.append((np.asarray(cg.gene_id, dtype=object)[gi].tolist(),
                              np.asarray(p.ids, dtype=object)[si].tolist(),
                              [chr(ALPHABET[a]) for a in p.alt[si]], [chr(ALPHABET[r]) for r in p.ref[si]],
                              z[si, gi]))
        path = edir / f"{tissue}.pairs.tsv.gz"
        flat = [[v for part in parts for v in part[k]] for k in range(4)]
        z_all = np.concatenate([part[4] for part in parts]) if parts else np.zeros(0)
        write_pairs(path, *flat, z_all, n_cohort)
        n_pairs = z_all.size
        summary["tissues"][tissue] = str(path)
        summary["pairs"] += n_pairs
        tissue_rows.append({"tissue": tissue, "cell_type": cell, "n_samples": n_cohort, "n_genes": n_genes,
                            "n_genes_nonzero": n_nonzero, "n_genes_with_effects": n_eff,
                            "mean_cis_h2": round(float(np.mean(h2s)), 4) if h2s else 0.0})
    truth = {"panel_snps": panel_snps, "snp_gene_effects": snp_gene,
             "eqtl_tissues": pd.DataFrame(tissue_rows), "eqtl_genes": pd.DataFrame(gene_rows)}
    return summary, truth
